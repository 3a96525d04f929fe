package health

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

// probed is a target server whose health can be switched.
type probed struct {
	server  *httptest.Server
	url     *url.URL
	failing atomic.Bool
	hits    atomic.Int64
}

func newProbed(t *testing.T) *probed {
	t.Helper()
	p := &probed{}
	p.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		if r.URL.Path != "/base/healthz" {
			http.NotFound(w, r)
			return
		}
		if p.failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(p.server.Close)
	p.url, _ = url.Parse(p.server.URL + "/base")
	return p
}

var fastCheck = config.ActiveCheck{Path: "/healthz", IntervalMS: 10, TimeoutMS: 2000, HealthyThreshold: 2, UnhealthyThreshold: 2}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newRegistry(t *testing.T, opts Options) *Registry {
	t.Helper()
	registry := NewRegistry(opts)
	t.Cleanup(registry.Close)
	return registry
}

func TestActiveCheckTakesOutAndBringsBack(t *testing.T) {
	target := newProbed(t)
	registry := newRegistry(t, Options{})
	check := fastCheck
	registry.Sync("acme", []Upstream{{Name: "api", Targets: []*url.URL{target.url}, Active: &check}})
	state := registry.Targets("acme", "api", []string{target.url.String()})[0]

	waitFor(t, "the first probes pass", func() bool { return target.hits.Load() >= 2 })
	if !state.Available(time.Now()) {
		t.Fatal("healthy target is not available")
	}

	target.failing.Store(true)
	waitFor(t, "the target is taken out", func() bool { return !state.Available(time.Now()) })

	target.failing.Store(false)
	waitFor(t, "the target is back", func() bool { return state.Available(time.Now()) })
}

func TestActiveCheckUnexpectedStatus(t *testing.T) {
	target := newProbed(t)
	registry := newRegistry(t, Options{})
	check := fastCheck
	check.ExpectedStatuses = []int{http.StatusOK}
	registry.Sync("acme", []Upstream{{Name: "api", Targets: []*url.URL{target.url}, Active: &check}})
	state := registry.Targets("acme", "api", []string{target.url.String()})[0]

	// 204 is not in expected_statuses, so the probes fail.
	waitFor(t, "the target is taken out", func() bool { return state.ActiveDown() })
}

func TestSyncStopsVanishedCheckers(t *testing.T) {
	kept, dropped := newProbed(t), newProbed(t)
	registry := newRegistry(t, Options{})
	check := fastCheck
	registry.Sync("acme", []Upstream{
		{Name: "kept", Targets: []*url.URL{kept.url}, Active: &check},
		{Name: "dropped", Targets: []*url.URL{dropped.url}, Active: &check},
	})
	registry.Sync("other", []Upstream{{Name: "kept", Targets: []*url.URL{kept.url}, Active: &check}})
	waitFor(t, "both upstreams are probed", func() bool { return dropped.hits.Load() > 0 && kept.hits.Load() > 0 })

	registry.Sync("acme", []Upstream{{Name: "kept", Targets: []*url.URL{kept.url}, Active: &check}})
	if got := registry.Checkers(); got != 2 {
		t.Errorf("Checkers = %d after dropping one upstream, want 2", got)
	}

	// A probe sent just before the stop may still reach the server, so
	// wait until the count holds still, then check that it stays.
	before := dropped.hits.Load()
	waitFor(t, "in-flight probes arrive", func() bool {
		time.Sleep(30 * time.Millisecond)
		now := dropped.hits.Load()
		settled := now == before
		before = now
		return settled
	})
	time.Sleep(100 * time.Millisecond)
	if after := dropped.hits.Load(); after != before {
		t.Errorf("vanished upstream got %d more probes, want 0", after-before)
	}
}

func TestSyncKeepsStateOfUnchangedUpstream(t *testing.T) {
	target := newProbed(t)
	registry := newRegistry(t, Options{})
	check := fastCheck
	upstreams := []Upstream{{Name: "api", Targets: []*url.URL{target.url}, Active: &check}}
	registry.Sync("acme", upstreams)
	state := registry.Targets("acme", "api", []string{target.url.String()})[0]

	target.failing.Store(true)
	waitFor(t, "the target is taken out", func() bool { return state.ActiveDown() })

	// A reload with the same upstreams keeps the checker and the state.
	registry.Sync("acme", upstreams)
	again := registry.Targets("acme", "api", []string{target.url.String()})[0]
	if again != state || !again.ActiveDown() {
		t.Error("reload lost the target's health state")
	}

	// Turning the active check off brings the target back.
	registry.Sync("acme", []Upstream{{Name: "api", Targets: []*url.URL{target.url}}})
	if !state.Available(time.Now()) {
		t.Error("target stays out after its active check was removed")
	}
}

func TestProbesAreBounded(t *testing.T) {
	var inFlight, peak atomic.Int64
	var mu sync.Mutex
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := inFlight.Add(1)
		mu.Lock()
		peak.Store(max(peak.Load(), now))
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		inFlight.Add(-1)
	}))
	t.Cleanup(slow.Close)

	var targets []*url.URL
	for i := range 6 {
		target, _ := url.Parse(slow.URL + "/" + string(rune('a'+i)))
		targets = append(targets, target)
	}
	registry := newRegistry(t, Options{MaxProbes: 2})
	check := config.ActiveCheck{IntervalMS: 20, TimeoutMS: 15}
	registry.Sync("acme", []Upstream{{Name: "api", Targets: targets, Active: &check}})

	time.Sleep(100 * time.Millisecond)
	if got := peak.Load(); got > 2 || got == 0 {
		t.Errorf("peak probes in flight = %d, want 1 or 2", got)
	}
}

func TestProbeDoesNotFollowRedirects(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	redirecting := httptest.NewServer(http.RedirectHandler(other.URL+"/healthz", http.StatusFound))
	t.Cleanup(redirecting.Close)

	target, _ := url.Parse(redirecting.URL)
	registry := newRegistry(t, Options{})
	check := config.ActiveCheck{IntervalMS: 10, TimeoutMS: 2000, ExpectedStatuses: []int{http.StatusOK}, UnhealthyThreshold: 1}
	registry.Sync("acme", []Upstream{{Name: "api", Targets: []*url.URL{target}, Active: &check}})
	state := registry.Targets("acme", "api", []string{target.String()})[0]

	waitFor(t, "the redirecting target is taken out", func() bool { return state.ActiveDown() })
	if got := elsewhere.Load(); got != 0 {
		t.Errorf("the redirect target got %d probes, want 0", got)
	}
}

func TestPassiveFailuresStartCooldown(t *testing.T) {
	registry := newRegistry(t, Options{})
	state := registry.Targets("acme", "api", []string{"http://127.0.0.1:1"})[0]
	check := &config.PassiveCheck{MaxFailures: 3, WindowMS: 1000, CooldownMS: 5000}
	start := time.Unix(1000, 0)

	// Failures spread wider than the window never add up.
	for i := range 5 {
		if state.ReportFailure(check, start.Add(time.Duration(i)*600*time.Millisecond)) {
			t.Fatalf("failure %d started a cool-down, want none with failures 600 ms apart", i)
		}
	}

	now := start.Add(10 * time.Second)
	state.ReportFailure(check, now)
	state.ReportFailure(check, now.Add(100*time.Millisecond))
	if !state.ReportFailure(check, now.Add(200*time.Millisecond)) {
		t.Fatal("third failure within the window started no cool-down")
	}
	if state.Available(now.Add(time.Second)) {
		t.Error("target is available during its cool-down")
	}
	if !state.Available(now.Add(5300 * time.Millisecond)) {
		t.Error("target is not back after its cool-down")
	}
	if state.ReportFailure(nil, now) {
		t.Error("ReportFailure without a passive check started a cool-down")
	}
}

func TestProbeURL(t *testing.T) {
	tests := []struct {
		target string
		path   string
		want   string
	}{
		{target: "http://127.0.0.1:9000", path: "/healthz", want: "http://127.0.0.1:9000/healthz"},
		{target: "http://127.0.0.1:9000/v1/", path: "/healthz?deep=1", want: "http://127.0.0.1:9000/v1/healthz?deep=1"},
		{target: "https://127.0.0.1:9000", path: "/@evil.example/x", want: "https://127.0.0.1:9000/@evil.example/x"},
	}
	for _, tt := range tests {
		target, _ := url.Parse(tt.target)
		if got := probeURL(target, tt.path); got != tt.want {
			t.Errorf("probeURL(%q, %q) = %q, want %q", tt.target, tt.path, got, tt.want)
		}
	}
}
