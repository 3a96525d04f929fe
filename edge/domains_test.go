package edge

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"portcullis.dev/edge/tlsconf"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
	"portcullis.dev/tenants/testcert"
)

// withDomains returns b at revision with the domains and certificates,
// sealed again.
func withDomains(t *testing.T, b *bundle.Bundle, revision int64, certs map[string]*testcert.Certificate) *bundle.Bundle {
	t.Helper()

	copied := *b
	copied.Revision = revision
	copied.Domains = nil
	for hostname, cert := range certs {
		copied.Domains = append(copied.Domains, bundle.Domain{Hostname: hostname, CertificatePEM: cert.CertificatePEM, PrivateKeyPEM: cert.PrivateKeyPEM})
	}
	if err := copied.Seal(); err != nil {
		t.Fatalf("seal bundle: %v", err)
	}
	return &copied
}

// handshake dials the edge's TLS listener with the server name and
// returns the leaf certificate that the edge sent.
func handshake(t *testing.T, addr, serverName string) *x509.Certificate {
	t.Helper()

	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS handshake with server name %q: %v", serverName, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// quicHandshake does the same over QUIC, as an HTTP/3 client would.
func quicHandshake(t *testing.T, addr, serverName string) *x509.Certificate {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, addr, &tls.Config{ServerName: serverName, InsecureSkipVerify: true, NextProtos: []string{"h3"}}, nil)
	if err != nil {
		t.Fatalf("QUIC handshake with server name %q: %v", serverName, err)
	}
	defer conn.CloseWithError(0, "")
	return conn.ConnectionState().TLS.PeerCertificates[0]
}

// domainEdge starts an edge with tenants acme and globex, each with a
// custom domain and its certificate, and returns the edge, the source and
// the certificates by hostname.
func domainEdge(t *testing.T) (*testEdge, *memorySource, map[string]*testcert.Certificate) {
	t.Helper()

	upstream, _ := echoUpstream(t, "backend")
	routes := []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}}
	certs := map[string]*testcert.Certificate{
		"api.acme.test":   testcert.New(t, "api.acme.test"),
		"api.globex.test": testcert.New(t, "api.globex.test"),
	}
	acme := withDomains(t, tenantBundle(t, "acme", 1, upstream.URL, routes, nil), 1, map[string]*testcert.Certificate{"api.acme.test": certs["api.acme.test"]})
	globex := withDomains(t, tenantBundle(t, "globex", 1, upstream.URL, routes, nil), 1, map[string]*testcert.Certificate{"api.globex.test": certs["api.globex.test"]})
	source := newMemorySource(acme, globex)

	index := &tlsconf.Index{}
	// stale.acme.test points at acme, whose bundle does not list it.
	index.Replace(map[string]string{"api.acme.test": "acme", "api.globex.test": "globex", "stale.acme.test": "acme"})
	te := startEdge(t, source, func(cfg *Config) { cfg.Domains = index })
	return te, source, certs
}

func TestSNIChoosesTenantCertificate(t *testing.T) {
	te, _, certs := domainEdge(t)
	defaultLeaf := handshake(t, te.addrs.HTTPS, "acme.localhost")

	tests := []struct {
		desc       string
		serverName string
		want       *x509.Certificate
	}{
		{"acme domain", "api.acme.test", certs["api.acme.test"].Leaf},
		{"globex domain", "api.globex.test", certs["api.globex.test"].Leaf},
		{"upper case", "API.ACME.TEST", certs["api.acme.test"].Leaf},
		{"base domain host", "globex.localhost", defaultLeaf},
		{"unknown host", "unknown.example", defaultLeaf},
		{"domain missing from the bundle", "stale.acme.test", defaultLeaf},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := handshake(t, te.addrs.HTTPS, tt.serverName); !bytes.Equal(got.Raw, tt.want.Raw) {
				t.Errorf("TCP handshake for %q: got certificate %q, want %q", tt.serverName, got.Subject, tt.want.Subject)
			}
			if got := quicHandshake(t, te.addrs.HTTP3, tt.serverName); !bytes.Equal(got.Raw, tt.want.Raw) {
				t.Errorf("QUIC handshake for %q: got certificate %q, want %q", tt.serverName, got.Subject, tt.want.Subject)
			}
		})
	}
	if bytes.Equal(defaultLeaf.Raw, certs["api.acme.test"].Leaf.Raw) {
		t.Fatal("the default certificate equals a tenant certificate: the test cannot tell them apart")
	}
}

func TestCustomDomainRoutesToTenant(t *testing.T) {
	te, _, certs := domainEdge(t)

	for _, hostname := range []string{"api.acme.test", "api.globex.test"} {
		pool := x509.NewCertPool()
		pool.AddCert(certs[hostname].Leaf)
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			ForceAttemptHTTP2: true,
			TLSClientConfig:   &tls.Config{RootCAs: pool, ServerName: hostname},
		}}
		t.Cleanup(client.CloseIdleConnections)

		req, err := http.NewRequest("GET", "https://"+te.addrs.HTTPS+"/hello", nil)
		if err != nil {
			t.Fatalf("build request: %v", err)
		}
		req.Host = hostname
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET https://%s/hello, verifying the tenant certificate: %v", hostname, err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
			t.Errorf("GET https://%s/hello: status %d over HTTP/%d, body %s; want 200 over HTTP/2", hostname, resp.StatusCode, resp.ProtoMajor, body)
		}
	}

	if r := te.do(t, "h1", "GET", "stale.acme.test", "/hello"); r.StatusCode != http.StatusNotFound {
		t.Errorf("host missing from the tenant's bundle: status %d, want 404", r.StatusCode)
	}
	if r := te.do(t, "h1", "GET", "nobody.example", "/hello"); r.StatusCode != http.StatusNotFound {
		t.Errorf("host in no index: status %d, want 404", r.StatusCode)
	}
}

func TestCertificateSwapWithoutRestart(t *testing.T) {
	te, source, certs := domainEdge(t)
	old := certs["api.acme.test"]
	if got := handshake(t, te.addrs.HTTPS, "api.acme.test"); !bytes.Equal(got.Raw, old.Leaf.Raw) {
		t.Fatalf("first handshake got %q, want the first certificate", got.Subject)
	}

	renewed := testcert.New(t, "api.acme.test")
	current, err := source.Bundle(context.Background(), "acme")
	if err != nil {
		t.Fatalf("read bundle: %v", err)
	}
	source.put(withDomains(t, current, 2, map[string]*testcert.Certificate{"api.acme.test": renewed}))
	te.Invalidate("acme", 2)

	deadline := time.Now().Add(5 * time.Second)
	for {
		got := handshake(t, te.addrs.HTTPS, "api.acme.test")
		if bytes.Equal(got.Raw, renewed.Leaf.Raw) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after revision 2 the edge still serves %q (serial %v), want the renewed certificate", got.Subject, got.SerialNumber)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := quicHandshake(t, te.addrs.HTTP3, "api.acme.test"); !bytes.Equal(got.Raw, renewed.Leaf.Raw) {
		t.Errorf("QUIC handshake after the swap got serial %v, want the renewed certificate", got.SerialNumber)
	}
}

func TestTLSVersionsAndCipherSuites(t *testing.T) {
	te, _, _ := domainEdge(t)

	tests := []struct {
		desc   string
		config *tls.Config
		ok     bool
	}{
		{"TLS 1.0", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10}, false},
		{"TLS 1.1", &tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11}, false},
		{"TLS 1.2 with CBC", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}, false},
		{"TLS 1.2 with AES-GCM", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true},
		{"TLS 1.2 with ChaCha20", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, true},
		{"TLS 1.3", &tls.Config{MinVersion: tls.VersionTLS13}, true},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			tt.config.ServerName = "api.acme.test"
			tt.config.InsecureSkipVerify = true
			conn, err := tls.Dial("tcp", te.addrs.HTTPS, tt.config)
			if err == nil {
				conn.Close()
			}
			if ok := err == nil; ok != tt.ok {
				t.Errorf("handshake error = %v, want success %v", err, tt.ok)
			}
		})
	}
}
