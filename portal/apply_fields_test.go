package portal_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// applyOne applies doc to tenant acme and returns the result.
func applyOne(tp *testPortal, doc map[string]any) applyResult {
	tp.t.Helper()
	return decodeInto[applyResult](tp.t, tp.do("POST", "/api/v1/tenants/acme/apply", doc, http.StatusOK))
}

// fieldDoc is a one-route document whose upstream, route and binding a
// test edits.
func fieldDoc() map[string]any {
	return map[string]any{
		"tenant":    "acme",
		"upstreams": []map[string]any{{"name": "backend", "targets": []map[string]any{{"url": "http://127.0.0.1:9999", "weight": 1}}}},
		"routes":    []map[string]any{{"name": "all", "paths": []string{"/"}, "methods": []string{"GET", "POST"}, "upstream": "backend"}},
		"bindings":  []map[string]any{{"plugin": "hello", "version": "1.0.0", "route": "all", "config": map[string]any{"greeting": "hi"}}},
	}
}

func TestApplyZeroValuesThatMatter(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(doc map[string]any)
		check func(t *testing.T, exported map[string]any)
	}{
		{
			name: "binding enabled false",
			edit: func(doc map[string]any) { doc["bindings"].([]map[string]any)[0]["enabled"] = false },
			check: func(t *testing.T, exported map[string]any) {
				if got := firstItem(exported, "bindings")["enabled"]; got != false {
					t.Errorf("exported enabled = %v, want false", got)
				}
			},
		},
		{
			name: "binding priority 0",
			edit: func(doc map[string]any) { doc["bindings"].([]map[string]any)[0]["priority"] = 0 },
			check: func(t *testing.T, exported map[string]any) {
				if got, ok := firstItem(exported, "bindings")["priority"]; !ok || got != float64(0) {
					t.Errorf("exported priority = %v (present %v), want 0", got, ok)
				}
			},
		},
		{
			name: "upstream retries 0",
			edit: func(doc map[string]any) { doc["upstreams"].([]map[string]any)[0]["retries"] = 0 },
			check: func(t *testing.T, exported map[string]any) {
				if got, ok := firstItem(exported, "upstreams")["retries"]; !ok || got != float64(0) {
					t.Errorf("exported retries = %v (present %v), want 0", got, ok)
				}
			},
		},
		{
			name: "active health check with defaults",
			edit: func(doc map[string]any) {
				doc["upstreams"].([]map[string]any)[0]["health_check"] = map[string]any{"active": map[string]any{}}
			},
			check: func(t *testing.T, exported map[string]any) {
				check, _ := firstItem(exported, "upstreams")["health_check"].(map[string]any)
				if _, ok := check["active"]; !ok {
					t.Errorf("exported health_check = %v, want an active check", check)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := startPortal(t)
			tp.seed("acme")
			applyOne(tp, fieldDoc())
			before := tp.revision("acme")

			doc := fieldDoc()
			tt.edit(doc)
			result := applyOne(tp, doc)
			if len(result.Steps) != 1 || result.Steps[0].Action != "update" {
				t.Fatalf("apply steps = %+v, want one update", result.Steps)
			}
			if tp.revision("acme") != before+1 {
				t.Errorf("revision = %d, want %d", tp.revision("acme"), before+1)
			}
			tt.check(t, decodeInto[map[string]any](t, tp.do("GET", "/api/v1/tenants/acme/export", nil, http.StatusOK)))

			if again := applyOne(tp, doc); len(again.Steps) != 0 {
				t.Errorf("second apply steps = %+v, want none", again.Steps)
			}
			if back := applyOne(tp, fieldDoc()); len(back.Steps) != 1 {
				t.Errorf("apply of the original document: steps = %+v, want one update back", back.Steps)
			}
		})
	}
}

func firstItem(doc map[string]any, list string) map[string]any {
	items, _ := doc[list].([]any)
	if len(items) == 0 {
		return nil
	}
	item, _ := items[0].(map[string]any)
	return item
}

// fullDoc is a document that sets every field of every resource kind.
func fullDoc(cert, key string) map[string]any {
	return map[string]any{
		"tenant": "acme",
		"upstreams": []map[string]any{{
			"name":     "secure",
			"targets":  []map[string]any{{"url": "https://127.0.0.1:9443", "weight": 3}, {"url": "https://127.0.0.2:9443", "weight": 1}},
			"balance":  "consistent_hash",
			"hash_on":  "header",
			"hash_key": "X-User",
			"retries":  0,
			"protocol": "h2",
			"tls":      map[string]any{"ca_pem": cert, "client_cert_pem": cert, "client_key_pem": key, "server_name": "api.internal"},
			"health_check": map[string]any{
				"active":  map[string]any{"path": "/healthz", "interval_ms": 5000, "expected_statuses": []int{200, 204}},
				"passive": map[string]any{"max_failures": 4, "window_ms": 10000},
			},
		}},
		"routes": []map[string]any{{
			"name": "api", "paths": []string{"/api"}, "methods": []string{"GET"}, "upstream": "secure",
			"hosts":          []string{"api.example.com"},
			"headers":        []map[string]any{{"name": "X-Version", "value": "2"}, {"name": "X-Present"}},
			"query":          []map[string]any{{"name": "debug", "value": ""}},
			"priority":       5,
			"max_body_bytes": 4096,
			"https_redirect": true,
			"hsts":           map[string]any{"max_age": 0},
			"timeouts":       map[string]any{"connect_ms": 1000, "response_header_ms": 2000, "idle_ms": 3000},
		}},
		"consumers": []map[string]any{{"name": "mobile", "description": "iOS app", "tags": []string{"prod"}}},
		"bindings": []map[string]any{
			{"plugin": "hello", "version": "1.0.0", "route": "api", "config": map[string]any{"greeting": "one"}, "priority": 0},
			{"plugin": "hello", "version": "1.0.0", "route": "api", "config": map[string]any{"greeting": "two"}, "enabled": false, "timeout_ms": 20, "on_error": "open"},
			{"plugin": "hello", "version": "1.1.0", "consumer": "mobile", "config": map[string]any{"greeting": "gold"}, "allow_hosts": []string{"auth.example.com"}},
		},
	}
}

func TestApplyExportRoundTrip(t *testing.T) {
	tp := startPortalWithKey(t)
	tp.seed("acme")
	cert, key := clientPair(t)
	for _, path := range []string{"/api/v1/tenants/acme/apply?dry_run=true", "/api/v1/tenants/acme/apply"} {
		resp := tp.do("POST", path, fullDoc(cert, key), http.StatusOK)
		if strings.Contains(string(resp.body), "PRIVATE KEY") || strings.Contains(string(resp.body), "client_key_pem") {
			t.Errorf("POST %s: the steps contain the client key: %s", path, resp.body)
		}
	}
	revision := tp.revision("acme")

	exported := tp.do("GET", "/api/v1/tenants/acme/export", nil, http.StatusOK)
	if strings.Contains(string(exported.body), "PRIVATE KEY") || strings.Contains(string(exported.body), "client_key_pem") {
		t.Fatalf("export contains the client key: %s", exported.body)
	}
	if !strings.Contains(string(exported.body), `"client_key_set":true`) {
		t.Errorf("export lacks client_key_set: %s", exported.body)
	}

	var doc map[string]any
	if err := json.Unmarshal(exported.body, &doc); err != nil {
		t.Fatal(err)
	}
	if again := applyOne(tp, doc); len(again.Steps) != 0 || tp.revision("acme") != revision {
		t.Fatalf("apply of the export: steps = %+v at revision %d, want none at %d", again.Steps, tp.revision("acme"), revision)
	}

	// Editing the exported upstream keeps the stored client key.
	upstream := firstItem(doc, "upstreams")
	upstream["retries"] = 1
	if edited := applyOne(tp, doc); len(edited.Steps) != 1 {
		t.Fatalf("apply of the edited export: steps = %+v, want one update", edited.Steps)
	}
	got := tp.do("GET", "/api/v1/tenants/acme/upstreams/secure", nil, http.StatusOK)
	if !strings.Contains(string(got.body), `"client_key_set":true`) {
		t.Errorf("upstream after the edited export lost its client key: %s", got.body)
	}
}

func TestApplyKeepsInstallFollowers(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	tp.do("POST", "/api/v1/tenants/acme/installs", map[string]any{"plugin": "hello", "version": "1.0.0"}, http.StatusCreated)

	doc := fieldDoc()
	binding := doc["bindings"].([]map[string]any)[0]
	delete(binding, "version")
	applyOne(tp, doc)

	exported := decodeInto[map[string]any](t, tp.do("GET", "/api/v1/tenants/acme/export", nil, http.StatusOK))
	if version, ok := firstItem(exported, "bindings")["version"]; ok && version != "" {
		t.Errorf("exported version of a binding that follows the install = %v, want none", version)
	}
	if again := applyOne(tp, doc); len(again.Steps) != 0 {
		t.Errorf("second apply steps = %+v, want none", again.Steps)
	}

	binding["config"] = map[string]any{"greeting": "changed"}
	if changed := applyOne(tp, doc); len(changed.Steps) != 1 {
		t.Fatalf("apply of a new config: steps = %+v, want one update", changed.Steps)
	}
	tp.do("PUT", "/api/v1/tenants/acme/installs/hello", map[string]any{"version": "1.1.0"}, http.StatusOK)
	bindings := decodeInto[[]map[string]any](t, tp.do("GET", "/api/v1/tenants/acme/bindings", nil, http.StatusOK))
	if len(bindings) != 1 || bindings[0]["version"] != "1.1.0" {
		t.Errorf("bindings after the install moved to 1.1.0 = %v, want the binding on 1.1.0", bindings)
	}

	binding["version"] = "1.1.0"
	if pinned := applyOne(tp, doc); len(pinned.Steps) != 1 {
		t.Errorf("apply of an explicit version: steps = %+v, want one update that pins it", pinned.Steps)
	}
}
