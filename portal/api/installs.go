package api

import (
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/plugins-marketplace/signing"
	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/redact"
	"portcullis.dev/portal/store"
)

// installRequest is the body of POST and PUT .../installs: version pins an
// exact version, range follows the newest version in a range. Send one.
type installRequest struct {
	// Plugin is required in POST. In PUT it is optional and must match
	// the path.
	Plugin  string `json:"plugin"`
	Version string `json:"version"`
	Range   string `json:"range"`
}

func installPath(slug, plugin string) string {
	return "/api/v1/tenants/" + url.PathEscape(slug) + "/installs/" + plugin
}

func (h *handlers) listInstalls(c *fiber.Ctx) (int, any, error) {
	installs, err := h.store.ListInstalls(requestContext(c), c.Params("slug"))
	if err != nil {
		return failed(err)
	}
	for i := range installs {
		hideHeldBackMessage(c, &installs[i])
	}
	return ok(installs)
}

// hideHeldBackMessage replaces the message of a held-back version with
// redact.Placeholder for a caller who may read the tenant but not edit it.
// The message can quote the config of the binding that fails the version,
// such as a header value set from a token, and viewers see no secrets of a
// binding's config.
func hideHeldBackMessage(c *fiber.Ctx, install *store.Install) {
	if install.HeldBack == nil || roleOf(c).Allows(accounts.RoleDeveloper) {
		return
	}
	hidden := *install.HeldBack
	hidden.Message = redact.Placeholder
	install.HeldBack = &hidden
}

func (h *handlers) createInstall(c *fiber.Ctx) (int, any, error) {
	var input installRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}
	install, err := h.store.CreateInstall(requestContext(c), c.Params("slug"), store.InstallRequest(input))
	if err != nil {
		return failed(err)
	}
	return created(c, installPath(c.Params("slug"), install.Plugin), install)
}

func (h *handlers) getInstall(c *fiber.Ctx) (int, any, error) {
	install, err := h.store.GetInstall(requestContext(c), c.Params("slug"), installParam(c))
	if err != nil {
		return failed(err)
	}
	hideHeldBackMessage(c, &install)
	return ok(install)
}

func (h *handlers) updateInstall(c *fiber.Ctx) (int, any, error) {
	var input installRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}
	install, err := h.store.UpdateInstall(requestContext(c), c.Params("slug"), installParam(c), store.InstallRequest(input))
	if err != nil {
		return failed(err)
	}
	return ok(install)
}

func (h *handlers) rollbackInstall(c *fiber.Ctx) (int, any, error) {
	install, err := h.store.RollbackInstall(requestContext(c), c.Params("slug"), installParam(c))
	if err != nil {
		return failed(err)
	}
	return ok(install)
}

func (h *handlers) deleteInstall(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeleteInstall(requestContext(c), c.Params("slug"), installParam(c)); err != nil {
		return failed(err)
	}
	return noContent()
}

func (h *handlers) listPluginWarnings(c *fiber.Ctx) (int, any, error) {
	warnings, err := h.store.PluginWarnings(requestContext(c), c.Params("slug"))
	if err != nil {
		return failed(err)
	}
	return ok(warnings)
}

// installParam returns the plugin of an install path: ":plugin", or
// ":namespace/:plugin".
func installParam(c *fiber.Ctx) string {
	if namespace := c.Params("namespace"); namespace != "" {
		return namespace + "/" + c.Params("plugin")
	}
	return c.Params("plugin")
}

// registerInstalls adds the tenant's install endpoints, each with a bare
// plugin name and with "namespace/name" in two path segments, and the
// try endpoint of a route.
func (h *handlers) registerInstalls(v1 fiber.Router) {
	v1.Get("/tenants/:slug/installs", handle(h.listInstalls))
	v1.Post("/tenants/:slug/installs", handle(h.createInstall))
	v1.Get("/tenants/:slug/plugin-warnings", handle(h.listPluginWarnings))

	for _, prefix := range []string{"/tenants/:slug/installs/:plugin", "/tenants/:slug/installs/:namespace/:plugin"} {
		v1.Post(prefix+"/rollback", handle(h.rollbackInstall))
	}
	for _, prefix := range []string{"/tenants/:slug/installs/:plugin", "/tenants/:slug/installs/:namespace/:plugin"} {
		v1.Get(prefix, handle(h.getInstall))
		v1.Put(prefix, handle(h.updateInstall))
		v1.Delete(prefix, handle(h.deleteInstall))
	}

	v1.Post("/tenants/:slug/routes/:name/try", handle(h.tryRoute))
}

// registerEdgePluginKey adds GET /api/v1/edge/plugin-key, which returns
// the public key that verifies plugin signatures to an edge with a token.
func (h *handlers) registerEdgePluginKey(app *fiber.App) {
	app.Get("/api/v1/edge/plugin-key", h.requireEdgeToken, handle(h.edgePluginKey))
}

func (h *handlers) edgePluginKey(c *fiber.Ctx) (int, any, error) {
	if h.pluginKey == nil {
		return failed(newProblem(http.StatusNotFound, "not-found", "Not found", "this portal has no plugin signing key, so it publishes unsigned versions"))
	}
	return ok(map[string]string{"algorithm": "ed25519", "public_key": signing.EncodePublicKey(h.pluginKey)})
}
