package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// benchChainLengths are the plugin chain lengths that BenchmarkEdgeChain
// compares. Each length is served by its own tenant on one edge.
var benchChainLengths = []int{0, 1, 5, 10}

// lightPluginSource returns a light plugin: it sets one request header in
// rewrite and one response header in header_filter. The index keeps the
// header names of plugins in one chain apart.
func lightPluginSource(index int) string {
	return fmt.Sprintf(`func rewrite(ctx, conf) {
	ctx.req.set_header("X-Light-%[1]d", conf["tag"])
}

func header_filter(ctx, conf) {
	ctx.resp.set_header("X-Light-%[1]d", "v1")
}
`, index)
}

// chainBundle returns a sealed bundle for tenant whose only route "main"
// proxies to target through plugins light plugins, bound to the route.
func chainBundle(tb testing.TB, tenant, target string, plugins int) *bundle.Bundle {
	tb.Helper()
	b := &bundle.Bundle{
		Tenant:    tenant,
		Revision:  1,
		Upstreams: []config.Upstream{{Name: "api", Targets: []config.Target{{URL: target}}}},
		Routes:    []config.Route{{Name: "main", Paths: []string{"/"}, Upstream: "api"}},
		Plugins:   map[string]bundle.PluginCode{},
	}
	for i := range plugins {
		name := "light-" + strconv.Itoa(i)
		b.Plugins[bundle.Key(name, "1.0.0")] = plugin(name, "1.0.0", lightPluginSource(i))
		b.Bindings = append(b.Bindings, config.Binding{
			ID: "b-" + name, Plugin: name, Version: "1.0.0", Route: "main",
			Config: json.RawMessage(`{"tag":"bench"}`),
		})
	}
	if err := b.Seal(); err != nil {
		tb.Fatalf("seal bundle %q: %v", tenant, err)
	}
	return b
}

// fixedUpstream starts a loopback upstream that responds to every request with
// a short fixed body, so the benchmark measures the edge and not the echo.
func fixedUpstream(tb testing.TB) *httptest.Server {
	tb.Helper()
	body := []byte("ok\n")
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	tb.Cleanup(server.Close)
	return server
}

// BenchmarkEdgeChain measures one request through the edge handler, with a
// chain of 0, 1, 5 and 10 light plugins, to a real upstream on loopback. It
// calls the handler in-process, so client and listener costs are left out.
func BenchmarkEdgeChain(b *testing.B) {
	upstream := fixedUpstream(b)
	source := newMemorySource()
	for _, plugins := range benchChainLengths {
		source.put(chainBundle(b, "chain"+strconv.Itoa(plugins), upstream.URL, plugins))
	}

	e, err := New(Config{Source: source})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	b.Cleanup(e.transport.CloseIdleConnections)
	handler := e.Handler()

	for _, plugins := range benchChainLengths {
		host := "chain" + strconv.Itoa(plugins) + ".localhost"
		b.Run("plugins="+strconv.Itoa(plugins), func(b *testing.B) {
			checkChainResponse(b, handler, host, plugins)
			b.ReportAllocs()
			for b.Loop() {
				serveOnce(b, handler, host)
			}
		})
	}
}

// serveOnce sends one GET through handler and fails on a status other than
// 200. The request's context can be cancelled, as net/http's server gives
// every request, so hooks pay for following it as they do in production.
func serveOnce(b *testing.B, handler http.Handler, host string) *httptest.ResponseRecorder {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	request := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/bench", nil)
	recorder := httptest.NewRecorder()
	handler.ServeHTTP(recorder, request)
	if recorder.Code != http.StatusOK {
		b.Fatalf("GET %s: status %d, body %q", host, recorder.Code, recorder.Body.String())
	}
	return recorder
}

// checkChainResponse sends one request before the timer runs and checks
// that every plugin of the chain set its response header, so a broken chain
// cannot pass as a fast one.
func checkChainResponse(b *testing.B, handler http.Handler, host string, plugins int) {
	recorder := serveOnce(b, handler, host)
	for i := range plugins {
		name := "X-Light-" + strconv.Itoa(i)
		if got := recorder.Header().Get(name); got != "v1" {
			b.Fatalf("%s: response header %s = %q, want %q", host, name, got, "v1")
		}
	}
	if body, _ := io.ReadAll(recorder.Result().Body); string(body) != "ok\n" {
		b.Fatalf("%s: body %q, want %q", host, body, "ok\n")
	}
}
