package edge

import (
	"encoding/json"
	"net/http"
	"testing"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// identifySource identifies the consumer named by X-Who in access, and
// counts its access runs in X-Identify-Runs.
const identifySource = `func access(ctx, conf) {
	ctx.req.set_header("X-Identify-Runs", ctx.req.header("X-Identify-Runs") + "1")
	who := ctx.req.header("X-Who")
	if who != "" {
		ctx.consumer.set(who)
	}
}
`

// gateSource ends a request that carries X-Deny with a 403 in access.
const gateSource = `func access(ctx, conf) {
	if ctx.req.header("X-Deny") != "" {
		ctx.exit(403, "denied\n")
	}
}
`

// accessIdentifiedTenant returns tenant acme whose consumer alice is
// identified in access, with the tier plugin bound to the tenant and to
// alice, and debug headers on.
func accessIdentifiedTenant(t *testing.T, target string) *memorySource {
	t.Helper()
	routes := []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}}
	bindings := []config.Binding{
		{ID: "b-identify", Plugin: "identify", Version: "1.0.0", Priority: new(100)},
		{ID: "b-gate", Plugin: "gate", Version: "1.0.0", Priority: new(50)},
		{ID: "b-tier", Plugin: "tier", Version: "1.0.0", Config: json.RawMessage(`{"tier":"basic"}`)},
		{ID: "b-gold", Plugin: "tier", Version: "2.0.0", Consumer: "alice", Config: json.RawMessage(`{"tier":"gold"}`)},
	}
	b := tenantBundle(t, "acme", 1, target, routes, bindings,
		plugin("identify", "1.0.0", identifySource), plugin("gate", "1.0.0", gateSource),
		plugin("tier", "1.0.0", tierSource), plugin("tier", "2.0.0", tierSource))
	b.Consumers = []bundle.Consumer{{Name: "alice"}}
	b.DebugHeaders = true
	if err := b.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	return newMemorySource(b)
}

func TestConsumerIdentifiedInAccess(t *testing.T) {
	upstream, hits := echoUpstream(t, "api")
	te := startEdge(t, accessIdentifiedTenant(t, upstream.URL), nil)

	tests := []struct {
		name         string
		header       http.Header
		wantStatus   int
		wantUpstream string
		wantResponse string
		wantPlugins  string
	}{
		{"no consumer", http.Header{}, http.StatusOK, "basic", "basic", "identify@1.0.0,gate@1.0.0,tier@1.0.0"},
		{"alice keeps the access phase that ran", http.Header{"X-Who": {"alice"}}, http.StatusOK, "basic", "gold", "identify@1.0.0,gate@1.0.0,tier@2.0.0"},
		{"an exit after alice's identification", http.Header{"X-Who": {"alice"}, "X-Deny": {"1"}}, http.StatusForbidden, "", "gold", "identify@1.0.0,gate@1.0.0,tier@2.0.0"},
		{"an exit without a consumer", http.Header{"X-Deny": {"1"}}, http.StatusForbidden, "", "basic", "identify@1.0.0,gate@1.0.0,tier@1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hits.Load()
			got := te.doWith(t, "h1", "GET", "acme.localhost", "/", tt.header)
			if got.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", got.StatusCode, tt.wantStatus, got.body)
			}
			if tier := got.Header.Get("X-Tier"); tier != tt.wantResponse {
				t.Errorf("response X-Tier (header_filter phase) = %q, want %q", tier, tt.wantResponse)
			}
			if plugins := got.Header.Get(pluginsHeader); plugins != tt.wantPlugins {
				t.Errorf("%s = %q, want %q", pluginsHeader, plugins, tt.wantPlugins)
			}
			if tt.wantStatus != http.StatusOK {
				if hits.Load() != before {
					t.Errorf("the upstream was called for an ended request")
				}
				return
			}

			seen := got.seen(t)
			if tier := seen.Header.Get("X-Tier"); tier != tt.wantUpstream {
				t.Errorf("upstream X-Tier (access phase) = %q, want %q", tier, tt.wantUpstream)
			}
			if runs := seen.Header.Get("X-Identify-Runs"); runs != "1" {
				t.Errorf("upstream X-Identify-Runs = %q, want one access run", runs)
			}
		})
	}
}
