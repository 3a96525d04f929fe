package ui

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// settingsData is the data of a tenant's settings page.
type settingsData struct {
	Tenant store.Tenant
}

// CanDelete reports whether the session may delete the tenant, which
// takes the owner role like DELETE /api/v1/tenants/{slug}.
func (v pageView) CanDelete() bool { return v.Role.Allows(accounts.RoleOwner) }

func (s *server) settingsPage(c *fiber.Ctx, view pageView) error {
	return s.renderSettings(c, view, http.StatusOK, nil)
}

// renderSettings shows the tenant, with changed values in place of the
// stored ones after a failed form.
func (s *server) renderSettings(c *fiber.Ctx, view pageView, status int, changed *store.Tenant) error {
	tenant, err := s.store.GetTenant(c.UserContext(), view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	if changed != nil {
		tenant.Name, tenant.DebugHeaders = changed.Name, changed.DebugHeaders
	}
	view.Data = settingsData{Tenant: tenant}
	return renderConsole(c, status, "settings", view)
}

// updateSettings changes the tenant's name and debug headers, like PUT
// /api/v1/tenants/{slug}.
func (s *server) updateSettings(c *fiber.Ctx, view pageView) error {
	input := config.Tenant{Slug: view.Tenant, Name: strings.TrimSpace(c.FormValue("name")), DebugHeaders: c.FormValue("debug_headers") == "true"}
	ctx := c.UserContext()

	before, err := s.store.GetTenant(ctx, view.Tenant)
	var after store.Tenant
	if err == nil {
		after, err = s.store.UpdateTenant(ctx, view.Tenant, input)
	}
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderSettings(c, view, status, &store.Tenant{Name: input.Name, DebugHeaders: input.DebugHeaders})
	}

	s.audit(c, view.session, fiber.MethodPut, apiTenantPath(view.Tenant), before, after)
	return seeOther(c, tenantURL(view.Tenant, "settings"))
}

// deleteTenant deletes the tenant with everything in it. The form must
// repeat the slug, so that a stray click deletes nothing.
func (s *server) deleteTenant(c *fiber.Ctx, view pageView) error {
	if strings.TrimSpace(c.FormValue("confirm")) != view.Tenant {
		view.Error = &formError{Title: view.T.Get("settings.confirm_title"), Detail: view.T.Format("settings.confirm_detail", view.Tenant)}
		return s.renderSettings(c, view, http.StatusUnprocessableEntity, nil)
	}
	ctx := c.UserContext()

	before, err := s.store.GetTenant(ctx, view.Tenant)
	if err == nil {
		err = s.store.DeleteTenant(ctx, view.Tenant)
	}
	if err != nil {
		return s.showFailure(c, view, err)
	}

	s.audit(c, view.session, fiber.MethodDelete, apiTenantPath(view.Tenant), before, nil)
	return seeOther(c, "/ui/tenants")
}
