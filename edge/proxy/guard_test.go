package proxy

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"portcullis.dev/tenants/config"
	"portcullis.dev/tenants/netguard"
)

func TestGuardBlocksLoopbackTarget(t *testing.T) {
	backend := newBackend(t, "local", nil)
	u := newUpstreams(t, UpstreamsOptions{Transport: TransportOptions{Guard: &netguard.Guard{Subject: "upstreams", Setting: "--upstream-allow"}}})

	got := send(t, u, build(t, config.Upstream{Targets: targets(backend.URL())}), "GET", "", nil)

	var blocked *netguard.BlockedError
	if !errors.As(got.err, &blocked) || blocked.Class != "loopback" {
		t.Fatalf("request error = %v, want a *netguard.BlockedError of a loopback address", got.err)
	}
	var dialErr *DialError
	if !errors.As(got.err, &dialErr) {
		t.Errorf("request error = %v, want a *DialError", got.err)
	}
	if n := backend.hits.Load(); n != 0 {
		t.Errorf("backend got %d requests, want none", n)
	}
}

func TestGuardAllowsAllowedNetwork(t *testing.T) {
	backend := newBackend(t, "local", nil)
	guard := &netguard.Guard{Networks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	u := newUpstreams(t, UpstreamsOptions{Transport: TransportOptions{Guard: guard}})

	got := send(t, u, build(t, config.Upstream{Targets: targets(backend.URL())}), "GET", "", nil)
	if got.err != nil {
		t.Fatalf("request to an allowed network failed: %v", got.err)
	}
}

// TestGuardedHealthCheckLogsCause checks that an active check whose probes
// the guard blocks takes the target out and logs the guard's error.
func TestGuardedHealthCheckLogsCause(t *testing.T) {
	backend := newBackend(t, "local", nil)
	var logs lockedBuffer
	guard := &netguard.Guard{Subject: "upstreams", Setting: "--upstream-allow"}
	u := newUpstreams(t, UpstreamsOptions{
		Transport: TransportOptions{Guard: guard},
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
	})

	upstream := config.Upstream{Name: "api", Targets: targets(backend.URL()), HealthCheck: &config.HealthCheck{
		Active: &config.ActiveCheck{Path: "/healthz", IntervalMS: 10, TimeoutMS: 2000, HealthyThreshold: 1, UnhealthyThreshold: 1},
	}}
	u.Sync("acme", []config.Upstream{upstream})
	state := u.Health().Targets("acme", "api", []string{backend.URL()})[0]

	waitFor(t, "the active check takes the target out", state.ActiveDown)
	waitFor(t, "the health check's log names the guard's error", func() bool {
		text := logs.String()
		return strings.Contains(text, "taken out of the rotation") && strings.Contains(text, "which upstreams may not reach")
	})
	if n := backend.hits.Load(); n != 0 {
		t.Errorf("backend got %d probes, want none", n)
	}
}

// lockedBuffer is a bytes.Buffer for a logger that several goroutines use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestGuardedRetryNamesBlockedAttempt checks that a request whose attempts
// met a blocked target and a refused one names the blocked attempt in its
// error, in either order of the attempts, and the refused one when it came
// last.
func TestGuardedRetryNamesBlockedAttempt(t *testing.T) {
	blocked := newBackend(t, "blocked", nil)
	refusing := closedURL(t)
	refused := netip.MustParseAddrPort(strings.TrimPrefix(refusing, "http://"))

	guard := &netguard.Guard{Addresses: []netip.AddrPort{refused}, Subject: "upstreams", Setting: "--upstream-allow"}
	u := newUpstreams(t, UpstreamsOptions{Transport: TransportOptions{Guard: guard}})
	b := build(t, config.Upstream{Targets: targets(blocked.URL(), refusing), Retries: new(1)})

	refusedLast := false
	for range 2 {
		got := send(t, u, b, "GET", "", nil)
		if got.err == nil || !strings.Contains(got.err.Error(), "which upstreams may not reach") {
			t.Errorf("request error = %v, want one that names the blocked attempt", got.err)
			continue
		}
		if strings.Contains(got.err.Error(), "refused") {
			refusedLast = true
			if !strings.Contains(got.err.Error(), "an earlier attempt: ") {
				t.Errorf("request error = %q, want the blocked attempt named as an earlier one", got.err)
			}
		}
	}
	if !refusedLast {
		t.Error("no request ended on the refused target, want round robin to end one there")
	}
}
