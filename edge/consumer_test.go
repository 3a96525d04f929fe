package edge

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/catalog"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// tierSource tags the upstream request in access and the response in
// header_filter, so a test can check which binding's config ran in each
// phase.
const tierSource = `func access(ctx, conf) {
	ctx.req.set_header("X-Tier", conf["tier"])
}

func header_filter(ctx, conf) {
	ctx.resp.set_header("X-Tier", conf["tier"])
}
`

// consumerTenant returns tenant acme with consumers alice and bob (key-auth
// keys) and carol (an Ed25519 jwt key), key-auth on /keys, jwt-auth on
// /tokens, a tenant-scope tier binding and a consumer-scope one for alice.
func consumerTenant(t *testing.T, target string, carolKey ed25519.PublicKey) *memorySource {
	t.Helper()
	keyAuth := catalogCode(t, "key-auth")
	jwtAuth := catalogCode(t, "jwt-auth")

	routes := []config.Route{
		{Name: "keys", Paths: []string{"/keys"}, Upstream: "api"},
		{Name: "tokens", Paths: []string{"/tokens"}, Upstream: "api"},
	}
	bindings := []config.Binding{
		{ID: "b-key", Plugin: keyAuth.Name, Version: keyAuth.Version, Route: "keys"},
		{ID: "b-jwt", Plugin: jwtAuth.Name, Version: jwtAuth.Version, Route: "tokens", Config: json.RawMessage(`{"algorithm":"EdDSA"}`)},
		{ID: "b-tier", Plugin: "tier", Version: "1.0.0", Config: json.RawMessage(`{"tier":"basic"}`)},
		{ID: "b-gold", Plugin: "tier", Version: "1.0.0", Consumer: "alice", Config: json.RawMessage(`{"tier":"gold"}`)},
	}
	b := tenantBundle(t, "acme", 1, target, routes, bindings, keyAuth, jwtAuth, plugin("tier", "1.0.0", tierSource))

	b.Consumers = []bundle.Consumer{
		{Name: "alice", Credentials: []bundle.CredentialRef{keyCredential("c1", "alice-key-0001")}},
		{Name: "bob", Credentials: []bundle.CredentialRef{keyCredential("c2", "bob-key-0002")}},
		{Name: "carol", Credentials: []bundle.CredentialRef{{ID: "c3", Type: "jwt", Hint: "EdDSA", Algorithm: "EdDSA", PublicKey: publicKeyPEM(t, carolKey)}}},
	}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	return newMemorySource(b)
}

func catalogCode(t *testing.T, name string) bundle.PluginCode {
	t.Helper()
	pkg, err := catalog.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	code := plugin(pkg.Manifest.Name, pkg.Manifest.Version, pkg.Source)
	code.Priority = pkg.Manifest.Priority
	return code
}

func keyCredential(id, key string) bundle.CredentialRef {
	sum := sha256.Sum256([]byte(key))
	return bundle.CredentialRef{ID: id, Type: "key-auth", Hint: key[len(key)-4:], KeySHA256: hex.EncodeToString(sum[:])}
}

func publicKeyPEM(t *testing.T, key ed25519.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// signEdDSA returns a compact JWS of claims signed with key.
func signEdDSA(t *testing.T, key ed25519.PrivateKey, claims map[string]any) string {
	t.Helper()
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","typ":"JWT"}`))
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signingInput := header + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(signingInput)))
}

func TestConsumerScopeBindings(t *testing.T) {
	carolPublic, carolPrivate, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, strangerPrivate, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	upstream, hits := echoUpstream(t, "api")
	te := startEdge(t, consumerTenant(t, upstream.URL, carolPublic), nil)

	exp := time.Now().Add(time.Hour).Unix()
	tests := []struct {
		name         string
		path         string
		header       string
		value        string
		wantStatus   int
		wantConsumer string
		wantTier     string
	}{
		{"alice's key runs her gold binding", "/keys", "X-Api-Key", "alice-key-0001", http.StatusOK, "alice", "gold"},
		{"bob's key runs the tenant binding", "/keys", "X-Api-Key", "bob-key-0002", http.StatusOK, "bob", "basic"},
		{"an unknown key is refused", "/keys", "X-Api-Key", "mallory-key-9999", http.StatusUnauthorized, "", ""},
		{"carol's token names her", "/tokens", "Authorization", "Bearer " + signEdDSA(t, carolPrivate, map[string]any{"sub": "carol", "exp": exp}), http.StatusOK, "carol", "basic"},
		{"a token for carol signed by a stranger is refused", "/tokens", "Authorization", "Bearer " + signEdDSA(t, strangerPrivate, map[string]any{"sub": "carol", "exp": exp}), http.StatusUnauthorized, "", ""},
		{"a token naming alice is refused without her jwt key", "/tokens", "Authorization", "Bearer " + signEdDSA(t, carolPrivate, map[string]any{"sub": "alice", "exp": exp}), http.StatusUnauthorized, "", ""},
	}
	for _, tt := range tests {
		for _, protocol := range []string{"h1", "h2", "h3"} {
			t.Run(tt.name+"/"+protocol, func(t *testing.T) {
				before := hits.Load()
				got := te.doWith(t, protocol, "GET", "acme.localhost", tt.path, http.Header{tt.header: {tt.value}})
				if got.StatusCode != tt.wantStatus {
					t.Fatalf("status = %d, want %d (body %q)", got.StatusCode, tt.wantStatus, got.body)
				}
				if tt.wantStatus != http.StatusOK {
					if hits.Load() != before {
						t.Errorf("the upstream was called for a refused request")
					}
					return
				}

				seen := got.seen(t)
				if consumer := seen.Header.Get("X-Consumer"); consumer != tt.wantConsumer {
					t.Errorf("upstream X-Consumer = %q, want %q", consumer, tt.wantConsumer)
				}
				if tier := seen.Header.Get("X-Tier"); tier != tt.wantTier {
					t.Errorf("upstream X-Tier (access phase) = %q, want %q", tier, tt.wantTier)
				}
				if tier := got.Header.Get("X-Tier"); tier != tt.wantTier {
					t.Errorf("response X-Tier (header_filter phase) = %q, want %q", tier, tt.wantTier)
				}
			})
		}
	}
}

func TestConsumerBindingNeedsKnownConsumer(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	routes := []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}}
	bindings := []config.Binding{{ID: "b-ghost", Plugin: "tier", Version: "1.0.0", Consumer: "ghost", Config: json.RawMessage(`{"tier":"x"}`)}}
	te := startEdge(t, newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, routes, bindings, plugin("tier", "1.0.0", tierSource))), nil)

	got := te.do(t, "h1", "GET", "acme.localhost", "/")
	checkProblem(t, got, http.StatusServiceUnavailable)
}

// doWith is do with request headers.
func (te *testEdge) doWith(t *testing.T, protocol, method, host, path string, header http.Header) response {
	t.Helper()
	client, base := te.client(t, protocol)
	req, err := http.NewRequest(method, base+path, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = host
	for name, values := range header {
		req.Header[name] = values
	}

	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s %s over %s: %v", method, host, path, protocol, err)
	}
	defer resp.Body.Close()
	return response{Response: resp, body: readAll(t, resp)}
}

func TestLimitCountPerConsumer(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	keyAuth, limitCount := catalogCode(t, "key-auth"), catalogCode(t, "limit-count")
	routes := []config.Route{{Name: "keys", Paths: []string{"/keys"}, Upstream: "api"}}
	bindings := []config.Binding{
		{ID: "b-key", Plugin: keyAuth.Name, Version: keyAuth.Version},
		{ID: "b-limit", Plugin: limitCount.Name, Version: limitCount.Version, Config: json.RawMessage(`{"count":2,"time_window":60}`)},
	}
	b := tenantBundle(t, "acme", 1, upstream.URL, routes, bindings, keyAuth, limitCount)
	b.Consumers = []bundle.Consumer{
		{Name: "alice", Credentials: []bundle.CredentialRef{keyCredential("c1", "alice-key-0001")}},
		{Name: "bob", Credentials: []bundle.CredentialRef{keyCredential("c2", "bob-key-0002")}},
	}
	if err := b.Seal(); err != nil {
		t.Fatal(err)
	}
	te := startEdge(t, newMemorySource(b), nil)

	// Both consumers send from the same loopback address, so a counter
	// per client address would refuse bob's first request.
	sequence := []struct {
		key  string
		want int
	}{
		{"alice-key-0001", http.StatusOK},
		{"alice-key-0001", http.StatusOK},
		{"alice-key-0001", http.StatusTooManyRequests},
		{"bob-key-0002", http.StatusOK},
		{"bob-key-0002", http.StatusOK},
		{"bob-key-0002", http.StatusTooManyRequests},
	}
	for i, step := range sequence {
		got := te.doWith(t, "h1", "GET", "acme.localhost", "/keys", http.Header{"X-Api-Key": {step.key}})
		if got.StatusCode != step.want {
			t.Fatalf("request %d with %s: status %d, want %d (body %q)", i+1, step.key, got.StatusCode, step.want, got.body)
		}
	}
}
