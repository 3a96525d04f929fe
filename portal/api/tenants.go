package api

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/tenants/config"
)

func tenantPath(slug string) string {
	return "/api/v1/tenants/" + url.PathEscape(slug)
}

func (h *handlers) listTenants(c *fiber.Ctx) (int, any, error) {
	tenants, err := h.store.ListTenants(requestContext(c))
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

	tenant, err := h.store.CreateTenant(requestContext(c), input)
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
