package ui

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
)

// installsData is the data of the tenant's plugin install page.
type installsData struct {
	Installs []store.Install
	// Plugins are the published plugin names that the form offers.
	Plugins []string
	Form    installForm
}

// installForm is the install form. Version is a pinned version, or a range
// that starts with "^" or "~".
type installForm struct {
	Plugin  string
	Version string
}

func (s *server) installsPage(c *fiber.Ctx, view pageView) error {
	form := installForm{Plugin: c.Query("plugin"), Version: c.Query("version")}
	return s.renderInstalls(c, view, http.StatusOK, form)
}

func (s *server) renderInstalls(c *fiber.Ctx, view pageView, status int, form installForm) error {
	ctx := c.UserContext()
	installs, err := s.store.ListInstalls(ctx, view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	plugins, err := s.store.ListPlugins(ctx)
	if err != nil {
		return err
	}

	data := installsData{Installs: installs, Form: form}
	for _, plugin := range plugins {
		data.Plugins = append(data.Plugins, plugin.Name)
	}
	view.Data = data
	return renderConsole(c, status, "installs", view)
}

// installRequest reads the form's plugin and its version or range.
func installRequest(form installForm) store.InstallRequest {
	request := store.InstallRequest{Plugin: form.Plugin}
	if strings.HasPrefix(form.Version, "^") || strings.HasPrefix(form.Version, "~") {
		request.Range = form.Version
	} else {
		request.Version = form.Version
	}
	return request
}

// saveInstall installs the plugin, or changes the version of an install
// that exists, like POST and PUT .../installs.
func (s *server) saveInstall(c *fiber.Ctx, view pageView) error {
	form := installForm{Plugin: strings.TrimSpace(c.FormValue("plugin")), Version: strings.TrimSpace(c.FormValue("version"))}
	ctx := c.UserContext()

	method := fiber.MethodPost
	before, err := s.store.GetInstall(ctx, view.Tenant, form.Plugin)
	var after store.Install
	switch {
	case err == nil:
		method = fiber.MethodPut
		after, err = s.store.UpdateInstall(ctx, view.Tenant, form.Plugin, installRequest(form))
	case isNotFound(err):
		after, err = s.store.CreateInstall(ctx, view.Tenant, installRequest(form))
	}
	if err != nil {
		return s.installFailed(c, view, form, err)
	}

	var previous any
	if method == fiber.MethodPut {
		previous = before
	}
	s.audit(c, view.session, method, apiTenantPath(view.Tenant, "installs")+"/"+after.Plugin, previous, after)
	return seeOther(c, tenantURL(view.Tenant, "installs"))
}

func (s *server) installFailed(c *fiber.Ctx, view pageView, form installForm, err error) error {
	failure, status, err := problemOf(c, err)
	if err != nil {
		return err
	}
	view.Error = failure
	return s.renderInstalls(c, view, status, form)
}

// rollbackInstall returns an install to its previous version.
func (s *server) rollbackInstall(c *fiber.Ctx, view pageView) error {
	plugin := c.FormValue("plugin")
	ctx := c.UserContext()

	before, err := s.store.GetInstall(ctx, view.Tenant, plugin)
	var after store.Install
	if err == nil {
		after, err = s.store.RollbackInstall(ctx, view.Tenant, plugin)
	}
	if err != nil {
		return s.installFailed(c, view, installForm{}, err)
	}

	s.audit(c, view.session, fiber.MethodPost, apiTenantPath(view.Tenant, "installs")+"/"+plugin+"/rollback", before, after)
	return seeOther(c, tenantURL(view.Tenant, "installs"))
}

func (s *server) deleteInstall(c *fiber.Ctx, view pageView) error {
	plugin := c.FormValue("plugin")
	ctx := c.UserContext()

	before, err := s.store.GetInstall(ctx, view.Tenant, plugin)
	if err == nil {
		err = s.store.DeleteInstall(ctx, view.Tenant, plugin)
	}
	if err != nil {
		return s.installFailed(c, view, installForm{}, err)
	}

	s.audit(c, view.session, fiber.MethodDelete, apiTenantPath(view.Tenant, "installs")+"/"+plugin, before, nil)
	return seeOther(c, tenantURL(view.Tenant, "installs"))
}
