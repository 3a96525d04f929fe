package edge

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// upstreamBundle builds a sealed bundle with one route "all" to upstream.
func upstreamBundle(t *testing.T, revision int64, upstream config.Upstream, timeouts config.Timeouts) *bundle.Bundle {
	t.Helper()
	upstream.Name = "api"
	b := &bundle.Bundle{
		Tenant:    "acme",
		Revision:  revision,
		Upstreams: []config.Upstream{upstream},
		Routes:    []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api", Timeouts: timeouts}},
		Plugins:   map[string]bundle.PluginCode{},
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	return b
}

// countingServer starts an upstream that responds with status and counts
// its requests.
func countingServer(t *testing.T, status int) (string, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(status)
	}))
	t.Cleanup(server.Close)
	return server.URL, &hits
}

func TestTargetHealthSurvivesRuntimeSwap(t *testing.T) {
	failing, failingHits := countingServer(t, http.StatusServiceUnavailable)
	healthy, _ := countingServer(t, http.StatusOK)
	upstream := config.Upstream{
		Targets:     []config.Target{{URL: failing}, {URL: healthy}},
		HealthCheck: &config.HealthCheck{Passive: &config.PassiveCheck{MaxFailures: 1, CooldownMS: 60000}},
	}
	source := newMemorySource(upstreamBundle(t, 1, upstream, config.Timeouts{}))
	te := startEdge(t, source, nil)

	for range 4 {
		te.do(t, "h1", "GET", "acme.localhost", "/")
	}
	if got := failingHits.Load(); got != 1 {
		t.Fatalf("failing target got %d requests, want 1 before its cool-down", got)
	}

	// Revision 2 changes the route timeouts, so the runtime is rebuilt.
	source.put(upstreamBundle(t, 2, upstream, config.Timeouts{IdleMS: 5000}))
	te.Invalidate("acme", 2)
	waitForRevision(t, te.Edge, "acme", 2)
	for range 4 {
		if got := te.do(t, "h1", "GET", "acme.localhost", "/"); got.StatusCode != http.StatusOK {
			t.Errorf("status = %d after the swap, want 200 from the healthy target", got.StatusCode)
		}
	}
	if got := failingHits.Load(); got != 1 {
		t.Errorf("failing target got %d requests after the swap, want 1: the swap lost its cool-down", got)
	}
}

func TestActiveCheckerStopsWhenCheckRemoved(t *testing.T) {
	target, _ := countingServer(t, http.StatusOK)
	checked := config.Upstream{
		Targets:     []config.Target{{URL: target}},
		HealthCheck: &config.HealthCheck{Active: &config.ActiveCheck{IntervalMS: 1000, TimeoutMS: 500}},
	}
	source := newMemorySource(upstreamBundle(t, 1, checked, config.Timeouts{}))
	te := startEdge(t, source, nil)
	te.do(t, "h1", "GET", "acme.localhost", "/")
	if got := te.transport.Health().Checkers(); got != 1 {
		t.Fatalf("Checkers = %d, want 1", got)
	}

	source.put(upstreamBundle(t, 2, config.Upstream{Targets: checked.Targets}, config.Timeouts{}))
	te.Invalidate("acme", 2)
	waitForRevision(t, te.Edge, "acme", 2)
	if got := te.transport.Health().Checkers(); got != 0 {
		t.Errorf("Checkers = %d after the check was removed, want 0", got)
	}
}

func TestUpstreamFailureProblems(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	closed := "http://" + listener.Addr().String()
	listener.Close()

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	broken, _ := countingServer(t, http.StatusBadGateway)

	tests := []struct {
		name     string
		upstream config.Upstream
		timeouts config.Timeouts
		requests int
		want     int
	}{
		{name: "dial failure", upstream: config.Upstream{Targets: []config.Target{{URL: closed}}}, requests: 1, want: http.StatusBadGateway},
		{name: "slow header", upstream: config.Upstream{Targets: []config.Target{{URL: slow.URL}}}, timeouts: config.Timeouts{ResponseHeaderMS: 50}, requests: 1, want: http.StatusGatewayTimeout},
		{
			name: "every target down",
			upstream: config.Upstream{Targets: []config.Target{{URL: broken}},
				HealthCheck: &config.HealthCheck{Passive: &config.PassiveCheck{MaxFailures: 1, CooldownMS: 60000}}},
			requests: 2,
			want:     http.StatusServiceUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := startEdge(t, newMemorySource(upstreamBundle(t, 1, tt.upstream, tt.timeouts)), nil)
			var got response
			for range tt.requests {
				got = te.do(t, "h1", "GET", "acme.localhost", "/")
			}
			checkProblem(t, got, tt.want)
		})
	}
}

func TestDeletedTenantStopsItsHealthChecks(t *testing.T) {
	target, _ := countingServer(t, http.StatusOK)
	checked := config.Upstream{
		Targets:     []config.Target{{URL: target}},
		HealthCheck: &config.HealthCheck{Active: &config.ActiveCheck{IntervalMS: 1000, TimeoutMS: 500}},
	}
	source := newMemorySource(upstreamBundle(t, 1, checked, config.Timeouts{}))
	te := startEdge(t, source, nil)
	te.do(t, "h1", "GET", "acme.localhost", "/")
	if got := te.transport.Health().Checkers(); got != 1 {
		t.Fatalf("Checkers = %d, want 1", got)
	}

	source.remove("acme")
	te.Invalidate("acme", 2)
	deadline := time.Now().Add(5 * time.Second)
	for te.transport.Health().Checkers() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := te.transport.Health().Checkers(); got != 0 {
		t.Fatalf("Checkers = %d after the tenant was deleted, want 0", got)
	}

	source.put(upstreamBundle(t, 3, checked, config.Timeouts{}))
	te.Invalidate("acme", 3)
	if got := te.do(t, "h1", "GET", "acme.localhost", "/"); got.StatusCode != http.StatusOK {
		t.Fatalf("status = %d after the tenant came back, want 200", got.StatusCode)
	}
	if got := te.transport.Health().Checkers(); got != 1 {
		t.Errorf("Checkers = %d after the tenant came back, want 1", got)
	}
}
