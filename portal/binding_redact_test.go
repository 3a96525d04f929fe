package portal_test

import (
	"net/http"
	"strings"
	"testing"
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
