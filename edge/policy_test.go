package edge

import (
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

const (
	spinSource = `func access(ctx, conf) {
	for {
	}
}
`
	varsWriterSource = `func access(ctx, conf) {
	ctx.vars["user"] = "alice"
	n := ctx.kv.incr("hits")
	ctx.req.set_header("X-Hits", string(n))
}
`
	varsReaderSource = `func before_proxy(ctx, conf) {
	ctx.req.set_header("X-User", ctx.vars["user"])
	ctx.req.set_header("X-Route", ctx.req.route)
	ctx.req.set_header("X-Scheme", ctx.req.scheme)
}
`
)

// spinBinding returns a binding of the spin plugin on route "spin" with
// onError and a 50 ms deadline.
func spinBinding(t *testing.T, tenant, onError string) *config.Binding {
	t.Helper()
	return &config.Binding{ID: "b-spin-" + tenant, Plugin: "spin", Version: "1.0.0", Route: "spin", TimeoutMS: 50, OnError: onError}
}

func TestHookDeadlineAndQuarantine(t *testing.T) {
	upstream, hits := echoUpstream(t, "api")
	routes := []config.Route{{Name: "spin", Paths: []string{"/spin"}, Upstream: "api"}}
	bindings := []config.Binding{*spinBinding(t, "acme", config.OnErrorClosed)}
	te := startEdge(t, newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, routes, bindings, plugin("spin", "1.0.0", spinSource))), nil)

	for i := range 5 {
		start := time.Now()
		got := te.do(t, "h1", "GET", "acme.localhost", "/spin")
		elapsed := time.Since(start)

		details := checkProblem(t, got, http.StatusInternalServerError)
		if details.RequestID == "" {
			t.Errorf("request %d: problem has no request id", i)
		}
		if elapsed > 50*time.Millisecond+500*time.Millisecond {
			t.Errorf("request %d took %s, want at most the 50 ms deadline plus 500 ms", i, elapsed)
		}
	}
	if got := hits.Load(); got != 0 {
		t.Errorf("upstream hits = %d, want 0 with on_error closed", got)
	}
	if records := te.logs.records(t, "plugin hook failed"); len(records) == 0 {
		t.Errorf("no \"plugin hook failed\" log record, want at least one")
	} else if records[0]["tenant"] != "acme" || records[0]["plugin"] != "spin" || records[0]["request_id"] == "" {
		t.Errorf("log record = %v, want tenant, plugin and request_id", records[0])
	}
}

func TestFailOpenSkipsPlugin(t *testing.T) {
	upstream, hits := echoUpstream(t, "api")
	routes := []config.Route{{Name: "spin", Paths: []string{"/spin"}, Upstream: "api"}}
	bindings := []config.Binding{*spinBinding(t, "acme", config.OnErrorOpen)}
	te := startEdge(t, newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, routes, bindings, plugin("spin", "1.0.0", spinSource))), nil)

	for i := range 4 {
		if got := te.do(t, "h1", "GET", "acme.localhost", "/spin"); got.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status = %d, want 200 with on_error open", i, got.StatusCode)
		}
	}
	if got := hits.Load(); got != 4 {
		t.Errorf("upstream hits = %d, want 4", got)
	}
}

func TestVarsHostAPIAndDebugHeader(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	routes := []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}}
	bindings := []config.Binding{
		{ID: "b-reader", Plugin: "reader", Version: "1.0.0", Priority: new(1)},
		{ID: "b-writer", Plugin: "writer", Version: "2.0.0", Priority: new(5), Config: json.RawMessage(`{}`)},
	}
	b := tenantBundle(t, "acme", 1, upstream.URL, routes, bindings,
		plugin("reader", "1.0.0", varsReaderSource), plugin("writer", "2.0.0", varsWriterSource))
	b.DebugHeaders = true
	if err := b.Seal(); err != nil {
		t.Fatalf("seal: %v", err)
	}
	te := startEdge(t, newMemorySource(b), nil)

	te.do(t, "h1", "GET", "acme.localhost", "/x")
	got := te.do(t, "h1", "GET", "acme.localhost", "/x")
	seen := got.seen(t)

	if v := seen.Header.Get("X-User"); v != "alice" {
		t.Errorf("X-User = %q, want alice from ctx.vars", v)
	}
	if v := seen.Header.Get("X-Hits"); v != "2" {
		t.Errorf("X-Hits = %q, want 2 from ctx.kv.incr", v)
	}
	if v := seen.Header.Get("X-Route"); v != "all" {
		t.Errorf("X-Route = %q, want all", v)
	}
	if v := seen.Header.Get("X-Scheme"); v != "http" {
		t.Errorf("X-Scheme = %q, want http", v)
	}
	if v := got.Header.Get(pluginsHeader); v != "writer@2.0.0,reader@1.0.0" {
		t.Errorf("%s = %q, want writer@2.0.0,reader@1.0.0 in priority order", pluginsHeader, v)
	}
}

// TestNoisyNeighbour checks that a tenant whose plugin spins forever does
// not fail or slow down another tenant on the same edge.
func TestNoisyNeighbour(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	upstream, _ := echoUpstream(t, "api")
	routes := []config.Route{{Name: "spin", Paths: []string{"/"}, Upstream: "api"}}
	noisy := tenantBundle(t, "noisy", 1, upstream.URL, routes,
		[]config.Binding{*spinBinding(t, "noisy", config.OnErrorClosed)}, plugin("spin", "1.0.0", spinSource))
	quiet := tenantBundle(t, "quiet", 1, upstream.URL, routes,
		[]config.Binding{{ID: "b-hello", Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"hi"}`)}}, plugin("hello", "1.0.0", helloSource("1")))
	te := startEdge(t, newMemorySource(noisy, quiet), nil)

	// Rounds alternate between the quiet tenant alone and next to the
	// noisy one, so that load from other test packages hits both alike.
	const rounds, perRound = 8, 60
	var alone, loaded []time.Duration
	var noisyRequests, noisyLate atomic.Int64
	for range rounds {
		alone = append(alone, quietLatencies(t, te, perRound)...)

		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, "http://"+te.addrs.HTTP+"/x", nil)
				req.Host = "noisy.localhost"
				start := time.Now()
				resp, err := te.h1.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				noisyRequests.Add(1)
				if time.Since(start) > 50*time.Millisecond+250*time.Millisecond {
					noisyLate.Add(1)
				}
			}
		}()
		loaded = append(loaded, quietLatencies(t, te, perRound)...)
		close(stop)
		wg.Wait()
	}

	baseline, next := median(alone), median(loaded)
	t.Logf("quiet tenant median: %s alone, %s next to the noisy tenant (%d noisy requests)", baseline, next, noisyRequests.Load())
	// A floor of 1 ms keeps a sub-millisecond baseline from making the
	// ratio depend on scheduler noise alone.
	if limit := 2 * max(baseline, time.Millisecond); next > limit {
		t.Errorf("quiet median = %s next to the noisy tenant, want at most %s (2x the %s baseline)", next, limit, baseline)
	}
	if late := noisyLate.Load(); late > 0 {
		t.Errorf("%d noisy requests took longer than the 50 ms deadline plus 250 ms", late)
	}
}

func median(latencies []time.Duration) time.Duration {
	sorted := append([]time.Duration(nil), latencies...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	return sorted[len(sorted)/2]
}

// quietLatencies sends requests to tenant quiet one at a time and returns
// their latencies. Any failed request fails the test.
func quietLatencies(t *testing.T, te *testEdge, requests int) []time.Duration {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	latencies := make([]time.Duration, 0, requests)
	for i := range requests {
		req, _ := http.NewRequest(http.MethodGet, "http://"+te.addrs.HTTP+"/x", nil)
		req.Host = "quiet.localhost"
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("quiet request %d: %v", i, err)
		}
		resp.Body.Close()
		latencies = append(latencies, time.Since(start))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("quiet request %d: status = %d, want 200", i, resp.StatusCode)
		}
	}
	return latencies
}
