package api

import (
	"encoding/json"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/redact"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// createBindingRequest is the body of POST .../bindings. The id is
// generated, so the body has none.
type createBindingRequest struct {
	Plugin  string `json:"plugin"`
	Version string `json:"version"`
	// Route is optional. Empty means every route of the tenant.
	Route string `json:"route"`
	// Consumer is optional. Set, the binding applies to that consumer's
	// requests on every route.
	Consumer string          `json:"consumer"`
	Config   json.RawMessage `json:"config"`

	Priority   *int     `json:"priority"`
	TimeoutMS  int      `json:"timeout_ms"`
	OnError    string   `json:"on_error"`
	Enabled    *bool    `json:"enabled"`
	AllowHosts []string `json:"allow_hosts"`
	// Tier is optional: "sandboxed", or "trusted" for the operator only.
	Tier string `json:"tier"`
}

// patchBindingRequest is the body of PATCH .../bindings/{id}. An absent
// field stays as it is. Plugin is accepted only to reject it with a clear
// message.
type patchBindingRequest struct {
	Plugin   *string         `json:"plugin"`
	Version  *string         `json:"version"`
	Route    *string         `json:"route"`
	Consumer *string         `json:"consumer"`
	Config   json.RawMessage `json:"config"`

	Priority   *int      `json:"priority"`
	TimeoutMS  *int      `json:"timeout_ms"`
	OnError    *string   `json:"on_error"`
	Enabled    *bool     `json:"enabled"`
	AllowHosts *[]string `json:"allow_hosts"`
	Tier       *string   `json:"tier"`
}

// listBindings returns one page of bindings in creation order: ?limit= as
// listPage reads it and ?after= the id of the previous page's last binding.
// ?plugin=, ?route= and ?consumer= keep the bindings of exactly that
// plugin, route or consumer.
func (h *handlers) listBindings(c *fiber.Ctx) (int, any, error) {
	page, err := listPage(c)
	if err != nil {
		return failed(err)
	}
	filter, err := bindingFilter(c)
	if err != nil {
		return failed(err)
	}

	bindings, more, err := h.store.ListBindingPage(requestContext(c), c.Params("slug"), page, filter)
	if err != nil {
		return failed(err)
	}
	if err := h.redactForReader(c, bindings); err != nil {
		return failed(err)
	}
	if len(bindings) > 0 {
		filters := map[string]string{"plugin": filter.Plugin, "route": filter.Route, "consumer": filter.Consumer}
		setNextLink(c, page, more, bindings[len(bindings)-1].ID, filters)
	}
	return ok(bindings)
}

// maxPluginFilterLength is the length of the longest plugin name,
// "namespace/name" with a namespace and a name of config.MaxNameLength
// bytes each.
const maxPluginFilterLength = 2*config.MaxNameLength + 1

// bindingFilter reads the filters of the binding list and rejects a value
// longer than any name it could match.
func bindingFilter(c *fiber.Ctx) (store.BindingFilter, error) {
	filter := store.BindingFilter{Plugin: c.Query("plugin"), Route: c.Query("route"), Consumer: c.Query("consumer")}

	if len(filter.Plugin) > maxPluginFilterLength {
		return store.BindingFilter{}, config.Invalid("plugin", "plugin filter is %d bytes long: use at most %d", len(filter.Plugin), maxPluginFilterLength)
	}
	if len(filter.Route) > config.MaxNameLength {
		return store.BindingFilter{}, config.Invalid("route", "route filter is %d bytes long: use at most %d", len(filter.Route), config.MaxNameLength)
	}
	if len(filter.Consumer) > config.MaxNameLength {
		return store.BindingFilter{}, config.Invalid("consumer", "consumer filter is %d bytes long: use at most %d", len(filter.Consumer), config.MaxNameLength)
	}
	return filter, nil
}

// redactForReader hides the secret fields of the bindings' configs, such
// as the keys of key-auth, from a caller who may read the tenant but not
// edit it, by the config schema of each binding's plugin version (see
// redact.BySchema). Editors see the configs whole, because they must be
// able to change them.
func (h *handlers) redactForReader(c *fiber.Ctx, bindings []config.Binding) error {
	if roleOf(c).Allows(accounts.RoleDeveloper) {
		return nil
	}

	schemas := h.store.BindingSchemas(c.Params("slug"))
	for i := range bindings {
		if len(bindings[i].Config) == 0 {
			continue
		}
		schema, err := schemas.Schema(requestContext(c), bindings[i].Plugin, bindings[i].Version)
		if err != nil {
			return err
		}
		bindings[i].Config = redact.BySchema(bindings[i].Config, schema)
	}
	return nil
}

func (h *handlers) createBinding(c *fiber.Ctx) (int, any, error) {
	var input createBindingRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}
	if err := checkTier(c, &input.Tier); err != nil {
		return failed(err)
	}

	slug := c.Params("slug")
	binding, err := h.store.CreateBinding(requestContext(c), slug, config.Binding{
		Plugin:   input.Plugin,
		Version:  input.Version,
		Route:    input.Route,
		Consumer: input.Consumer,
		Config:   input.Config,

		Priority:   input.Priority,
		TimeoutMS:  input.TimeoutMS,
		OnError:    input.OnError,
		Enabled:    input.Enabled,
		AllowHosts: input.AllowHosts,
		Tier:       input.Tier,
	})
	if err != nil {
		return failed(err)
	}
	return created(c, tenantPath(slug)+"/bindings/"+url.PathEscape(binding.ID), binding)
}

func (h *handlers) getBinding(c *fiber.Ctx) (int, any, error) {
	binding, err := h.store.GetBinding(requestContext(c), c.Params("slug"), c.Params("id"))
	if err != nil {
		return failed(err)
	}
	read := []config.Binding{binding}
	if err := h.redactForReader(c, read); err != nil {
		return failed(err)
	}
	return ok(read[0])
}

func (h *handlers) updateBinding(c *fiber.Ctx) (int, any, error) {
	var input patchBindingRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}
	if input.Plugin != nil {
		return failed(config.Invalid("plugin", "a binding's plugin cannot change: create a new binding for the other plugin"))
	}
	if err := checkTier(c, input.Tier); err != nil {
		return failed(err)
	}

	patch := store.BindingPatch{
		Version:    input.Version,
		Route:      input.Route,
		Consumer:   input.Consumer,
		Config:     input.Config,
		Priority:   input.Priority,
		TimeoutMS:  input.TimeoutMS,
		OnError:    input.OnError,
		Enabled:    input.Enabled,
		AllowHosts: input.AllowHosts,
		Tier:       input.Tier,
	}
	binding, err := h.store.UpdateBinding(requestContext(c), c.Params("slug"), c.Params("id"), patch)
	if err != nil {
		return failed(err)
	}
	return ok(binding)
}

func (h *handlers) deleteBinding(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeleteBinding(requestContext(c), c.Params("slug"), c.Params("id")); err != nil {
		return failed(err)
	}
	return noContent()
}

// checkTier lets only the operator move a binding to the trusted tier,
// where its hooks run inside the edge process.
func checkTier(c *fiber.Ctx, tier *string) error {
	if tier == nil || *tier != config.TierTrusted || principalOf(c).operator {
		return nil
	}
	return forbidden(`tier "trusted" runs a plugin inside the edge process and is for the operator only: leave tier empty or use "sandboxed"`)
}
