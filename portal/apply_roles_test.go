package portal_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestApplyOfViewerExport(t *testing.T) {
	tp := startPortal(t)
	rec := &recorded{}
	tp.seed("acme")
	viewer := tp.signup(rec, "viewer@example.com")
	developer := tp.signup(rec, "developer@example.com")
	for _, member := range []struct{ email, role string }{{"viewer@example.com", "viewer"}, {"developer@example.com", "developer"}} {
		tp.do("POST", "/api/v1/tenants/acme/members", map[string]string{"email": member.email, "role": member.role}, http.StatusCreated)
	}
	tp.do("POST", "/api/v1/plugins", map[string]any{"name": "keyed", "version": "1.0.0", "source": "// keyed\n"}, http.StatusCreated)
	const secret = "live-key-0123456789"
	tp.createBinding("acme", map[string]any{
		"plugin": "keyed", "version": "1.0.0", "route": "all",
		"config": map[string]any{"keys": []map[string]string{{"key": secret}}, "header": "X-Api-Key"},
	})
	before := tp.revision("acme")

	seen := tp.send(viewer.as("GET", "/api/v1/tenants/acme/export", nil))
	if seen.status != http.StatusOK || strings.Contains(string(seen.body), secret) {
		t.Fatalf("viewer export: status %d, body %s; want 200 without the secret", seen.status, seen.body)
	}
	var doc map[string]any
	if err := json.Unmarshal(seen.body, &doc); err != nil {
		t.Fatal(err)
	}

	denied := tp.send(viewer.as("POST", "/api/v1/tenants/acme/apply?dry_run=true", doc))
	if denied.status != http.StatusForbidden {
		t.Errorf("viewer dry run: status = %d, want 403; body %s", denied.status, denied.body)
	}
	rejected := tp.send(developer.as("POST", "/api/v1/tenants/acme/apply", doc))
	checkProblem(t, rejected, http.StatusUnprocessableEntity, "bindings[0].config.keys")

	if got := tp.revision("acme"); got != before {
		t.Errorf("revision = %d, want %d unchanged", got, before)
	}
	mine := tp.send(developer.as("GET", "/api/v1/tenants/acme/export", nil))
	if !strings.Contains(string(mine.body), secret) {
		t.Errorf("developer export lost the secret: %s", mine.body)
	}
	var full map[string]any
	if err := json.Unmarshal(mine.body, &full); err != nil {
		t.Fatal(err)
	}
	if again := tp.send(developer.as("POST", "/api/v1/tenants/acme/apply", full)); again.status != http.StatusOK || strings.Contains(string(again.body), `"action"`) {
		t.Errorf("developer apply of a developer export: status %d, body %s; want 200 and no steps", again.status, again.body)
	}
}
