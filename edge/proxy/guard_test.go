package proxy

import (
	"errors"
	"net/netip"
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
