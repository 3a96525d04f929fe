package api

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"portcullis.dev/portal/store"
)

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func ecdsaPublicKeyPEM(t *testing.T) string {
	t.Helper()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate ECDSA key: %v", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatalf("marshal public key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestConsumerCredentials(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dataSource string) {
		logs := &lockedBuffer{}
		logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		checkConsumerCredentials(t, startLoggedServer(t, dataSource, logger), logs)
	})
}

func checkConsumerCredentials(t *testing.T, w *walkServer, logs *lockedBuffer) {
	base := "/api/v1/tenants/acme"
	w.must(walkOperatorToken, "POST", "/api/v1/tenants", map[string]string{"slug": "acme", "name": "Acme"}, http.StatusCreated)
	w.must(walkOperatorToken, "POST", base+"/consumers", map[string]any{"name": "mobile", "description": "iOS app", "tags": []string{"prod"}}, http.StatusCreated)
	before := tenantRevision(t, w, "acme")

	secretValues := []string{"key-auth-secret-0123456789", "basic-password-0123456789", "jwt-hs256-secret-0123456789abcdef0123", "hmac-secret-0123456789"}
	bodies := []struct {
		name     string
		body     map[string]any
		wantHint string
	}{
		{"key-auth", map[string]any{"type": "key-auth", "key": secretValues[0]}, "6789"},
		{"basic-auth", map[string]any{"type": "basic-auth", "username": "alice", "password": secretValues[1]}, "alice"},
		{"jwt HS256", map[string]any{"type": "jwt", "algorithm": "HS256", "secret": secretValues[2]}, "HS256"},
		{"jwt ES256", map[string]any{"type": "jwt", "algorithm": "ES256", "public_key": ecdsaPublicKeyPEM(t)}, "ES256 "},
		{"hmac", map[string]any{"type": "hmac", "key_id": "k1", "secret": secretValues[3]}, "k1"},
	}

	var responses []byte
	for _, tt := range bodies {
		t.Run(tt.name, func(t *testing.T) {
			data := w.must(walkOperatorToken, "POST", base+"/consumers/mobile/credentials", tt.body, http.StatusCreated)
			responses = append(responses, data...)

			var got store.NewCredential
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatalf("decode credential: %v", err)
			}
			if got.Key != "" {
				t.Errorf("key = %q in the response, want none for a key the client chose", got.Key)
			}
			if !strings.HasPrefix(got.Hint, tt.wantHint) {
				t.Errorf("hint = %q, want prefix %q", got.Hint, tt.wantHint)
			}
		})
	}

	if got, want := tenantRevision(t, w, "acme"), before+int64(len(bodies)); got != want {
		t.Errorf("revision after %d credentials = %d, want %d", len(bodies), got, want)
	}

	generated := checkGeneratedKey(t, w, base)
	listed := w.must(walkOperatorToken, "GET", base+"/consumers/mobile/credentials", nil, http.StatusOK)
	audit := w.must(walkOperatorToken, "GET", base+"/audit", nil, http.StatusOK)
	bundleData := bundleJSON(t, w, "acme")

	var credentials []store.Credential
	if err := json.Unmarshal(listed, &credentials); err != nil {
		t.Fatalf("decode credentials: %v", err)
	}
	if len(credentials) != len(bodies)+1 {
		t.Errorf("listed %d credentials, want %d", len(credentials), len(bodies)+1)
	}
	if !bytes.Contains(bundleData, []byte(`"name":"mobile"`)) || !bytes.Contains(bundleData, []byte(credentials[0].ID)) {
		t.Errorf("bundle lacks consumer mobile or credential %s: %s", credentials[0].ID, bundleData)
	}

	places := map[string]string{"create responses": string(responses), "list": string(listed), "audit log": string(audit), "bundle": string(bundleData), "log": logs.String()}
	for _, secret := range append(secretValues, generated) {
		for place, text := range places {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains the secret %q", place, secret)
			}
		}
	}
	if !strings.Contains(logs.String(), "/consumers/mobile/credentials") {
		t.Errorf("log has no line for the credential requests, so the check above proves nothing: %s", logs.String())
	}

	checkCredentialDelete(t, w, base, credentials[0].ID)
}

// checkGeneratedKey creates a key-auth credential without a key and returns
// the generated key, which only the create response shows.
func checkGeneratedKey(t *testing.T, w *walkServer, base string) string {
	t.Helper()

	var got store.NewCredential
	data := w.must(walkOperatorToken, "POST", base+"/consumers/mobile/credentials", map[string]any{"type": "key-auth"}, http.StatusCreated)
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("decode credential: %v", err)
	}
	if len(got.Key) < store.MinAPIKeyLength {
		t.Fatalf("generated key = %q, want at least %d characters", got.Key, store.MinAPIKeyLength)
	}
	if got.Hint != got.Key[len(got.Key)-4:] {
		t.Errorf("hint = %q, want the key's last 4 characters", got.Hint)
	}

	status, body := w.call(walkOperatorToken, "POST", base+"/consumers/mobile/credentials", map[string]any{"type": "key-auth", "key": got.Key})
	if status != http.StatusConflict {
		t.Errorf("reused key: status = %d, want 409; body %s", status, body)
	}
	if bytes.Contains(body, []byte(got.Key)) {
		t.Errorf("conflict response contains the key: %s", body)
	}
	return got.Key
}

func checkCredentialDelete(t *testing.T, w *walkServer, base, id string) {
	t.Helper()

	w.must(walkOperatorToken, "DELETE", base+"/consumers/mobile/credentials/"+id, nil, http.StatusNoContent)
	w.must(walkOperatorToken, "DELETE", base+"/consumers/mobile/credentials/"+id, nil, http.StatusNotFound)
	w.must(walkOperatorToken, "DELETE", base+"/consumers/mobile", nil, http.StatusNoContent)
	w.must(walkOperatorToken, "GET", base+"/consumers/mobile/credentials", nil, http.StatusNotFound)
}

func TestCredentialRejects(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	base := "/api/v1/tenants/acme"
	w.must(walkOperatorToken, "POST", "/api/v1/tenants", map[string]string{"slug": "acme", "name": "Acme"}, http.StatusCreated)
	w.must(walkOperatorToken, "POST", base+"/consumers", map[string]any{"name": "mobile"}, http.StatusCreated)

	tests := []struct {
		name      string
		body      map[string]any
		wantField string
	}{
		{"unknown type", map[string]any{"type": "oauth"}, "type"},
		{"short key", map[string]any{"type": "key-auth", "key": "short"}, "key"},
		{"key with spaces", map[string]any{"type": "key-auth", "key": "a key with spaces 0123"}, "key"},
		{"basic-auth without password", map[string]any{"type": "basic-auth", "username": "alice"}, "password"},
		{"basic-auth colon", map[string]any{"type": "basic-auth", "username": "a:b", "password": "long enough password"}, "username"},
		{"short HS256 secret", map[string]any{"type": "jwt", "algorithm": "HS256", "secret": "short"}, "secret"},
		{"unknown algorithm", map[string]any{"type": "jwt", "algorithm": "none", "public_key": "x"}, "algorithm"},
		{"not PEM", map[string]any{"type": "jwt", "algorithm": "ES256", "public_key": "not pem"}, "public_key"},
		{"key type mismatch", map[string]any{"type": "jwt", "algorithm": "RS256", "public_key": ecdsaPublicKeyPEM(t)}, "public_key"},
		{"hmac without key_id", map[string]any{"type": "hmac", "secret": "0123456789abcdef"}, "key_id"},
		{"field of another type", map[string]any{"type": "hmac", "key_id": "k", "secret": "0123456789abcdef", "username": "x"}, "username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := w.must(walkOperatorToken, "POST", base+"/consumers/mobile/credentials", tt.body, http.StatusUnprocessableEntity)

			var problem Problem
			if err := json.Unmarshal(data, &problem); err != nil {
				t.Fatalf("decode problem: %v", err)
			}
			if len(problem.Errors) != 1 || problem.Errors[0].Field != tt.wantField {
				t.Errorf("errors = %+v, want one on %q", problem.Errors, tt.wantField)
			}
		})
	}
}

func TestConsumerListPages(t *testing.T) {
	w := startWalkServer(t, "sqlite://"+filepath.Join(t.TempDir(), "portal.db"))
	base := "/api/v1/tenants/acme"
	w.must(walkOperatorToken, "POST", "/api/v1/tenants", map[string]string{"slug": "acme", "name": "Acme"}, http.StatusCreated)
	for _, name := range []string{"c1", "c2", "c3", "c4", "c5"} {
		w.must(walkOperatorToken, "POST", base+"/consumers", map[string]any{"name": name}, http.StatusCreated)
	}

	var names []string
	path := base + "/consumers?limit=2"
	for range 10 {
		req, _ := http.NewRequest("GET", w.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+walkOperatorToken)
		resp, err := w.client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		var page []map[string]any
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("decode page: %v", err)
		}
		for _, item := range page {
			names = append(names, item["name"].(string))
		}

		link := resp.Header.Get("Link")
		if link == "" {
			break
		}
		path = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	}

	if got, want := strings.Join(names, ","), "c1,c2,c3,c4,c5"; got != want {
		t.Errorf("paged names = %s, want %s", got, want)
	}
	w.must(walkOperatorToken, "GET", base+"/consumers?limit=0", nil, http.StatusUnprocessableEntity)
	w.must(walkOperatorToken, "GET", base+"/consumers?limit=1001", nil, http.StatusUnprocessableEntity)
}

func tenantRevision(t *testing.T, w *walkServer, slug string) int64 {
	t.Helper()

	var tenant store.Tenant
	if err := json.Unmarshal(w.must(walkOperatorToken, "GET", "/api/v1/tenants/"+slug, nil, http.StatusOK), &tenant); err != nil {
		t.Fatalf("decode tenant: %v", err)
	}
	return tenant.Revision
}

func bundleJSON(t *testing.T, w *walkServer, slug string) []byte {
	t.Helper()

	built, err := w.store.Bundle(t.Context(), slug)
	if err != nil {
		t.Fatalf("Bundle(%q) error = %v", slug, err)
	}
	data, err := json.Marshal(built)
	if err != nil {
		t.Fatalf("encode bundle: %v", err)
	}
	return data
}
