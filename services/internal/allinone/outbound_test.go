package allinone

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

// fetchSource responds to each request with the body of an outbound
// request to conf["url"]. A failed outbound request fails the hook.
const fetchSource = `func access(ctx, conf) {
  ctx.exit(200, ctx.http.get(conf["url"])["body"])
}
`

// startFetchTenant starts a server with cfg, a loopback target that counts
// its requests, and tenant acme whose plugin fetches the target with the
// target in its binding's allow_hosts.
func startFetchTenant(t *testing.T, cfg Config) (*harness, *atomic.Int64) {
	t.Helper()
	hits := &atomic.Int64{}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "pong")
	}))
	t.Cleanup(target.Close)

	h := startHarnessWith(t, cfg)
	h.addTenant("acme", upstream(t, "acme"), "/")
	h.mustAPI(http.MethodPost, "/api/v1/plugins", map[string]any{
		"name": "fetcher", "version": "1.0.0", "source": fetchSource,
		"config_schema": json.RawMessage(`{"type":"object","properties":{"url":{"type":"string"}}}`),
	}, nil)
	h.mustAPI(http.MethodPost, "/api/v1/tenants/acme/bindings", map[string]any{
		"plugin": "fetcher", "version": "1.0.0", "config": map[string]any{"url": target.URL + "/admin"},
		"allow_hosts": []string{strings.TrimPrefix(target.URL, "http://")}, "timeout_ms": 1000,
	}, nil)
	return h, hits
}

func TestPluginOutboundLoopbackBlockedByDefault(t *testing.T) {
	h, hits := startFetchTenant(t, testConfig(t.TempDir()))

	response, body, err := get(context.Background(), h.h1, "http://acme.localhost/", nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if response.StatusCode == http.StatusOK {
		t.Errorf("status = 200 with body %q, want the plugin's outbound request to 127.0.0.1 rejected", body)
	}
	if got := hits.Load(); got != 0 {
		t.Errorf("loopback target received %d requests, want none", got)
	}
}

func TestPluginOutboundAllowReachesEdge(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.PluginOutboundAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	h, hits := startFetchTenant(t, cfg)

	response, body, err := get(context.Background(), h.h1, "http://acme.localhost/", nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if response.StatusCode != http.StatusOK || string(body) != "pong" {
		t.Errorf("response = %d %q, want 200 pong from the allowed loopback target", response.StatusCode, body)
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("loopback target received %d requests, want 1", got)
	}
}
