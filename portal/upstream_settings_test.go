package portal_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portcullis.dev/portal"
	"portcullis.dev/portal/secrets"
)

// clientPair returns a PEM client certificate and its PEM private key.
func clientPair(t *testing.T) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	template := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "edge"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// startPortalWithKey starts a portal, as startPortal does, with a secret
// key for the secrets it stores.
func startPortalWithKey(t *testing.T) *testPortal {
	t.Helper()
	key, err := secrets.NewKey()
	if err != nil {
		t.Fatalf("NewKey: %v", err)
	}
	p, err := portal.New(portal.Config{
		DataSource: filepath.Join(t.TempDir(), "portal.db"),
		AdminToken: testToken,
		Compiler:   fakeCompile,
		SecretKey:  key,
	})
	if err != nil {
		t.Fatalf("portal.New() error = %v", err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1:0: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(listener) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown() error = %v", err)
		}
		<-served
	})

	return &testPortal{
		t:       t,
		base:    "http://" + listener.Addr().String(),
		portal:  p,
		client:  &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		logs:    &syncBuffer{},
		changes: &changeLog{},
	}
}

func TestUpstreamSettingsThroughAPI(t *testing.T) {
	tp := startPortalWithKey(t)
	tp.seed("acme")
	cert, key := clientPair(t)
	path := "/api/v1/tenants/acme/upstreams"

	input := map[string]any{
		"name":     "secure",
		"targets":  []map[string]any{{"url": "https://127.0.0.1:9443", "weight": 3}},
		"balance":  "consistent_hash",
		"hash_on":  "header",
		"hash_key": "X-User",
		"retries":  2,
		"protocol": "h2",
		"tls":      map[string]any{"ca_pem": cert, "client_cert_pem": cert, "client_key_pem": key, "server_name": "api.internal"},
		"health_check": map[string]any{
			"active":  map[string]any{"path": "/healthz", "interval_ms": 5000, "timeout_ms": 1000, "healthy_threshold": 2, "unhealthy_threshold": 3, "expected_statuses": []int{200}},
			"passive": map[string]any{"max_failures": 4, "window_ms": 10000, "cooldown_ms": 20000},
		},
	}
	created := tp.do("POST", path, input, http.StatusCreated)
	got := tp.do("GET", path+"/secure", nil, http.StatusOK)

	for name, resp := range map[string]response{"POST": created, "GET": got} {
		body := string(resp.body)
		if strings.Contains(body, "PRIVATE KEY") || strings.Contains(body, "client_key_pem") {
			t.Errorf("%s response contains the client key: %s", name, body)
		}
		for _, want := range []string{`"client_key_set":true`, `"balance":"consistent_hash"`, `"hash_key":"X-User"`, `"retries":2`, `"protocol":"h2"`, `"server_name":"api.internal"`, `"interval_ms":5000`, `"cooldown_ms":20000`, `"expected_statuses":[200]`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s response lacks %s: %s", name, want, body)
			}
		}
	}

	// The GET body sent back as a PUT keeps the key and the settings.
	tp.do("PUT", path+"/secure", string(got.body), http.StatusOK)
	again := tp.do("GET", path+"/secure", nil, http.StatusOK)
	if string(again.body) != string(got.body) {
		t.Errorf("GET after PUT of the GET body =\n%s\nwant\n%s", again.body, got.body)
	}

	audit := tp.do("GET", "/api/v1/tenants/acme/audit?limit=100", nil, http.StatusOK)
	if strings.Contains(string(audit.body), "PRIVATE KEY") {
		t.Errorf("audit log contains the client key: %s", audit.body)
	}
}
