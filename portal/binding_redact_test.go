package portal_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portcullis.dev/plugins-marketplace/catalog"
	"portcullis.dev/portal/redact"
)

func TestViewerSeesBindingSecretsRedacted(t *testing.T) {
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
	id := tp.createBinding("acme", map[string]any{
		"plugin": "keyed", "version": "1.0.0",
		"config": map[string]any{"keys": []map[string]string{{"key": secret, "consumer": "mobile"}}, "header": "X-Api-Key"},
	})

	tests := []struct {
		name       string
		req        request
		wantSecret bool
	}{
		{"viewer list", viewer.as("GET", "/api/v1/tenants/acme/bindings", nil), false},
		{"viewer get", viewer.as("GET", "/api/v1/tenants/acme/bindings/"+id, nil), false},
		{"developer get", developer.as("GET", "/api/v1/tenants/acme/bindings/"+id, nil), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tp.send(tt.req)
			if resp.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", resp.status, resp.body)
			}
			if got := strings.Contains(string(resp.body), secret); got != tt.wantSecret {
				t.Errorf("secret in response = %t, want %t; body %s", got, tt.wantSecret, resp.body)
			}
			if !strings.Contains(string(resp.body), "X-Api-Key") {
				t.Errorf("non-secret config field missing; body %s", resp.body)
			}
		})
	}
}

// vaultSchema has a writeOnly field with a harmless name, an enum whose
// name looks secret, and free text under a plain and a secret-looking name.
const vaultSchema = `{"type":"object","properties":{
  "pin":{"type":"string","writeOnly":true},
  "token_kind":{"enum":["bearer","mac"]},
  "region":{"type":"string"},
  "api_token":{"type":"string"}
},"additionalProperties":false}`

// vaultConfig is a config of vaultSchema.
var vaultConfig = map[string]any{"pin": "4711", "token_kind": "bearer", "region": "eu-west", "api_token": "tk-live-0123"}

// publishRedactPlugins publishes vault 1.0.0 and limit-count with its
// catalogue schema, and returns the form that binds limit-count through
// the console with key "header" and key_header "X-Team".
func publishRedactPlugins(t *testing.T, tp *testPortal) (formPage string, form url.Values) {
	t.Helper()
	limitCount, err := catalog.Load("limit-count")
	if err != nil {
		t.Fatal(err)
	}
	tp.do("POST", "/api/v1/plugins", map[string]any{"name": "limit-count", "version": limitCount.Manifest.Version, "source": "// limit-count\n", "config_schema": limitCount.ConfigSchema}, http.StatusCreated)
	tp.do("POST", "/api/v1/plugins", map[string]any{"name": "vault", "version": "1.0.0", "source": "// vault\n", "config_schema": json.RawMessage(vaultSchema)}, http.StatusCreated)

	version := limitCount.Manifest.Version
	form = url.Values{
		"plugin": {"limit-count"}, "version": {version}, "route": {"all"}, "enabled": {"true"},
		"config.count": {"10"}, "config.time_window": {"60"}, "config.key": {"header"}, "config.key_header": {"X-Team"},
	}
	return "/ui/tenants/acme/bindings/new?plugin=limit-count&version=" + version, form
}

// checkConfigFields fails the test for each field of config whose value is
// not the wanted one.
func checkConfigFields(t *testing.T, source string, config map[string]any, want map[string]any) {
	t.Helper()
	for field, value := range want {
		if got := fmt.Sprint(config[field]); got != fmt.Sprint(value) {
			t.Errorf("%s: config.%s = %s, want %v", source, field, got, value)
		}
	}
}

var (
	// viewerLimitCount is the part of the limit-count binding that a viewer sees:
	// key is an enum value, and key_header is free text named like a key.
	viewerLimitCount = map[string]any{"count": 10, "time_window": 60, "key": "header", "key_header": redact.Placeholder}
	viewerVault      = map[string]any{"pin": redact.Placeholder, "token_kind": "bearer", "region": "eu-west", "api_token": redact.Placeholder}
)

func TestViewerSeesConfigBySchema(t *testing.T) {
	tp := startPortal(t)
	rec := &recorded{}
	tp.seed("acme")
	viewer := tp.signup(rec, "viewer@example.com")
	developer := tp.signup(rec, "developer@example.com")
	for _, member := range []struct{ email, role string }{{"viewer@example.com", "viewer"}, {"developer@example.com", "developer"}} {
		tp.do("POST", "/api/v1/tenants/acme/members", map[string]string{"email": member.email, "role": member.role}, http.StatusCreated)
	}
	formPage, form := publishRedactPlugins(t, tp)

	web := newWebClient(tp)
	web.signIn(url.Values{"method": {"operator"}, "token": {testToken}})
	resp := web.submit(formPage, "/ui/tenants/acme/bindings", form)
	mustRedirect(t, "create limit-count binding", resp, "/ui/tenants/acme/bindings")
	limitID := decodeInto[[]struct {
		ID string `json:"id"`
	}](t, tp.do("GET", "/api/v1/tenants/acme/bindings?plugin=limit-count", nil, http.StatusOK))[0].ID

	tp.do("POST", "/api/v1/tenants/acme/installs", map[string]any{"plugin": "vault", "version": "1.0.0"}, http.StatusCreated)
	vaultID := tp.createBinding("acme", map[string]any{"plugin": "vault", "route": "all", "config": vaultConfig})

	type binding struct {
		ID     string         `json:"id"`
		Config map[string]any `json:"config"`
	}
	for _, id := range []string{limitID, vaultID} {
		got := decodeInto[binding](t, tp.send(viewer.as("GET", "/api/v1/tenants/acme/bindings/"+id, nil)))
		checkConfigFields(t, "viewer get "+id, got.Config, map[string]map[string]any{limitID: viewerLimitCount, vaultID: viewerVault}[id])
	}
	listed := decodeInto[[]binding](t, tp.send(viewer.as("GET", "/api/v1/tenants/acme/bindings", nil)))
	exported := decodeInto[struct{ Bindings []binding }](t, tp.send(viewer.as("GET", "/api/v1/tenants/acme/export", nil)))
	for source, bindings := range map[string][]binding{"viewer list": listed, "viewer export": exported.Bindings} {
		if len(bindings) != 2 {
			t.Fatalf("%s = %+v, want two bindings", source, bindings)
		}
		checkConfigFields(t, source, bindings[0].Config, viewerLimitCount)
		checkConfigFields(t, source, bindings[1].Config, viewerVault)
	}

	whole := decodeInto[binding](t, tp.send(developer.as("GET", "/api/v1/tenants/acme/bindings/"+vaultID, nil)))
	checkConfigFields(t, "developer get", whole.Config, vaultConfig)
	whole = decodeInto[binding](t, tp.send(developer.as("GET", "/api/v1/tenants/acme/bindings/"+limitID, nil)))
	checkConfigFields(t, "developer get", whole.Config, map[string]any{"key": "header", "key_header": "X-Team"})

	viewerWeb := newWebClient(tp)
	viewerWeb.signIn(url.Values{"method": {"password"}, "email": {"viewer@example.com"}, "password": {testPassword}})
	page := viewerWeb.page("/ui/tenants/acme/bindings", nil)
	for _, visible := range []string{`&#34;key&#34;:&#34;header&#34;`, `&#34;token_kind&#34;:&#34;bearer&#34;`, `&#34;region&#34;:&#34;eu-west&#34;`} {
		if !strings.Contains(page, visible) {
			t.Errorf("viewer's binding page lacks %s", visible)
		}
	}
	for _, hidden := range []string{"X-Team", "4711", "tk-live-0123"} {
		if strings.Contains(page, hidden) {
			t.Errorf("viewer's binding page shows the secret %q", hidden)
		}
	}
}

func TestAuditRedactsBindingsBySchema(t *testing.T) {
	tp := startPortal(t)
	tp.seed("acme")
	formPage, form := publishRedactPlugins(t, tp)

	web := newWebClient(tp)
	web.signIn(url.Values{"method": {"operator"}, "token": {testToken}})
	resp := web.submit(formPage, "/ui/tenants/acme/bindings", form)
	mustRedirect(t, "create limit-count binding", resp, "/ui/tenants/acme/bindings")
	vaultID := tp.createBinding("acme", map[string]any{"plugin": "vault", "version": "1.0.0", "route": "all", "config": vaultConfig})
	tp.do("PATCH", "/api/v1/tenants/acme/bindings/"+vaultID, map[string]any{"enabled": false}, http.StatusOK)

	tp.do("POST", "/api/v1/tenants", map[string]any{"slug": "declared", "name": "Declared"}, http.StatusCreated)
	document := map[string]any{"tenant": "declared", "bindings": []map[string]any{{"plugin": "vault", "version": "1.0.0", "config": vaultConfig}}}
	tp.do("POST", "/api/v1/tenants/declared/apply", document, http.StatusOK)

	type state struct {
		Config map[string]any `json:"config"`
	}
	events := decodeInto[auditPage](t, tp.do("GET", "/api/v1/audit?limit=500", nil, http.StatusOK)).Events
	checked := 0
	for _, event := range events {
		switch {
		case event.Method == "POST" && strings.Contains(event.Resource, "/acme/bindings/") && !strings.HasSuffix(event.Resource, vaultID):
			checkConfigFields(t, "console create audit", decodeRaw[state](t, event.After).Config, viewerLimitCount)
		case strings.HasSuffix(event.Resource, "/acme/bindings/"+vaultID):
			checkConfigFields(t, event.Method+" audit after", decodeRaw[state](t, event.After).Config, viewerVault)
			if event.Method == "PATCH" {
				checkConfigFields(t, "PATCH audit before", decodeRaw[state](t, event.Before).Config, viewerVault)
			}
		case event.Resource == "/api/v1/tenants/declared/apply":
			result := decodeRaw[struct{ Steps []struct{ After state } }](t, event.After)
			if len(result.Steps) != 1 {
				t.Fatalf("apply audit steps = %s, want one", event.After)
			}
			checkConfigFields(t, "apply audit", result.Steps[0].After.Config, viewerVault)
		default:
			continue
		}
		checked++
	}
	if checked != 4 {
		t.Errorf("checked %d audit events of bindings, want 4 (console create, API create, PATCH, apply); events %+v", checked, events)
	}
}

func decodeRaw[T any](t *testing.T, data rawJSON) T {
	t.Helper()
	var value T
	if err := json.Unmarshal(data, &value); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return value
}
