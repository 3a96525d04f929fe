package api

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// publishRequest is the body of POST /api/v1/plugins.
type publishRequest struct {
	// Name is "name" in the operator's namespace, or "namespace/name".
	Name    string `json:"name"`
	Version string `json:"version"`
	Source  string `json:"source"`
	// Description is optional, a short summary for the catalogue.
	Description string `json:"description"`
	// ConfigSchema is optional. Absent or null means {"type":"object"}.
	ConfigSchema json.RawMessage `json:"config_schema"`
	// Priority is optional, the default priority of the version's bindings.
	Priority int `json:"priority"`
	// Readme is optional, the version's README in Markdown.
	Readme string `json:"readme"`
	// TestVectors is optional, a JSON array of test vectors that must pass
	// before the version is stored.
	TestVectors json.RawMessage `json:"test_vectors"`
}

// markRequest is the optional body of the deprecate and yank endpoints.
type markRequest struct {
	// Notice is shown to tenants with the warning, such as "use 1.2.4".
	Notice string `json:"notice"`
}

// pluginPath returns the path of a plugin: /api/v1/plugins/name or
// /api/v1/plugins/namespace/name.
func pluginPath(name string) string {
	namespace, base, found := strings.Cut(name, "/")
	if !found {
		return "/api/v1/plugins/" + url.PathEscape(name)
	}
	return "/api/v1/plugins/" + url.PathEscape(namespace) + "/" + url.PathEscape(base)
}

func pluginVersionPath(name, version string) string {
	return pluginPath(name) + "/versions/" + url.PathEscape(version)
}

// pluginParam returns the plugin name of the path: ":name", or
// ":namespace/:name" for the routes with a namespace segment.
func pluginParam(c *fiber.Ctx) string {
	if namespace := c.Params("namespace"); namespace != "" {
		return namespace + "/" + c.Params("name")
	}
	return c.Params("name")
}

// publisherOf returns the caller as a store.Publisher.
func publisherOf(c *fiber.Ctx) store.Publisher {
	caller := principalOf(c)
	return store.Publisher{Operator: caller.operator, UserID: caller.user.ID}
}

// listPlugins serves the catalogue: ?q= searches names and descriptions,
// ?namespace= limits it to one namespace, and ?page= counts from 1.
func (h *handlers) listPlugins(c *fiber.Ctx) (int, any, error) {
	query := store.BrowseQuery{Text: c.Query("q"), Namespace: c.Query("namespace")}
	if text := c.Query("page"); text != "" {
		page, err := strconv.Atoi(text)
		if err != nil || page < 1 || page > store.MaxBrowsePage {
			return failed(config.Invalid("page", "page %q is not an integer from 1 to %d: send a page number in that range", text, store.MaxBrowsePage))
		}
		query.Page = page
	}

	page, err := h.store.BrowsePlugins(requestContext(c), query)
	if err != nil {
		return failed(err)
	}
	return ok(page)
}

func (h *handlers) publishPlugin(c *fiber.Ctx) (int, any, error) {
	var input publishRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	by := publisherOf(c)
	version, err := h.store.PublishPlugin(requestContext(c), store.NewPluginVersion{
		Name:         input.Name,
		Version:      input.Version,
		Source:       input.Source,
		Description:  input.Description,
		ConfigSchema: input.ConfigSchema,
		Priority:     input.Priority,
		Readme:       input.Readme,
		TestVectors:  input.TestVectors,
		By:           &by,
	})
	if err != nil {
		return failed(err)
	}
	return created(c, pluginVersionPath(version.Name, version.Version), version)
}

func (h *handlers) getPlugin(c *fiber.Ctx) (int, any, error) {
	plugin, err := h.store.GetPlugin(requestContext(c), pluginParam(c))
	if err != nil {
		return failed(err)
	}
	return ok(plugin)
}

func (h *handlers) getPluginVersion(c *fiber.Ctx) (int, any, error) {
	version, err := h.store.GetPluginVersion(requestContext(c), pluginParam(c), c.Params("version"))
	if err != nil {
		return failed(err)
	}
	return ok(version)
}

func (h *handlers) deletePluginVersion(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeletePluginVersion(requestContext(c), pluginParam(c), c.Params("version")); err != nil {
		return failed(err)
	}
	return noContent()
}

// markPluginVersion returns the handler of the deprecate or yank endpoint.
func (h *handlers) markPluginVersion(mark string) endpoint {
	return func(c *fiber.Ctx) (int, any, error) {
		var input markRequest
		if len(c.Body()) > 0 {
			if err := decodeJSON(c, &input); err != nil {
				return failed(err)
			}
		}

		version, err := h.store.MarkPluginVersion(requestContext(c), publisherOf(c), pluginParam(c), c.Params("version"), mark, input.Notice)
		if err != nil {
			return failed(err)
		}
		return ok(version)
	}
}

func (h *handlers) pluginStats(c *fiber.Ctx) (int, any, error) {
	stats, err := h.store.PluginStats(requestContext(c), publisherOf(c), pluginParam(c))
	if err != nil {
		return failed(err)
	}
	return ok(stats)
}

// registerPlugins adds the plugin endpoints. Each path with a plugin name
// comes in two forms: /plugins/{name} for the operator's namespace and
// /plugins/{namespace}/{name}. The forms with a bare name come first, and
// "versions" and "stats" are reserved plugin names, so no path matches two
// routes.
func (h *handlers) registerPlugins(v1 fiber.Router) {
	v1.Get("/plugins", handle(h.listPlugins))
	v1.Post("/plugins", handle(h.publishPlugin))

	for _, prefix := range []string{"/plugins/:name", "/plugins/:namespace/:name"} {
		v1.Get(prefix+"/stats", handle(h.pluginStats))
		v1.Get(prefix+"/versions/:version", handle(h.getPluginVersion))
		v1.Delete(prefix+"/versions/:version", handle(h.deletePluginVersion))
		v1.Post(prefix+"/versions/:version/deprecate", handle(h.markPluginVersion(store.MarkDeprecate)))
		v1.Post(prefix+"/versions/:version/yank", handle(h.markPluginVersion(store.MarkYank)))
		v1.Post(prefix+"/versions/:version/review", handle(h.reviewPluginVersion))
	}
	v1.Get("/plugins/:name", handle(h.getPlugin))
	v1.Get("/plugins/:namespace/:name", handle(h.getPlugin))

	v1.Post("/namespaces", handle(h.createNamespace))
	v1.Get("/namespaces/:namespace", handle(h.getNamespace))
	v1.Post("/namespaces/:namespace/members", handle(h.addNamespaceMember))
}
