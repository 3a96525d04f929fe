package api

import (
	"net/http"
	"time"

	"portcullis.dev/portal/declarative"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// loginResponse is the body of POST /api/v1/login.
type loginResponse struct {
	Token     string     `json:"token"`
	TokenID   string     `json:"token_id"`
	ExpiresAt *time.Time `json:"expires_at"`
	User      store.User `json:"user"`
}

// edgeList is the body of GET /api/v1/edges.
type edgeList struct {
	Head  int64      `json:"head"`
	Edges []EdgeView `json:"edges"`
}

// statusResponse is the body of GET /healthz.
type statusResponse struct {
	Status string `json:"status"`
}

// Query parameters that several operations share.
var (
	listQuery = []queryParam{
		{"limit", "integer", "items per page, 1 to 1000 (default 100)"},
		{"after", "string", "the last key of the previous page; the Link header names the next page"},
	}
	auditQuery = []queryParam{
		{"limit", "integer", "events per page"},
		{"after", "integer", "the next_after of the previous page"},
	}
)

// operations lists every endpoint of the portal API for the OpenAPI
// document. A test fails when a registered route is missing here.
func operations() []operation {
	ops := []operation{
		{Method: "GET", Path: "/healthz", Summary: "Check that the portal and its database answer", Tag: "health", Response: statusResponse{}, Public: true},

		{Method: "POST", Path: "/api/v1/signup", Summary: "Create a user account", Tag: "accounts", Request: signupRequest{}, Response: store.User{}, Status: http.StatusCreated, Public: true},
		{Method: "POST", Path: "/api/v1/login", Summary: "Log in and get a session token", Tag: "accounts", Request: loginRequest{}, Response: loginResponse{}, Public: true},
		{Method: "GET", Path: "/api/v1/me", Summary: "The calling user", Tag: "accounts", Response: store.User{}},
		{Method: "GET", Path: "/api/v1/tokens", Summary: "List the caller's API tokens", Tag: "accounts", Response: []store.UserToken{}},
		{Method: "POST", Path: "/api/v1/tokens", Summary: "Create an API token, shown once", Tag: "accounts", Request: createTokenRequest{}, Response: createdToken{}, Status: http.StatusCreated},
		{Method: "GET", Path: "/api/v1/tokens/:id", Summary: "Get one API token", Tag: "accounts", Response: store.UserToken{}},
		{Method: "DELETE", Path: "/api/v1/tokens/:id", Summary: "Revoke an API token", Tag: "accounts", Status: http.StatusNoContent},

		{Method: "GET", Path: "/api/v1/tenants", Summary: "List the tenants the caller may read", Tag: "tenants", Response: []store.Tenant{}},
		{Method: "POST", Path: "/api/v1/tenants", Summary: "Create a tenant", Tag: "tenants", Request: config.Tenant{}, Response: store.Tenant{}, Status: http.StatusCreated},
		{Method: "GET", Path: "/api/v1/tenants/:slug", Summary: "Get a tenant", Tag: "tenants", Response: store.Tenant{}},
		{Method: "PUT", Path: "/api/v1/tenants/:slug", Summary: "Change a tenant's name and settings", Tag: "tenants", Request: config.Tenant{}, Response: store.Tenant{}},
		{Method: "DELETE", Path: "/api/v1/tenants/:slug", Summary: "Delete a tenant and all its config", Tag: "tenants", Status: http.StatusNoContent},
		{Method: "GET", Path: "/api/v1/tenants/:slug/export", Summary: "Export the tenant's config as a declarative document", Tag: "tenants", Response: declarative.Document{}},
		{Method: "POST", Path: "/api/v1/tenants/:slug/apply", Summary: "Make the tenant match a declarative document in one revision", Tag: "tenants", Request: declarative.Document{}, Response: declarative.Result{},
			Query: []queryParam{{"dry_run", "boolean", "plan the steps and write nothing"}}},

		{Method: "GET", Path: "/api/v1/tenants/:slug/upstreams", Summary: "List upstreams, one page at a time", Tag: "upstreams", Response: []config.Upstream{},
			Query: append([]queryParam{{"name", "string", "only upstreams whose name contains this, ignoring case"}}, listQuery...)},
		{Method: "POST", Path: "/api/v1/tenants/:slug/upstreams", Summary: "Create an upstream", Tag: "upstreams", Request: config.Upstream{}, Response: config.Upstream{}, Status: http.StatusCreated},
		{Method: "GET", Path: "/api/v1/tenants/:slug/upstreams/:name", Summary: "Get an upstream", Tag: "upstreams", Response: config.Upstream{}},
		{Method: "PUT", Path: "/api/v1/tenants/:slug/upstreams/:name", Summary: "Replace an upstream", Tag: "upstreams", Request: config.Upstream{}, Response: config.Upstream{}},
		{Method: "DELETE", Path: "/api/v1/tenants/:slug/upstreams/:name", Summary: "Delete an upstream that no route uses", Tag: "upstreams", Status: http.StatusNoContent},

		{Method: "GET", Path: "/api/v1/tenants/:slug/routes", Summary: "List routes, one page at a time", Tag: "routes", Response: []config.Route{},
			Query: append([]queryParam{{"name", "string", "only routes whose name contains this, ignoring case"}}, listQuery...)},
		{Method: "POST", Path: "/api/v1/tenants/:slug/routes", Summary: "Create a route", Tag: "routes", Request: config.Route{}, Response: config.Route{}, Status: http.StatusCreated},
		{Method: "GET", Path: "/api/v1/tenants/:slug/routes/:name", Summary: "Get a route", Tag: "routes", Response: config.Route{}},
		{Method: "PUT", Path: "/api/v1/tenants/:slug/routes/:name", Summary: "Replace a route", Tag: "routes", Request: config.Route{}, Response: config.Route{}},
		{Method: "DELETE", Path: "/api/v1/tenants/:slug/routes/:name", Summary: "Delete a route that no binding uses", Tag: "routes", Status: http.StatusNoContent},

		{Method: "GET", Path: "/api/v1/tenants/:slug/bindings", Summary: "List plugin bindings in creation order, one page at a time", Tag: "bindings", Response: []config.Binding{},
			Query: append([]queryParam{
				{"plugin", "string", "only bindings of the plugin with exactly this name"},
				{"route", "string", "only bindings of the route with exactly this name"},
				{"consumer", "string", "only bindings of the consumer with exactly this name"},
			}, listQuery...)},
		{Method: "POST", Path: "/api/v1/tenants/:slug/bindings", Summary: "Bind a plugin version to the tenant, a route or a consumer", Tag: "bindings", Request: createBindingRequest{}, Response: config.Binding{}, Status: http.StatusCreated},
		{Method: "GET", Path: "/api/v1/tenants/:slug/bindings/:id", Summary: "Get a binding", Tag: "bindings", Response: config.Binding{}},
		{Method: "PATCH", Path: "/api/v1/tenants/:slug/bindings/:id", Summary: "Change a binding", Tag: "bindings", Request: patchBindingRequest{}, Response: config.Binding{}},
		{Method: "DELETE", Path: "/api/v1/tenants/:slug/bindings/:id", Summary: "Delete a binding", Tag: "bindings", Status: http.StatusNoContent},

		{Method: "GET", Path: "/api/v1/tenants/:slug/consumers", Summary: "List consumers, one page at a time", Tag: "consumers", Response: []config.Consumer{},
			Query: append([]queryParam{
				{"name", "string", "only consumers whose name contains this, ignoring case"},
				{"tag", "string", "only consumers with exactly this tag"},
			}, listQuery...)},
		{Method: "POST", Path: "/api/v1/tenants/:slug/consumers", Summary: "Create a consumer", Tag: "consumers", Request: config.Consumer{}, Response: config.Consumer{}, Status: http.StatusCreated},
		{Method: "GET", Path: "/api/v1/tenants/:slug/consumers/:name", Summary: "Get a consumer", Tag: "consumers", Response: config.Consumer{}},
		{Method: "PUT", Path: "/api/v1/tenants/:slug/consumers/:name", Summary: "Replace a consumer's description and tags", Tag: "consumers", Request: config.Consumer{}, Response: config.Consumer{}},
		{Method: "DELETE", Path: "/api/v1/tenants/:slug/consumers/:name", Summary: "Delete a consumer and its credentials", Tag: "consumers", Status: http.StatusNoContent},
		{Method: "GET", Path: "/api/v1/tenants/:slug/consumers/:name/credentials", Summary: "List a consumer's credentials without secrets", Tag: "consumers", Response: []store.Credential{}},
		{Method: "POST", Path: "/api/v1/tenants/:slug/consumers/:name/credentials", Summary: "Add a credential; a generated key is shown once", Tag: "consumers", Request: store.CredentialInput{}, Response: store.NewCredential{}, Status: http.StatusCreated},
		{Method: "DELETE", Path: "/api/v1/tenants/:slug/consumers/:name/credentials/:id", Summary: "Delete a credential", Tag: "consumers", Status: http.StatusNoContent},

		{Method: "GET", Path: "/api/v1/tenants/:slug/members", Summary: "List the tenant's members and roles", Tag: "members", Response: []store.Member{}},
		{Method: "POST", Path: "/api/v1/tenants/:slug/members", Summary: "Add a member by email", Tag: "members", Request: addMemberRequest{}, Response: store.Member{}, Status: http.StatusCreated},
		{Method: "GET", Path: "/api/v1/tenants/:slug/members/:user", Summary: "Get a member", Tag: "members", Response: store.Member{}},
		{Method: "PATCH", Path: "/api/v1/tenants/:slug/members/:user", Summary: "Change a member's role", Tag: "members", Request: patchMemberRequest{}, Response: store.Member{}},
		{Method: "DELETE", Path: "/api/v1/tenants/:slug/members/:user", Summary: "Remove a member", Tag: "members", Status: http.StatusNoContent},

		{Method: "GET", Path: "/api/v1/audit", Summary: "The service's audit log (operator)", Tag: "audit", Response: auditPage{}, Query: auditQuery},
		{Method: "GET", Path: "/api/v1/tenants/:slug/audit", Summary: "The tenant's audit log (owners and admins)", Tag: "audit", Response: auditPage{}, Query: auditQuery},

		{Method: "GET", Path: "/api/v1/edge-tokens", Summary: "List edge tokens without the tokens (operator)", Tag: "edges", Response: []store.EdgeToken{}},
		{Method: "POST", Path: "/api/v1/edge-tokens", Summary: "Create an edge token, shown once (operator)", Tag: "edges", Response: createdEdgeToken{}, Status: http.StatusCreated},
		{Method: "DELETE", Path: "/api/v1/edge-tokens/:id", Summary: "Revoke an edge token (operator)", Tag: "edges", Status: http.StatusNoContent},
		{Method: "GET", Path: "/api/v1/edges", Summary: "List edge nodes and their lag (operator)", Tag: "edges", Response: edgeList{}},
		{Method: "DELETE", Path: "/api/v1/edges/:node_id", Summary: "Remove an edge node from the list (operator)", Tag: "edges", Status: http.StatusNoContent},
		{Method: "GET", Path: "/api/v1/tenants/:slug/propagation", Summary: "How far the tenant's latest change reached the edges", Tag: "edges", Response: Propagation{}},
		{Method: "POST", Path: "/api/v1/edge/heartbeat", Summary: "Report an edge's state", Tag: "edge sync", Request: store.EdgeReport{}, Response: heartbeatAnswer{}, Edge: true},
		{Method: "GET", Path: "/api/v1/edge/changes", Summary: "Read the change feed, long-polling", Tag: "edge sync", Response: feedPage{}, Edge: true,
			Query: []queryParam{{"after", "integer", "the feed position already applied"}, {"wait", "string", "how long to hold an empty answer, such as 25s"}, {"limit", "integer", "events at most"}}},
		{Method: "GET", Path: "/api/v1/edge/changes/stream", Summary: "Follow the change feed as server-sent events", Tag: "edge sync", Edge: true,
			Query: []queryParam{{"after", "integer", "the feed position already applied; Last-Event-ID wins"}}},
		{Method: "GET", Path: "/api/v1/edge/tenants/:slug/bundle", Summary: "A tenant's config bundle at a revision", Tag: "edge sync", Response: bundle.Bundle{}, Edge: true,
			Query: []queryParam{{"min_revision", "integer", "503 until the portal has at least this revision"}}},
		{Method: "GET", Path: "/api/v1/openapi.json", Summary: "This OpenAPI document", Tag: "health", Public: true},
	}
	return append(ops, marketplaceOperations()...)
}
