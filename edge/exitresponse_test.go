package edge

import (
	"net/http"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

const (
	// loginSource ends every request in access with a 401.
	loginSource = `func access(ctx, conf) {
  ctx.resp.set_header("WWW-Authenticate", "Bearer")
  ctx.exit(401, "login required")
}
`
	// corsSource adds CORS headers to every response and records in the
	// log phase the status that the client received.
	corsSource = `func header_filter(ctx, conf) {
  ctx.resp.set_header("Access-Control-Allow-Origin", "*")
  ctx.resp.set_header("X-Seen-Status", string(ctx.resp.status))
}

func log(ctx, conf) {
  ctx.kv.set("logged:" + ctx.req.route, ctx.resp.status)
}
`
	// rebrandSource turns a 401 into a 404 in header_filter.
	rebrandSource = `func header_filter(ctx, conf) {
  if ctx.resp.status == 401 { ctx.exit(404, "no such page") }
}
`
	// brokenFilterSource fails in header_filter.
	brokenFilterSource = `func header_filter(ctx, conf) {
  error("filter is down")
}
`
)

func TestExitRunsHeaderFilterAndLog(t *testing.T) {
	upstream, hits := echoUpstream(t, "api")
	routes := []config.Route{
		{Name: "cors", Paths: []string{"/cors"}, Upstream: "api"},
		{Name: "rebrand", Paths: []string{"/rebrand"}, Upstream: "api"},
		{Name: "broken", Paths: []string{"/broken"}, Upstream: "api"},
	}
	bindings := []config.Binding{
		{ID: "b-login", Plugin: "login", Version: "1.0.0"},
		{ID: "b-cors", Plugin: "cors", Version: "1.0.0", Route: "cors"},
		{ID: "b-rebrand", Plugin: "rebrand", Version: "1.0.0", Route: "rebrand"},
		{ID: "b-broken", Plugin: "broken", Version: "1.0.0", Route: "broken"},
	}
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, routes, bindings,
		plugin("login", "1.0.0", loginSource),
		plugin("cors", "1.0.0", corsSource),
		plugin("rebrand", "1.0.0", rebrandSource),
		plugin("broken", "1.0.0", brokenFilterSource),
	))
	te := startEdge(t, source, nil)

	t.Run("header filter adds headers", func(t *testing.T) {
		got := te.do(t, "h1", "GET", "acme.localhost", "/cors")

		if got.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status = %d, want 401", got.StatusCode)
		}
		if string(got.body) != "login required" {
			t.Errorf("body = %q, want %q", got.body, "login required")
		}
		if origin := got.Header.Get("Access-Control-Allow-Origin"); origin != "*" {
			t.Errorf("Access-Control-Allow-Origin = %q, want *", origin)
		}
		if seen := got.Header.Get("X-Seen-Status"); seen != "401" {
			t.Errorf("X-Seen-Status = %q, want the exit's 401", seen)
		}
		if auth := got.Header.Get("WWW-Authenticate"); auth != "Bearer" {
			t.Errorf("WWW-Authenticate = %q, want the access hook's Bearer", auth)
		}
	})

	t.Run("log runs after exit", func(t *testing.T) {
		kv := te.services.Tenant("acme").Request(nil)
		deadline := time.Now().Add(5 * time.Second)
		for {
			value, found := kv.KVGet("logged:cors")
			if found && value == int64(401) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("log phase stored %v (found %v), want 401", value, found)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})

	t.Run("header filter exit replaces", func(t *testing.T) {
		got := te.do(t, "h2", "GET", "acme.localhost", "/rebrand")

		if got.StatusCode != http.StatusNotFound {
			t.Errorf("status = %d, want 404", got.StatusCode)
		}
		if string(got.body) != "no such page" {
			t.Errorf("body = %q, want %q", got.body, "no such page")
		}
	})

	t.Run("header filter failure fails closed", func(t *testing.T) {
		got := te.do(t, "h3", "GET", "acme.localhost", "/broken")
		checkProblem(t, got, http.StatusInternalServerError)
	})

	if hits.Load() != 0 {
		t.Errorf("upstream requests = %d, want 0 after exits", hits.Load())
	}
}
