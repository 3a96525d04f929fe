package allinone

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"portcullis.dev/tenants/netguard"
)

func TestDemoServesHelloPlugin(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Demo = true
	h := startHarnessWith(t, cfg)
	demoURL := h.protocols()[0].baseURL("demo.localhost")

	response, body, err := get(context.Background(), h.h1, demoURL+"/hello", nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if response.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200; body %s", response.StatusCode, body)
	}
	if got := response.Header.Get("X-Hello"); got != "hello from Portcullis" {
		t.Errorf("X-Hello: got %q, want the demo greeting", got)
	}

	response, body, err = get(context.Background(), h.h1, demoURL+"/blocked", nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if response.StatusCode != http.StatusForbidden {
		t.Errorf("/blocked status: got %d, want 403; body %s", response.StatusCode, body)
	}

	instructions := h.server.DemoInstructions()
	if !strings.Contains(instructions, "http://demo.localhost:") {
		t.Errorf("instructions do not name the demo URL:\n%s", instructions)
	}
	if strings.Contains(instructions, testToken) {
		t.Errorf("instructions print the operator token")
	}
}

func TestDemoSeedRunsTwice(t *testing.T) {
	dataDir := t.TempDir()
	cfg := testConfig(dataDir)
	cfg.Demo = true

	first, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	if err := first.Shutdown(context.Background()); err != nil {
		t.Fatalf("first shutdown: %v", err)
	}

	h := startHarnessWith(t, cfg)
	var bindings []map[string]any
	h.mustAPI(http.MethodGet, "/api/v1/tenants/demo/bindings", nil, &bindings)
	if len(bindings) != 1 {
		t.Errorf("bindings after a second --demo start: got %d, want 1", len(bindings))
	}
	response, body, err := get(context.Background(), h.h1, h.protocols()[0].baseURL("demo.localhost")+"/hello", nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if response.StatusCode != http.StatusOK {
		t.Errorf("status after restart: got %d, want 200; body %s", response.StatusCode, body)
	}
}

// TestDemoGuardAllowsOnlyDemoUpstream checks that an upstream guard lets
// the demo tenant reach the demo upstream on loopback, and keeps another
// tenant's upstream from reaching the portal on loopback.
func TestDemoGuardAllowsOnlyDemoUpstream(t *testing.T) {
	cfg := testConfig(t.TempDir())
	cfg.Demo = true
	cfg.UpstreamGuard = &netguard.Guard{Subject: "upstreams", Setting: "--upstream-allow"}
	h := startHarnessWith(t, cfg)
	base := h.protocols()[0].baseURL

	response, body, err := get(context.Background(), h.h1, base("demo.localhost")+"/hello", nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if response.StatusCode != http.StatusOK {
		t.Fatalf("demo status = %d, want 200; body %s", response.StatusCode, body)
	}

	h.mustAPI(http.MethodPost, "/api/v1/tenants", map[string]any{"slug": "probe", "name": "Probe"}, nil)
	h.mustAPI(http.MethodPost, "/api/v1/tenants/probe/upstreams", map[string]any{
		"name": "portal", "targets": []map[string]any{{"url": h.server.PortalURL(), "weight": 1}},
	}, nil)
	h.mustAPI(http.MethodPost, "/api/v1/tenants/probe/routes", map[string]any{
		"name": "all", "paths": []string{"/"}, "upstream": "portal",
	}, nil)

	response, body, err = get(context.Background(), h.h1, base("probe.localhost")+"/healthz", nil)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if response.StatusCode != http.StatusBadGateway {
		t.Errorf("status of an upstream at the portal = %d, want 502; body %s", response.StatusCode, body)
	}
}
