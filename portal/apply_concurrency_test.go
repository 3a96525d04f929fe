package portal_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

func TestApplyRollsBackFailingStep(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	token := tp.edgeToken()
	before := tp.revision("acme")
	eventsBefore := tp.feedChanges(token, "after=0")
	exportBefore := tp.do("GET", "/api/v1/tenants/acme/export", nil, http.StatusOK)

	// The upstream, route and consumer steps succeed; the binding's config
	// breaks the plugin's schema, which only the store checks.
	doc := desiredAcme()
	doc["bindings"].([]map[string]any)[1]["config"] = map[string]any{"greeting": 42}
	for _, path := range []string{"/api/v1/tenants/acme/apply?dry_run=true", "/api/v1/tenants/acme/apply"} {
		resp := tp.send(request{method: "POST", path: path, body: doc})
		checkProblem(t, resp, http.StatusUnprocessableEntity, "bindings[1].config.greeting")
	}

	if got := tp.revision("acme"); got != before {
		t.Errorf("revision after a failed apply = %d, want %d", got, before)
	}
	if events := tp.feedChanges(token, "after=0"); len(events) != len(eventsBefore) {
		t.Errorf("change events after a failed apply = %+v, want %+v", events, eventsBefore)
	}
	exportAfter := tp.do("GET", "/api/v1/tenants/acme/export", nil, http.StatusOK)
	if !jsonEqual(t, exportBefore.body, exportAfter.body) {
		t.Errorf("a failed apply changed the tenant:\nbefore %s\nafter  %s", exportBefore.body, exportAfter.body)
	}
}

func TestApplyConcurrent(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	token := tp.edgeToken()
	start := tp.revision("acme")

	// Each document replaces every route with its own route, so a state
	// with two routes would show that two applies interleaved.
	const applies = 4
	statuses := make([]int, applies)
	var wg sync.WaitGroup
	for i := range applies {
		doc := desiredAcme()
		doc["routes"] = []map[string]any{{"name": fmt.Sprintf("r%d", i), "paths": []string{"/api"}, "upstream": "backend"}}
		doc["bindings"] = []map[string]any{{"plugin": "hello", "version": "1.0.0", "route": fmt.Sprintf("r%d", i), "config": map[string]any{"greeting": "hi"}}}
		wg.Go(func() {
			statuses[i] = tp.send(request{method: "POST", path: "/api/v1/tenants/acme/apply", body: doc}).status
		})
	}
	wg.Wait()

	succeeded := 0
	for i, status := range statuses {
		switch status {
		case http.StatusOK:
			succeeded++
		case http.StatusConflict:
		default:
			t.Errorf("apply %d: status = %d, want 200 or 409", i, status)
		}
	}
	if succeeded == 0 {
		t.Fatalf("statuses = %v, want at least one apply to land", statuses)
	}

	exported := decodeInto[exportedDoc](t, tp.do("GET", "/api/v1/tenants/acme/export", nil, http.StatusOK))
	if len(exported.Routes) != 1 || len(exported.Bindings) != 1 {
		t.Errorf("export after concurrent applies = %+v, want one route and its one binding", exported)
	}
	if got := tp.revision("acme"); got > start+int64(succeeded) || got <= start {
		t.Errorf("revision = %d after %d applies from %d, want one new revision per apply at most", got, succeeded, start)
	}

	seen := map[int64]bool{}
	for _, event := range tp.feedChanges(token, "after=0") {
		if event.Tenant != "acme" {
			continue
		}
		if seen[event.Revision] {
			t.Errorf("revision %d of acme appears twice in the change feed", event.Revision)
		}
		seen[event.Revision] = true
	}
}

func TestApplyListLimit(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	before := tp.revision("acme")

	consumers := make([]map[string]any, 1001)
	for i := range consumers {
		consumers[i] = map[string]any{"name": fmt.Sprintf("c%04d", i)}
	}
	doc := desiredAcme()
	doc["consumers"] = consumers
	resp := tp.send(request{method: "POST", path: "/api/v1/tenants/acme/apply", body: doc})
	checkProblem(t, resp, http.StatusUnprocessableEntity, "consumers")

	doc["consumers"] = consumers[:1000]
	doc["bindings"] = []map[string]any{}
	applied := decodeInto[applyResult](t, tp.do("POST", "/api/v1/tenants/acme/apply", doc, http.StatusOK))
	if got := tp.revision("acme"); got != before+1 || len(applied.Steps) < 1000 {
		t.Errorf("apply of 1000 consumers: %d steps, revision %d; want them all in revision %d", len(applied.Steps), got, before+1)
	}
}
