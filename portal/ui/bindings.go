package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/redact"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// bindingsData is the data of the binding list.
type bindingsData struct {
	Bindings []bindingRow
}

type bindingRow struct {
	ID      string
	Plugin  string
	Version string
	// Route is empty for a binding of every route.
	Route string
	// Consumer is set for a binding of one consumer.
	Consumer string
	Enabled  bool
	// FollowsInstall marks a binding that runs the tenant's installed
	// version of its plugin and moves along when the install changes.
	FollowsInstall bool
	// Config is the config as JSON, with secrets redacted for viewers.
	Config string
}

// bindingForm is the data of the binding form: the run fields and the
// inputs generated from the plugin version's config schema.
type bindingForm struct {
	// Editing is the id of the binding being edited, empty to create.
	Editing   string
	Plugin    string
	Version   string
	Route     string
	Consumer  string
	Enabled   bool
	Routes    []string
	Consumers []string
	Fields    []formField
	// Install is the tenant's install of the plugin, nil when the tenant
	// has not installed it. The create form offers to follow it.
	Install *store.Install
	// Follows is set when the binding follows the install. The create form
	// sets it from the user's choice and keeps Version as the version
	// chosen in the marketplace. The edit form sets it from the stored
	// binding, and Version is then the version that the binding runs.
	Follows bool
	// Duplicates lists the ids of the tenant's bindings of the same plugin
	// at the same scope, found when a new binding is submitted. The form
	// then shows a warning with the "create anyway" button.
	Duplicates string
}

func (s *server) bindingsPage(c *fiber.Ctx, view pageView) error {
	return s.renderBindings(c, view, http.StatusOK)
}

func (s *server) renderBindings(c *fiber.Ctx, view pageView, status int) error {
	ctx := c.UserContext()
	bindings, err := s.store.ListBindings(ctx, view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	following, err := s.store.ListFollowingBindings(ctx, view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}

	// Viewers see secrets redacted, like GET .../bindings in the API.
	var schemas *store.BindingSchemas
	if !view.Role.Allows(accounts.RoleDeveloper) {
		schemas = s.store.BindingSchemas(view.Tenant)
	}
	rows := make([]bindingRow, 0, len(bindings))
	for _, binding := range bindings {
		configJSON, err := configText(ctx, schemas, binding)
		if err != nil {
			return s.showFailure(c, view, err)
		}
		rows = append(rows, bindingRow{
			ID: binding.ID, Plugin: binding.Plugin, Version: binding.Version, Route: binding.Route,
			Consumer:       binding.Consumer,
			Enabled:        binding.Enabled == nil || *binding.Enabled,
			FollowsInstall: following[binding.ID],
			Config:         configJSON,
		})
	}
	view.Data = bindingsData{Bindings: rows}
	return renderConsole(c, status, "bindings", view)
}

// configText returns a binding's config for display, redacted by its
// plugin version's config schema unless schemas is nil.
func configText(ctx context.Context, schemas *store.BindingSchemas, binding config.Binding) (string, error) {
	if len(binding.Config) == 0 {
		return "{}", nil
	}
	if schemas == nil {
		return string(binding.Config), nil
	}

	schema, err := schemas.Schema(ctx, binding.Plugin, binding.Version)
	if err != nil {
		return "", err
	}
	redacted := redact.BySchema(binding.Config, schema)
	if redacted == nil {
		return "{}", nil
	}
	return string(redacted), nil
}

// newBindingPage shows the form for ?plugin= and ?version=.
func (s *server) newBindingPage(c *fiber.Ctx, view pageView) error {
	form := bindingForm{Plugin: c.Query("plugin"), Version: c.Query("version"), Enabled: true}
	if form.Plugin == "" || form.Version == "" {
		return seeOther(c, "/ui/marketplace?tenant="+url.QueryEscape(view.Tenant))
	}
	return s.renderBindingForm(c, view, http.StatusOK, form, nil)
}

// renderBindingForm renders the form. It generates the inputs from the
// schema and fills them from fill, or leaves the schema's defaults when
// fill is nil.
func (s *server) renderBindingForm(c *fiber.Ctx, view pageView, status int, form bindingForm, fill func([]formField)) error {
	ctx := c.UserContext()
	version, err := s.store.GetPluginVersion(ctx, form.Plugin, form.Version)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	fields, err := buildForm(version.ConfigSchema)
	if err != nil {
		return err
	}
	if fill != nil {
		fill(fields)
	}
	if form.Editing == "" && form.Install == nil {
		if form.Install, err = s.installOf(ctx, view.Tenant, form.Plugin); err != nil {
			return s.showFailure(c, view, err)
		}
	}
	routes, err := s.store.ListRoutes(ctx, view.Tenant)
	if err != nil {
		return s.showFailure(c, view, err)
	}

	consumers, _, err := s.store.ListConsumers(ctx, view.Tenant, store.Page{})
	if err != nil {
		return s.showFailure(c, view, err)
	}

	form.Fields = fields
	for _, route := range routes {
		form.Routes = append(form.Routes, route.Name)
	}
	for _, consumer := range consumers {
		form.Consumers = append(form.Consumers, consumer.Name)
	}
	view.Data = form
	return renderConsole(c, status, "binding_form", view)
}

// postedFields returns the schema's inputs for the posted plugin version.
func (s *server) postedFields(c *fiber.Ctx, plugin, version string) ([]formField, error) {
	published, err := s.store.GetPluginVersion(c.UserContext(), plugin, version)
	if err != nil {
		return nil, err
	}
	return buildForm(published.ConfigSchema)
}

func (s *server) createBinding(c *fiber.Ctx, view pageView) error {
	form := bindingForm{Plugin: c.FormValue("plugin"), Version: c.FormValue("version"), Route: c.FormValue("route"), Consumer: c.FormValue("consumer"), Enabled: c.FormValue("enabled") == "true", Follows: c.FormValue(followInstall) == "true"}
	if err := s.resolveFollow(c.UserContext(), view.Tenant, &form); err != nil {
		return s.bindingFailed(c, view, form, err)
	}

	// resolveFollow made sure that a following form is for the installed
	// version, so its inputs match the schema that the store checks.
	fields, err := s.postedFields(c, form.Plugin, form.Version)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	raw, err := assembleConfig(fields, formValues(c))
	if err == nil {
		form.Duplicates, err = s.duplicateBindings(c.UserContext(), view.Tenant, form)
	}
	if err == nil && form.Duplicates != "" && c.FormValue(confirmDuplicate) != "true" {
		return s.renderBindingForm(c, view, http.StatusConflict, form, func(fields []formField) { fillFromForm(fields, formValues(c)) })
	}
	var binding config.Binding
	if err == nil {
		binding, err = s.store.CreateBinding(c.UserContext(), view.Tenant, newBinding(form, raw))
	}
	if err != nil {
		return s.bindingFailed(c, view, form, err)
	}

	s.audit(c, view.session, "POST", apiTenantPath(view.Tenant, "bindings", binding.ID), nil, binding)
	return seeOther(c, tenantURL(view.Tenant, "bindings"))
}

// newBinding returns the binding to create. A binding that follows the
// install has an empty version, which the store resolves to the installed
// one.
func newBinding(form bindingForm, raw json.RawMessage) config.Binding {
	enabled := form.Enabled
	version := form.Version
	if form.Follows {
		version = ""
	}
	return config.Binding{Plugin: form.Plugin, Version: version, Route: form.Route, Consumer: form.Consumer, Config: raw, Enabled: &enabled}
}

func (s *server) bindingFailed(c *fiber.Ctx, view pageView, form bindingForm, err error) error {
	failure, status, err := problemOf(c, err)
	if err != nil {
		return err
	}
	view.Error = failure
	return s.renderBindingForm(c, view, status, form, func(fields []formField) { fillFromForm(fields, formValues(c)) })
}

func (s *server) editBindingPage(c *fiber.Ctx, view pageView) error {
	binding, err := s.store.GetBinding(c.UserContext(), view.Tenant, c.Params("id"))
	if err != nil {
		return s.showFailure(c, view, err)
	}

	form := bindingForm{Editing: binding.ID, Plugin: binding.Plugin, Version: binding.Version, Route: binding.Route, Consumer: binding.Consumer, Enabled: binding.Enabled == nil || *binding.Enabled}
	if form.Follows, err = s.bindingFollows(c.UserContext(), view.Tenant, binding.ID); err != nil {
		return s.showFailure(c, view, err)
	}
	return s.renderBindingForm(c, view, http.StatusOK, form, func(fields []formField) { fillFromConfig(fields, binding.Config) })
}

// updateBinding replaces the config, scope and enabled flag of a binding
// and keeps its other fields.
func (s *server) updateBinding(c *fiber.Ctx, view pageView) error {
	id := c.Params("id")
	ctx := c.UserContext()

	before, err := s.store.GetBinding(ctx, view.Tenant, id)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	form := bindingForm{Editing: id, Plugin: before.Plugin, Version: before.Version, Route: c.FormValue("route"), Consumer: c.FormValue("consumer"), Enabled: c.FormValue("enabled") == "true"}
	if form.Follows, err = s.bindingFollows(ctx, view.Tenant, id); err != nil {
		return s.showFailure(c, view, err)
	}

	fields, err := s.postedFields(c, before.Plugin, before.Version)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	raw, err := assembleConfig(fields, formValues(c))
	var after config.Binding
	if err == nil {
		patch := store.BindingPatch{Route: &form.Route, Consumer: &form.Consumer, Config: raw, Enabled: &form.Enabled}
		after, err = s.store.UpdateBinding(ctx, view.Tenant, id, patch)
	}
	if err != nil {
		return s.bindingFailed(c, view, form, err)
	}

	s.audit(c, view.session, "PATCH", apiTenantPath(view.Tenant, "bindings", id), before, after)
	return seeOther(c, tenantURL(view.Tenant, "bindings"))
}

func (s *server) deleteBinding(c *fiber.Ctx, view pageView) error {
	id := c.Params("id")
	ctx := c.UserContext()

	before, err := s.store.GetBinding(ctx, view.Tenant, id)
	if err == nil {
		err = s.store.DeleteBinding(ctx, view.Tenant, id)
	}
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderBindings(c, view, status)
	}

	s.audit(c, view.session, "DELETE", apiTenantPath(view.Tenant, "bindings", id), before, nil)
	return seeOther(c, tenantURL(view.Tenant, "bindings"))
}

// formValues returns the posted form's value lookup.
func formValues(c *fiber.Ctx) func(string) string {
	return func(key string) string { return c.FormValue(key) }
}
