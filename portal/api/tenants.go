package api

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

func tenantPath(slug string) string {
	return "/api/v1/tenants/" + url.PathEscape(slug)
}

func (h *handlers) listTenants(c *fiber.Ctx) (int, any, error) {
	var (
		tenants []store.Tenant
		err     error
	)
	if who := principalOf(c); who.operator {
		tenants, err = h.store.ListTenants(requestContext(c))
	} else {
		tenants, err = h.store.ListTenantsOf(requestContext(c), who.user.ID)
	}
	if err != nil {
		return failed(err)
	}
	return ok(tenants)
}

func (h *handlers) createTenant(c *fiber.Ctx) (int, any, error) {
	var input config.Tenant
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	var (
		tenant store.Tenant
		err    error
	)
	if who := principalOf(c); who.operator {
		tenant, err = h.store.CreateTenant(requestContext(c), input)
	} else {
		tenant, err = h.store.CreateTenantOwned(requestContext(c), input, who.user.ID)
	}
	if err != nil {
		return failed(err)
	}
	return created(c, tenantPath(tenant.Slug), tenant)
}

func (h *handlers) getTenant(c *fiber.Ctx) (int, any, error) {
	tenant, err := h.store.GetTenant(requestContext(c), c.Params("slug"))
	if err != nil {
		return failed(err)
	}
	return ok(tenant)
}

func (h *handlers) updateTenant(c *fiber.Ctx) (int, any, error) {
	var input config.Tenant
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	tenant, err := h.store.UpdateTenant(requestContext(c), c.Params("slug"), input)
	if err != nil {
		return failed(err)
	}
	return ok(tenant)
}

func (h *handlers) deleteTenant(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeleteTenant(requestContext(c), c.Params("slug")); err != nil {
		return failed(err)
	}
	return noContent()
}
