package api

import (
	"encoding/json"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
)

// publishRequest is the body of POST /api/v1/plugins.
type publishRequest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Source  string `json:"source"`
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

func pluginVersionPath(name, version string) string {
	return "/api/v1/plugins/" + url.PathEscape(name) + "/versions/" + url.PathEscape(version)
}

func (h *handlers) listPlugins(c *fiber.Ctx) (int, any, error) {
	plugins, err := h.store.ListPlugins(requestContext(c))
	if err != nil {
		return failed(err)
	}
	return ok(plugins)
}

func (h *handlers) publishPlugin(c *fiber.Ctx) (int, any, error) {
	var input publishRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	version, err := h.store.PublishPlugin(requestContext(c), store.NewPluginVersion{
		Name:         input.Name,
		Version:      input.Version,
		Source:       input.Source,
		ConfigSchema: input.ConfigSchema,
		Priority:     input.Priority,
		Readme:       input.Readme,
		TestVectors:  input.TestVectors,
	})
	if err != nil {
		return failed(err)
	}
	return created(c, pluginVersionPath(version.Name, version.Version), version)
}

func (h *handlers) getPlugin(c *fiber.Ctx) (int, any, error) {
	plugin, err := h.store.GetPlugin(requestContext(c), c.Params("name"))
	if err != nil {
		return failed(err)
	}
	return ok(plugin)
}

func (h *handlers) getPluginVersion(c *fiber.Ctx) (int, any, error) {
	version, err := h.store.GetPluginVersion(requestContext(c), c.Params("name"), c.Params("version"))
	if err != nil {
		return failed(err)
	}
	return ok(version)
}

func (h *handlers) deletePluginVersion(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeletePluginVersion(requestContext(c), c.Params("name"), c.Params("version")); err != nil {
		return failed(err)
	}
	return noContent()
}
