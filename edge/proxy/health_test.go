package proxy

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/edge/balancer"
	"portcullis.dev/tenants/config"
)

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

// switchable responds 503 while failing is set, and 200 with name
// otherwise.
func switchable(name string, failing *atomic.Bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, name)
	}
}

func TestPassiveCheckTakesOutAndBringsBack(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	flaky := newBackend(t, "flaky", switchable("flaky", &failing))
	steady := newBackend(t, "steady", nil)
	u := newUpstreams(t, UpstreamsOptions{})

	// The cool-down is below the API minimum so the test stays short.
	passive := &config.PassiveCheck{MaxFailures: 2, WindowMS: 10000, CooldownMS: 200}
	b := build(t, config.Upstream{Targets: targets(flaky.URL(), steady.URL()), HealthCheck: &config.HealthCheck{Passive: passive}})

	for range 4 {
		send(t, u, b, http.MethodGet, "", nil)
	}
	if got := flaky.hits.Load(); got != 2 {
		t.Fatalf("failing target got %d requests, want 2 before its cool-down", got)
	}
	for range 6 {
		send(t, u, b, http.MethodGet, "", nil)
	}
	if got := flaky.hits.Load(); got != 2 {
		t.Errorf("failing target got %d requests during its cool-down, want 2", got)
	}

	failing.Store(false)
	waitFor(t, "the target is back after its cool-down", func() bool {
		send(t, u, b, http.MethodGet, "", nil)
		return flaky.hits.Load() > 2
	})
}

func TestActiveCheckTakesOutAndBringsBack(t *testing.T) {
	var failing atomic.Bool
	flaky := newBackend(t, "flaky", switchable("flaky", &failing))
	steady := newBackend(t, "steady", nil)
	u := newUpstreams(t, UpstreamsOptions{})

	upstream := config.Upstream{Name: "api", Targets: targets(flaky.URL(), steady.URL()), HealthCheck: &config.HealthCheck{
		Active: &config.ActiveCheck{Path: "/healthz", IntervalMS: 10, TimeoutMS: 2000, HealthyThreshold: 1, UnhealthyThreshold: 1},
	}}
	u.Sync("acme", []config.Upstream{upstream})
	b := build(t, upstream)
	state := u.Health().Targets("acme", "api", []string{flaky.URL()})[0]

	failing.Store(true)
	waitFor(t, "the active check takes the target out", state.ActiveDown)
	for range 4 {
		if got := send(t, u, b, http.MethodGet, "", nil); got.body != "steady HTTP/1.1" {
			t.Fatalf("response %d %q (error %v), want the healthy target's", got.status, got.body, got.err)
		}
	}

	failing.Store(false)
	waitFor(t, "the active check brings the target back", func() bool { return !state.ActiveDown() })
	// Round robin's running scores moved while the target was out, so
	// the exact split of the first requests varies.
	counts := countBodies(t, u, b, 6, nil)
	if counts["flaky"] == 0 {
		t.Errorf("responses per target = %v, want some from the recovered target", counts)
	}
}

func TestAllTargetsDown(t *testing.T) {
	down := newBackend(t, "down", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	u := newUpstreams(t, UpstreamsOptions{})
	passive := &config.PassiveCheck{MaxFailures: 1, CooldownMS: 60000}
	b := build(t, config.Upstream{Targets: targets(down.URL()), HealthCheck: &config.HealthCheck{Passive: passive}})

	send(t, u, b, http.MethodGet, "", nil)
	got := send(t, u, b, http.MethodGet, "", nil)
	if !errors.Is(got.err, ErrNoHealthyTarget) {
		t.Fatalf("error = %v, want ErrNoHealthyTarget", got.err)
	}
	if down.hits.Load() != 1 {
		t.Errorf("down target got %d requests, want 1", down.hits.Load())
	}
}

func TestHealthKeptAcrossRebuild(t *testing.T) {
	down := newBackend(t, "down", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	steady := newBackend(t, "steady", nil)
	u := newUpstreams(t, UpstreamsOptions{})
	upstream := config.Upstream{Name: "api", Targets: targets(down.URL(), steady.URL()), HealthCheck: &config.HealthCheck{
		Passive: &config.PassiveCheck{MaxFailures: 1, CooldownMS: 60000},
	}}
	u.Sync("acme", []config.Upstream{upstream})
	send(t, u, build(t, upstream), http.MethodGet, "", nil)

	// A new revision adds a target: the balancer is new, the health of
	// the kept targets is not.
	third := newBackend(t, "third", nil)
	upstream.Targets = append(upstream.Targets, config.Target{URL: third.URL()})
	u.Sync("acme", []config.Upstream{upstream})
	rebuilt := build(t, upstream)
	for range 6 {
		send(t, u, rebuilt, http.MethodGet, "", nil)
	}
	if got := down.hits.Load(); got != 1 {
		t.Errorf("target in its cool-down got %d requests after the rebuild, want 1", got)
	}

	// Removing the target drops its state.
	u.Sync("acme", []config.Upstream{{Name: "api", Targets: targets(steady.URL())}})
	if state := u.Health().Targets("acme", "api", []string{down.URL()})[0]; !state.Available(time.Now()) {
		t.Error("a removed and re-added target kept its old cool-down")
	}
}

func TestPolicyDistributionOverRealTargets(t *testing.T) {
	u := newUpstreams(t, UpstreamsOptions{})
	one, two, three := newBackend(t, "one", nil), newBackend(t, "two", nil), newBackend(t, "three", nil)
	weighted := []config.Target{{URL: one.URL(), Weight: 1}, {URL: two.URL(), Weight: 2}, {URL: three.URL(), Weight: 3}}

	t.Run("round robin", func(t *testing.T) {
		b := build(t, config.Upstream{Name: "rr", Targets: weighted})
		counts := countBodies(t, u, b, 60, nil)
		if counts["one"] != 10 || counts["two"] != 20 || counts["three"] != 30 {
			t.Errorf("requests per target = %v, want 10, 20 and 30", counts)
		}
	})
	t.Run("least conn", func(t *testing.T) {
		// Sequential requests leave no load, so ties rotate evenly.
		b := build(t, config.Upstream{Name: "lc", Balance: config.BalanceLeastConn, Targets: weighted})
		counts := countBodies(t, u, b, 60, nil)
		if counts["one"] != 20 || counts["two"] != 20 || counts["three"] != 20 {
			t.Errorf("requests per target = %v, want 20 each", counts)
		}
	})
	t.Run("consistent hash by header", func(t *testing.T) {
		b := build(t, config.Upstream{Name: "ch", Balance: config.BalanceConsistentHash, HashOn: config.HashOnHeader, HashKey: "X-User", Targets: weighted})
		for _, user := range []string{"ann", "bob", "cy"} {
			counts := countBodies(t, u, b, 10, http.Header{"X-User": {user}})
			if len(counts) != 1 {
				t.Errorf("user %s reached %v, want one target", user, counts)
			}
		}
	})
}

// countBodies sends n GETs and counts the responses by body, each
// backend's name and protocol.
func countBodies(t *testing.T, u *Upstreams, b *balancer.Balancer, n int, header http.Header) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for range n {
		got := send(t, u, b, http.MethodGet, "", header)
		if got.err != nil {
			t.Fatalf("GET failed: %v", got.err)
		}
		name, _, _ := strings.Cut(got.body, " ")
		counts[name]++
	}
	return counts
}

func TestLeastConnAvoidsBusyTarget(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	busy := newBackend(t, "busy", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "busy")
	})
	idle := newBackend(t, "idle", nil)
	u := newUpstreams(t, UpstreamsOptions{})
	b := build(t, config.Upstream{Balance: config.BalanceLeastConn, Targets: targets(busy.URL(), idle.URL())})

	// Hold one request at the busy target; ties rotate, so send until one
	// lands there.
	held := make(chan result, 1)
	go func() { held <- send(t, u, b, http.MethodGet, "", nil) }()
	select {
	case <-entered:
	case got := <-held:
		if got.body != "idle HTTP/1.1" {
			t.Fatalf("first request = %q, %v", got.body, got.err)
		}
		go func() { held <- send(t, u, b, http.MethodGet, "", nil) }()
		<-entered
	}

	counts := countBodies(t, u, b, 5, nil)
	close(release)
	if got := <-held; got.body != "busy" {
		t.Errorf("held request = %q, %v; want the busy target's", got.body, got.err)
	}
	if counts["idle"] != 5 {
		t.Errorf("requests per target while one is busy = %v, want all 5 at the idle target", counts)
	}
}
