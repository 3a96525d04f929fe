package edge

import (
	"encoding/json"
	"net/http"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

const (
	denySource = `func access(ctx, conf) {
	ctx.exit(403, "denied by policy")
}
`
	failSource = `func access(ctx, conf) {
	error("quota store is down")
}
`
	teapotSource = `func header_filter(ctx, conf) {
	ctx.exit(418, "short and stout")
}
`
)

// pluginTenant returns a source with tenant acme whose routes each bind one
// plugin, plus the hello plugin on every route.
func pluginTenant(t *testing.T, target string) *memorySource {
	t.Helper()
	routes := []config.Route{
		{Name: "open", Paths: []string{"/open"}, Upstream: "api"},
		{Name: "denied", Paths: []string{"/denied"}, Upstream: "api"},
		{Name: "broken", Paths: []string{"/broken"}, Upstream: "api"},
		{Name: "teapot", Paths: []string{"/teapot"}, Upstream: "api"},
	}
	bindings := []config.Binding{
		{ID: "b-hello", Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"hi"}`)},
		{ID: "b-deny", Plugin: "deny", Version: "1.0.0", Route: "denied"},
		{ID: "b-fail", Plugin: "fail", Version: "2.1.0", Route: "broken"},
		{ID: "b-teapot", Plugin: "teapot", Version: "1.0.0", Route: "teapot"},
	}
	return newMemorySource(tenantBundle(t, "acme", 1, target, routes, bindings,
		plugin("hello", "1.0.0", helloSource("1")),
		plugin("deny", "1.0.0", denySource),
		plugin("fail", "2.1.0", failSource),
		plugin("teapot", "1.0.0", teapotSource),
	))
}

func TestPluginChain(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	te := startEdge(t, pluginTenant(t, upstream.URL), nil)

	for _, protocol := range []string{"h1", "h2", "h3"} {
		t.Run(protocol, func(t *testing.T) {
			got := te.do(t, protocol, "GET", "acme.localhost", "/open")
			if got.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200 (body %q)", got.StatusCode, got.body)
			}
			if hello := got.seen(t).Header.Get("X-Hello"); hello != "hi" {
				t.Errorf("upstream X-Hello = %q, want %q", hello, "hi")
			}
			if servedBy := got.Header.Get("X-Served-By"); servedBy != "hello-1" {
				t.Errorf("X-Served-By = %q, want %q", servedBy, "hello-1")
			}
		})
	}
}

func TestPluginExit(t *testing.T) {
	upstream, hits := echoUpstream(t, "api")
	te := startEdge(t, pluginTenant(t, upstream.URL), nil)

	tests := []struct {
		name        string
		path        string
		wantStatus  int
		wantBody    string
		wantUpHits  int64
		wantServers string
	}{
		{name: "access exit", path: "/denied", wantStatus: 403, wantBody: "denied by policy", wantUpHits: 0},
		{name: "header filter exit", path: "/teapot", wantStatus: 418, wantBody: "short and stout", wantUpHits: 1, wantServers: "hello-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			got := te.do(t, "h1", "GET", "acme.localhost", tt.path)

			if got.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", got.StatusCode, tt.wantStatus)
			}
			if string(got.body) != tt.wantBody {
				t.Errorf("body = %q, want %q", got.body, tt.wantBody)
			}
			if contentType := got.Header.Get("Content-Type"); contentType != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q, want text/plain", contentType)
			}
			if upstreamHits := hits.Load() - before; upstreamHits != tt.wantUpHits {
				t.Errorf("upstream requests = %d, want %d", upstreamHits, tt.wantUpHits)
			}
			if got.Header.Get("X-Request-Id") == "" {
				t.Error("X-Request-Id is missing")
			}
		})
	}
}

func TestPluginErrorFailsClosed(t *testing.T) {
	upstream, hits := echoUpstream(t, "api")
	te := startEdge(t, pluginTenant(t, upstream.URL), nil)

	got := te.do(t, "h1", "GET", "acme.localhost", "/broken")
	details := checkProblem(t, got, http.StatusInternalServerError)
	if hits.Load() != 0 {
		t.Errorf("upstream requests = %d, want 0", hits.Load())
	}

	records := te.logs.records(t, "plugin failed; request stopped")
	if len(records) != 1 {
		t.Fatalf("plugin failure log records = %d, want 1", len(records))
	}
	want := map[string]any{
		"tenant":     "acme",
		"route":      "broken",
		"plugin":     "fail",
		"version":    "2.1.0",
		"request_id": details.RequestID,
		"revision":   float64(1),
		"level":      "ERROR",
	}
	for field, value := range want {
		if records[0][field] != value {
			t.Errorf("log field %s = %v, want %v", field, records[0][field], value)
		}
	}
}

func TestPluginCompiledOnce(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	hello := plugin("hello", "1.0.0", helloSource("1"))
	binding := []config.Binding{{ID: "b1", Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"hi"}`)}}
	route := []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}}
	source := newMemorySource(
		tenantBundle(t, "acme", 1, upstream.URL, route, binding, hello),
		tenantBundle(t, "globex", 1, upstream.URL, route, binding, hello),
	)
	te := startEdge(t, source, nil)

	for _, host := range []string{"acme.localhost", "globex.localhost"} {
		if got := te.do(t, "h1", "GET", host, "/"); got.StatusCode != http.StatusOK {
			t.Fatalf("%s: status = %d, want 200", host, got.StatusCode)
		}
	}
	source.put(tenantBundle(t, "acme", 2, upstream.URL, route, binding, hello))
	te.Invalidate("acme", 2)
	waitForRevision(t, te.Edge, "acme", 2)

	if compiles := te.compiler.Compiles(); compiles != 1 {
		t.Errorf("compiles = %d, want 1 for one plugin version over two tenants and revisions", compiles)
	}
}

// helloBundle returns acme at revision with the hello plugin at
// "<major>.0.0" on every route. The greeting "hi-<major>" lets a test tell
// which runtime handled the request side.
func helloBundle(t *testing.T, revision int64, target, major string) *bundle.Bundle {
	t.Helper()
	version := major + ".0.0"
	routes := []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}}
	bindings := []config.Binding{{ID: "b-hello", Plugin: "hello", Version: version, Config: json.RawMessage(`{"greeting":"hi-` + major + `"}`)}}
	return tenantBundle(t, "acme", revision, target, routes, bindings, plugin("hello", version, helloSource(major)))
}

// TestQuarantinedRequestsLoggedAtDebug fails a binding until it is
// quarantined. The requests that the quarantine stops must not each log
// an error, so a flood of requests cannot flood the log.
func TestQuarantinedRequestsLoggedAtDebug(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	te := startEdge(t, pluginTenant(t, upstream.URL), nil)

	const requests = 10
	for range requests {
		checkProblem(t, te.do(t, "h1", "GET", "acme.localhost", "/broken"), http.StatusInternalServerError)
	}

	failed := te.logs.records(t, "plugin failed; request stopped")
	if len(failed) != chain.QuarantineAfter {
		t.Errorf("requests logged as failed = %d, want the %d that ran the hook", len(failed), chain.QuarantineAfter)
	}
	// The guard logs one failure of the binding per second, so only the
	// first failed request logs at Error.
	for i, record := range failed {
		want := "DEBUG"
		if i == 0 {
			want = "ERROR"
		}
		if record["level"] != want {
			t.Errorf("level of failed request %d = %v, want %s", i+1, record["level"], want)
		}
	}
	quarantined := te.logs.records(t, "plugin quarantined; request stopped")
	if len(quarantined) != requests-chain.QuarantineAfter {
		t.Fatalf("requests logged as quarantined = %d, want %d", len(quarantined), requests-chain.QuarantineAfter)
	}
	if level := quarantined[0]["level"]; level != "DEBUG" {
		t.Errorf("level of a quarantined request's line = %v, want DEBUG", level)
	}
}
