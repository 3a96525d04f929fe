package edge

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// tierBundle returns a bundle for tenant with a chain of plugins light
// plugins (see lightPluginSource) whose versions are marked reviewed or not.
func tierBundle(tb testing.TB, tenant, target string, plugins int, reviewed bool) *bundle.Bundle {
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
		code := plugin(name, "1.0.0", lightPluginSource(i))
		code.Reviewed = reviewed
		b.Plugins[bundle.Key(name, "1.0.0")] = code
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

// BenchmarkEdgeTiers compares requests through the edge handler with no
// plugins, with 5 light plugins in the trusted tier (in-process) and with
// the same 5 plugins in the sandboxed tier (a worker process). Each
// iteration sends a batch of each kind, so machine noise hits all three
// alike, and the benchmark reports each kind's time per request and its
// throughput relative to no plugins ("trusted/none", "sandboxed/none").
// The serial form sends one request at a time and the parallel form
// sends tierClients requests at once, as a loaded edge receives them.
func BenchmarkEdgeTiers(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchmarkTiers(b, 1) })
	b.Run("parallel", func(b *testing.B) { benchmarkTiers(b, tierClients) })
}

// tierClients is the number of concurrent requests of the parallel form.
const tierClients = 8

func benchmarkTiers(b *testing.B, clients int) {
	handler := startTierEdge(b)
	hosts := []string{"none.localhost", "trusted.localhost", "sandboxed.localhost"}
	for i, host := range hosts {
		checkChainResponse(b, handler, host, []int{0, 5, 5}[i])
	}

	var spent [3]time.Duration
	b.ReportAllocs()
	for b.Loop() {
		for i, host := range hosts {
			started := time.Now()
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() { serveOnce(b, handler, host) })
			}
			wg.Wait()
			spent[i] += time.Since(started)
		}
	}

	requests := float64(b.N * clients)
	b.ReportMetric(float64(spent[0].Nanoseconds())/requests, "none-ns/req")
	b.ReportMetric(float64(spent[1].Nanoseconds())/requests, "trusted-ns/req")
	b.ReportMetric(float64(spent[2].Nanoseconds())/requests, "sandboxed-ns/req")
	b.ReportMetric(float64(spent[0])/float64(spent[1]), "trusted/none")
	b.ReportMetric(float64(spent[0])/float64(spent[2]), "sandboxed/none")
}

// startTierEdge returns the handler of an edge with workers that serves
// tenants none, trusted and sandboxed.
func startTierEdge(b *testing.B) http.Handler {
	upstream := fixedUpstream(b)
	source := newMemorySource(
		tierBundle(b, "none", upstream.URL, 0, false),
		tierBundle(b, "trusted", upstream.URL, 5, true),
		tierBundle(b, "sandboxed", upstream.URL, 5, false),
	)

	cfg := Config{Source: source}
	withWorkers(b)(&cfg)
	cfg.Sandbox.MemoryLimit = 0
	e, err := New(cfg)
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	b.Cleanup(func() {
		e.transport.CloseIdleConnections()
		e.sandbox.Close()
	})
	return e.Handler()
}
