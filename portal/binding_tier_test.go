package portal_test

import (
	"net/http"
	"testing"
)

func TestBindingTierTrustedIsOperatorOnly(t *testing.T) {
	tp := startPortal(t)
	rec := &recorded{}
	tp.seed("acme")
	developer := tp.signup(rec, "developer@example.com")
	tp.do("POST", "/api/v1/tenants/acme/members", map[string]string{"email": "developer@example.com", "role": "developer"}, http.StatusCreated)
	binding := func(tier string) map[string]any {
		return map[string]any{"plugin": "hello", "version": "1.0.0", "config": map[string]any{"greeting": "hi"}, "tier": tier}
	}

	sandboxed := tp.send(developer.as("POST", "/api/v1/tenants/acme/bindings", binding("sandboxed")))
	if sandboxed.status != http.StatusCreated {
		t.Fatalf("developer binding in the sandboxed tier: status %d, want 201; body %s", sandboxed.status, sandboxed.body)
	}
	id := decodeInto[struct {
		ID   string `json:"id"`
		Tier string `json:"tier"`
	}](t, sandboxed)
	if id.Tier != "sandboxed" {
		t.Errorf("tier = %q, want sandboxed", id.Tier)
	}

	before := tp.revision("acme")
	rejected := []request{
		developer.as("POST", "/api/v1/tenants/acme/bindings", binding("trusted")),
		developer.as("PATCH", "/api/v1/tenants/acme/bindings/"+id.ID, map[string]any{"tier": "trusted"}),
		developer.as("POST", "/api/v1/tenants/acme/apply", map[string]any{
			"upstreams": []map[string]any{{"name": "backend", "targets": []map[string]any{{"url": "http://127.0.0.1:9999", "weight": 1}}}},
			"routes":    []map[string]any{{"name": "all", "paths": []string{"/"}, "methods": []string{"GET", "POST"}, "upstream": "backend"}},
			"bindings":  []map[string]any{{"id": id.ID, "plugin": "hello", "version": "1.0.0", "config": map[string]any{"greeting": "hi"}, "tier": "trusted"}},
		}),
	}
	for _, req := range rejected {
		resp := tp.send(req)
		if resp.status != http.StatusForbidden && resp.status != http.StatusUnprocessableEntity {
			t.Errorf("%s %s by a developer: status %d, want 403 or 422; body %s", req.method, req.path, resp.status, resp.body)
		}
	}
	if got := tp.revision("acme"); got != before {
		t.Errorf("revision = %d after rejected trusted-tier writes, want %d", got, before)
	}

	tp.do("PATCH", "/api/v1/tenants/acme/bindings/"+id.ID, map[string]any{"tier": "trusted"}, http.StatusOK)
	configChange := tp.send(developer.as("PATCH", "/api/v1/tenants/acme/bindings/"+id.ID, map[string]any{"config": map[string]any{"greeting": "hello"}}))
	if configChange.status != http.StatusOK {
		t.Errorf("developer config change of a trusted binding: status %d, want 200; body %s", configChange.status, configChange.body)
	}
}
