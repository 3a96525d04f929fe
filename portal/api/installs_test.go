package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"portcullis.dev/portal/redact"
	"portcullis.dev/portal/store"
)

// publishGuard publishes the plugin "guard" at version with a config
// schema whose "greeting" has the JSON type kind.
func publishGuard(w *walkServer, version, kind string) {
	w.t.Helper()
	schema := map[string]any{"type": "object", "properties": map[string]any{"greeting": map[string]any{"type": kind}}}
	body := map[string]any{"name": "guard", "version": version, "source": noopSource, "config_schema": schema}
	w.must(walkOperatorToken, "POST", "/api/v1/plugins", body, http.StatusCreated)
}

func decodeInstall(t *testing.T, data []byte) store.Install {
	t.Helper()
	var install store.Install
	if err := json.Unmarshal(data, &install); err != nil {
		t.Fatalf("decode install: %v; body %s", err, data)
	}
	return install
}

func TestInstallHeldBackView(t *testing.T) {
	marketDialects(t, func(t *testing.T, w *walkServer) {
		_, owner := w.signupAndLogin("owner@example.com")
		_, viewer := w.signupAndLogin("viewer@example.com")
		base := "/api/v1/tenants/acme"
		w.must(owner, "POST", "/api/v1/tenants", map[string]string{"slug": "acme", "name": "Acme"}, http.StatusCreated)
		w.must(owner, "POST", base+"/members", map[string]string{"email": "viewer@example.com", "role": "viewer"}, http.StatusCreated)
		publishGuard(w, "1.0.0", "string")
		w.must(owner, "POST", base+"/installs", map[string]any{"plugin": "guard", "range": "^1"}, http.StatusCreated)
		var binding struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(w.must(owner, "POST", base+"/bindings", map[string]any{"plugin": "guard", "config": map[string]any{"greeting": "hi"}}, http.StatusCreated), &binding); err != nil {
			t.Fatalf("decode binding: %v", err)
		}

		publishGuard(w, "1.1.0", "integer")

		data := w.must(owner, "GET", base+"/installs/guard", nil, http.StatusOK)
		loadOpenAPI(t, w).check("GET", "/api/v1/tenants/:slug/installs/:plugin", http.StatusOK, data)
		install := decodeInstall(t, data)
		if install.Version != "1.0.0" {
			t.Errorf("install version after 1.1.0 = %s, want 1.0.0", install.Version)
		}
		if install.HeldBack == nil {
			t.Fatalf("install after 1.1.0 = %s, want 1.1.0 held back", data)
		}
		if install.HeldBack.Version != "1.1.0" {
			t.Errorf("held-back version = %s, want 1.1.0", install.HeldBack.Version)
		}
		if install.HeldBack.Binding != binding.ID {
			t.Errorf("held-back binding = %s, want %s", install.HeldBack.Binding, binding.ID)
		}
		if !strings.Contains(install.HeldBack.Message, "config.greeting") {
			t.Errorf("held-back message for the owner = %q, want the schema error on config.greeting", install.HeldBack.Message)
		}

		seen := decodeInstall(t, w.must(viewer, "GET", base+"/installs/guard", nil, http.StatusOK))
		if seen.HeldBack == nil {
			t.Fatalf("install for a viewer = %+v, want 1.1.0 held back", seen)
		}
		if seen.HeldBack.Message != redact.Placeholder {
			t.Errorf("held-back message for a viewer = %q, want %s", seen.HeldBack.Message, redact.Placeholder)
		}
		if seen.HeldBack.Binding != binding.ID {
			t.Errorf("held-back binding for a viewer = %s, want %s", seen.HeldBack.Binding, binding.ID)
		}
		var listed []store.Install
		if err := json.Unmarshal(w.must(viewer, "GET", base+"/installs", nil, http.StatusOK), &listed); err != nil {
			t.Fatalf("decode installs: %v", err)
		}
		if len(listed) != 1 || listed[0].HeldBack == nil || listed[0].HeldBack.Message != redact.Placeholder {
			t.Errorf("install list for a viewer = %+v, want the held-back message as %s", listed, redact.Placeholder)
		}

		status, body := w.call(owner, "PUT", base+"/installs/guard", map[string]any{"version": "1.1.0"})
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("PUT install 1.1.0: status = %d, want 422; body %s", status, body)
		}
		var problem Problem
		if err := json.Unmarshal(body, &problem); err != nil {
			t.Fatalf("decode problem: %v", err)
		}
		if want := "bindings." + binding.ID + ".config.greeting"; len(problem.Errors) != 1 || problem.Errors[0].Field != want {
			t.Errorf("PUT install 1.1.0: errors = %+v, want one on %s", problem.Errors, want)
		}
	})
}

func TestOpenAPIDescribesHeldBack(t *testing.T) {
	doc := buildOpenAPI(operations())
	operation := doc["paths"].(map[string]map[string]any)["/api/v1/tenants/{slug}/installs/{plugin}"]["get"].(map[string]any)

	encoded, err := json.Marshal(operation["responses"])
	if err != nil {
		t.Fatalf("encode responses: %v", err)
	}

	text := string(encoded)
	for _, want := range []string{`"held_back"`, `"vector"`, `"message"`, "test vector marked binding_config"} {
		if !strings.Contains(text, want) {
			t.Errorf("GET install responses do not contain %s: %s", want, text)
		}
	}
}
