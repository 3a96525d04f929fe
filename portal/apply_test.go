package portal_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

type applyResult struct {
	DryRun bool `json:"dry_run"`
	Steps  []struct {
		Action   string `json:"action"`
		Resource string `json:"resource"`
	} `json:"steps"`
	Revision int64 `json:"revision"`
}

// exportedDoc is the part of an export that the tests check.
type exportedDoc struct {
	Routes []struct {
		Name string `json:"name"`
	} `json:"routes"`
	Bindings []struct {
		ID       string `json:"id"`
		Consumer string `json:"consumer"`
	} `json:"bindings"`
}

// desiredAcme is a document that replaces the seeded route "all" with
// route "api" on a new upstream, adds consumer "mobile", and binds hello to
// the route and to the consumer.
func desiredAcme() map[string]any {
	return map[string]any{
		"tenant": "acme",
		"upstreams": []map[string]any{
			{"name": "backend", "targets": []map[string]any{{"url": "http://127.0.0.1:9999", "weight": 1}}},
			{"name": "second", "targets": []map[string]any{{"url": "http://127.0.0.1:9998", "weight": 2}}},
		},
		"routes":    []map[string]any{{"name": "api", "paths": []string{"/api"}, "methods": []string{"GET"}, "upstream": "second"}},
		"consumers": []map[string]any{{"name": "mobile", "description": "iOS app"}},
		"bindings": []map[string]any{
			{"plugin": "hello", "version": "1.0.0", "route": "api", "config": map[string]any{"greeting": "hi"}},
			{"plugin": "hello", "version": "1.1.0", "consumer": "mobile", "config": map[string]any{"greeting": "gold"}},
		},
	}
}

func TestApplyDocument(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	start := tp.revision("acme")

	planned := decodeInto[applyResult](t, tp.do("POST", "/api/v1/tenants/acme/apply?dry_run=true", desiredAcme(), http.StatusOK))
	if !planned.DryRun || len(planned.Steps) != 6 || tp.revision("acme") != start {
		t.Fatalf("dry run = %+v at revision %d, want 6 steps and revision %d unchanged", planned, tp.revision("acme"), start)
	}
	if last := planned.Steps[len(planned.Steps)-1]; last.Action != "delete" || last.Resource != "route/all" {
		t.Errorf("last step = %+v, want the delete of route/all after every create", last)
	}

	applied := decodeInto[applyResult](t, tp.do("POST", "/api/v1/tenants/acme/apply", desiredAcme(), http.StatusOK))
	if applied.Revision != start+1 || tp.revision("acme") != start+1 {
		t.Fatalf("apply revision = %d (tenant at %d), want one new revision %d", applied.Revision, tp.revision("acme"), start+1)
	}

	exported := decodeInto[exportedDoc](t, tp.do("GET", "/api/v1/tenants/acme/export", nil, http.StatusOK))
	if len(exported.Routes) != 1 || exported.Routes[0].Name != "api" || len(exported.Bindings) != 2 || exported.Bindings[1].Consumer != "mobile" {
		t.Fatalf("export after apply = %+v, want route api and two bindings", exported)
	}

	again := decodeInto[applyResult](t, tp.do("POST", "/api/v1/tenants/acme/apply", desiredAcme(), http.StatusOK))
	if len(again.Steps) != 0 || tp.revision("acme") != start+1 {
		t.Errorf("second apply = %+v at revision %d, want no steps and no new revision", again, tp.revision("acme"))
	}

	changed := desiredAcme()
	changed["bindings"].([]map[string]any)[0]["config"] = map[string]any{"greeting": "hello"}
	updated := decodeInto[applyResult](t, tp.do("POST", "/api/v1/tenants/acme/apply", changed, http.StatusOK))
	if len(updated.Steps) != 1 || updated.Steps[0].Resource != "binding/"+exported.Bindings[0].ID {
		t.Errorf("apply of one changed config = %+v, want one update of binding %s in place", updated.Steps, exported.Bindings[0].ID)
	}
}

func TestApplyRefusesWithoutChange(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	before := tp.revision("acme")
	exportBefore := tp.do("GET", "/api/v1/tenants/acme/export", nil, http.StatusOK)

	unknownPlugin := desiredAcme()
	unknownPlugin["bindings"].([]map[string]any)[1]["plugin"] = "nowhere"
	otherTenant := desiredAcme()
	otherTenant["tenant"] = "globex"
	duplicate := desiredAcme()
	duplicate["routes"] = []map[string]any{
		{"name": "api", "paths": []string{"/api"}, "upstream": "second"},
		{"name": "api", "paths": []string{"/v2"}, "upstream": "second"},
	}

	tests := []struct {
		name      string
		doc       map[string]any
		wantField string
	}{
		{"unpublished plugin", unknownPlugin, "bindings[1].plugin"},
		{"another tenant's document", otherTenant, "tenant"},
		{"duplicate route name", duplicate, "routes[1].name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tp.send(request{method: "POST", path: "/api/v1/tenants/acme/apply", body: tt.doc})
			checkProblem(t, resp, http.StatusUnprocessableEntity, tt.wantField)
		})
	}

	exportAfter := tp.do("GET", "/api/v1/tenants/acme/export", nil, http.StatusOK)
	if tp.revision("acme") != before || !jsonEqual(t, exportBefore.body, exportAfter.body) {
		t.Errorf("a refused apply changed the tenant:\nbefore %s\nafter  %s", exportBefore.body, exportAfter.body)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	ax, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(ax) == string(by)
}
