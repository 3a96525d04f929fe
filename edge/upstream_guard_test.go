package edge

import (
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"portcullis.dev/tenants/netguard"
)

// TestUpstreamGuardBlocksLoopback checks that an edge with an upstream
// guard responds with 502 to a tenant whose upstream is on loopback, sends
// nothing to it, hides the address from the client and logs the cause, and
// that an allowed address passes.
func TestUpstreamGuardBlocksLoopback(t *testing.T) {
	var hits atomic.Int64
	target := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	}))
	allowed := netip.MustParseAddrPort(strings.TrimPrefix(target, "http://"))
	source := newMemorySource(
		tenantBundle(t, "acme", 1, target, allRoute, nil),
	)
	guard := &netguard.Guard{Subject: "upstreams", Setting: "--upstream-allow"}
	te := startEdge(t, source, func(cfg *Config) { cfg.UpstreamGuard = guard })

	for _, protocol := range []string{"h1", "h3"} {
		got := te.do(t, protocol, "GET", "acme.localhost", "/x")
		details := checkProblem(t, got, http.StatusBadGateway)
		if !strings.Contains(details.Detail, "not public") || strings.Contains(details.Detail, "127.0.0.1") {
			t.Errorf("%s: problem detail %q, want one that says the address is not public and hides it", protocol, details.Detail)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the loopback upstream got %d requests, want none", n)
	}
	logged := false
	for _, record := range te.logs.records(t, "request failed") {
		if message, _ := record["error"].(string); strings.Contains(message, "which upstreams may not reach") {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no \"request failed\" record names the blocked address")
	}

	allowing := &netguard.Guard{Addresses: []netip.AddrPort{allowed}}
	te = startEdge(t, source, func(cfg *Config) { cfg.UpstreamGuard = allowing })
	if got := te.do(t, "h1", "GET", "acme.localhost", "/x"); got.StatusCode != http.StatusOK {
		t.Errorf("status with the address allowed = %d, want 200", got.StatusCode)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the allowed upstream got %d requests, want 1", n)
	}
}
