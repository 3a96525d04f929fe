package api

import (
	"net/http"

	"portcullis.dev/portal/store"
)

// pluginKeyResponse is the body of GET /api/v1/edge/plugin-key.
type pluginKeyResponse struct {
	Algorithm string `json:"algorithm"`
	PublicKey string `json:"public_key"`
}

// pluginOperations lists the plugin, namespace, install and try endpoints
// for the OpenAPI document. Each plugin path has a bare-name form for the
// operator's namespace and a namespace/name form.
func pluginOperations() []operation {
	ops := []operation{
		{Method: "GET", Path: "/api/v1/plugins", Summary: "Browse and search the plugin catalogue", Tag: "plugins", Response: store.CatalogPage{},
			Query: []queryParam{{"q", "string", "words to find in names and descriptions"}, {"namespace", "string", "only this namespace"}, {"page", "integer", "page number from 1"}}},
		{Method: "POST", Path: "/api/v1/plugins", Summary: "Publish a plugin version after every check passes", Tag: "plugins", Request: publishRequest{}, Response: store.PluginVersion{}, Status: http.StatusCreated},
		{Method: "POST", Path: "/api/v1/namespaces", Summary: "Create a namespace owned by the caller", Tag: "plugins", Request: namespaceRequest{}, Response: store.Namespace{}, Status: http.StatusCreated},
		{Method: "GET", Path: "/api/v1/namespaces/:namespace", Summary: "Get a namespace and its members", Tag: "plugins", Response: store.Namespace{}},
		{Method: "POST", Path: "/api/v1/namespaces/:namespace/members", Summary: "Add a member to a namespace", Tag: "plugins", Request: namespaceMemberRequest{}, Response: store.Namespace{}, Status: http.StatusCreated},

		{Method: "GET", Path: "/api/v1/tenants/:slug/installs", Summary: "List the tenant's installs, each with any version held back in its range", Tag: "installs", Response: []store.Install{}},
		{Method: "POST", Path: "/api/v1/tenants/:slug/installs", Summary: "Install a plugin at a version or a range", Tag: "installs", Request: installRequest{}, Response: store.Install{}, Status: http.StatusCreated},
		{Method: "GET", Path: "/api/v1/tenants/:slug/plugin-warnings", Summary: "List bindings and installs that run deprecated or yanked versions", Tag: "installs", Response: []store.PluginWarning{}},
		{Method: "POST", Path: "/api/v1/tenants/:slug/routes/:name/try", Summary: "Run a route's plugin chain against a sample request", Tag: "routes", Request: tryRequest{}, Response: tryResponse{}},
		{Method: "GET", Path: "/api/v1/edge/plugin-key", Summary: "Get the public key that verifies plugin signatures", Tag: "edge", Response: pluginKeyResponse{}, Edge: true},
	}

	for _, prefix := range []string{"/api/v1/plugins/:name", "/api/v1/plugins/:namespace/:name"} {
		ops = append(ops,
			operation{Method: "GET", Path: prefix, Summary: "Get a plugin with its versions", Tag: "plugins", Response: store.Plugin{}},
			operation{Method: "GET", Path: prefix + "/stats", Summary: "Installs, bindings and errors per version, for the namespace's members", Tag: "plugins", Response: store.PluginStats{}},
			operation{Method: "GET", Path: prefix + "/versions/:version", Summary: "Get a plugin version with its source", Tag: "plugins", Response: store.PluginVersion{}},
			operation{Method: "DELETE", Path: prefix + "/versions/:version", Summary: "Delete a plugin version that nothing uses", Tag: "plugins", Status: http.StatusNoContent},
			operation{Method: "POST", Path: prefix + "/versions/:version/deprecate", Summary: "Deprecate a plugin version", Tag: "plugins", Request: markRequest{}, Response: store.PluginVersion{}},
			operation{Method: "POST", Path: prefix + "/versions/:version/yank", Summary: "Yank a plugin version", Tag: "plugins", Request: markRequest{}, Response: store.PluginVersion{}},
			operation{Method: "POST", Path: prefix + "/versions/:version/review", Summary: "Mark a plugin version reviewed, so it runs inside the edge (operator)", Tag: "plugins", Request: reviewRequest{}, Response: store.PluginReview{}},
		)
	}
	for _, prefix := range []string{"/api/v1/tenants/:slug/installs/:plugin", "/api/v1/tenants/:slug/installs/:namespace/:plugin"} {
		ops = append(ops,
			operation{Method: "GET", Path: prefix, Summary: "Get an install and any version held back in its range", Tag: "installs", Response: store.Install{}},
			operation{Method: "PUT", Path: prefix, Summary: "Change an install's version or range after checking the bindings that follow it", Tag: "installs", Request: installRequest{}, Response: store.Install{}},
			operation{Method: "DELETE", Path: prefix, Summary: "Delete an install that no binding follows", Tag: "installs", Status: http.StatusNoContent},
			operation{Method: "POST", Path: prefix + "/rollback", Summary: "Return to the previous installed version", Tag: "installs", Response: store.Install{}},
		)
	}
	return ops
}
