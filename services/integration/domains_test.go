package integration

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"portcullis.dev/portal/dnstest"
	"portcullis.dev/portal/store/pgtest"
	"portcullis.dev/tenants/testcert"
)

// certificateBody returns the JSON body that uploads cert to a domain.
func certificateBody(cert *testcert.Certificate) map[string]string {
	return map[string]string{"certificate_pem": cert.CertificatePEM, "private_key_pem": cert.PrivateKeyPEM}
}

// servedLeaf returns the leaf certificate that a TLS handshake with the
// server name gets, or nil when the handshake fails.
func servedLeaf(addr, serverName string) *x509.Certificate {
	dialer := &tls.Dialer{Config: &tls.Config{ServerName: serverName, InsecureSkipVerify: true}}
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		return nil
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0]
}

// waitLeaf polls handshakes until match accepts the served leaf or the
// timeout passes.
func waitLeaf(t *testing.T, addr, serverName, what string, match func(*x509.Certificate) bool) {
	t.Helper()

	deadline := time.Now().Add(15 * time.Second)
	for {
		leaf := servedLeaf(addr, serverName)
		if leaf != nil && match(leaf) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the edge did not serve it within 15 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestEdgeNodeFollowsDomains runs a portal and an edge node as separate
// processes: the edge learns a verified custom domain, a renewed
// certificate and the domain's deletion from the change feed alone.
func TestEdgeNodeFollowsDomains(t *testing.T) {
	dns := dnstest.Start(t)
	p := &portal{addr: freeAddr(t), db: pgtest.NewDatabase(t)}
	p.proc = startProc(t, "portal", []string{"PORTCULLIS_ADMIN_TOKEN=" + adminToken},
		"--role", "portal", "--db", p.db, "--portal-addr", p.addr, "--data-dir", t.TempDir(), "--dns-resolver", dns.Addr())
	waitHTTP(t, p.url()+"/healthz", http.StatusOK, 20*time.Second)

	var token struct {
		Token string `json:"token"`
	}
	p.call(t, http.MethodPost, "/edge-tokens", nil, &token)
	httpsAddr := freeAddr(t)
	startEdge(t, p, token.Token, "tls-1", "a", "", t.TempDir(), "--https-addr", httpsAddr)

	p.call(t, http.MethodPost, "/tenants", map[string]string{"slug": "acme", "name": "acme"}, nil)
	p.call(t, http.MethodPost, "/tenants/acme/upstreams", map[string]any{"name": "backend", "targets": []map[string]any{{"url": startUpstream(t), "weight": 1}}}, nil)
	p.call(t, http.MethodPost, "/tenants/acme/routes", map[string]any{"name": "all", "paths": []string{"/"}, "upstream": "backend"}, nil)

	var domain struct {
		VerificationRecord string `json:"verification_record"`
		VerificationToken  string `json:"verification_token"`
	}
	base := "/tenants/acme/domains"
	p.call(t, http.MethodPost, base, map[string]string{"hostname": "api.acme.test"}, &domain)
	first := testcert.New(t, "api.acme.test")
	p.call(t, http.MethodPut, base+"/api.acme.test/certificate", certificateBody(first), nil)
	dns.SetTXT(domain.VerificationRecord, domain.VerificationToken)
	p.call(t, http.MethodPost, base+"/api.acme.test/verify", nil, nil)

	waitLeaf(t, httpsAddr, "api.acme.test", "the verified domain's certificate", func(leaf *x509.Certificate) bool {
		return bytes.Equal(leaf.Raw, first.Leaf.Raw)
	})

	pool := x509.NewCertPool()
	pool.AddCert(first.Leaf)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "api.acme.test"}}}
	defer client.CloseIdleConnections()
	request, _ := http.NewRequest(http.MethodGet, "https://"+httpsAddr+"/", nil)
	request.Host = "api.acme.test"
	response, err := client.Do(request)
	if err != nil {
		t.Fatalf("GET https://api.acme.test/ through the edge node: %v", err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusOK {
		t.Errorf("GET https://api.acme.test/ through the edge node: status %d, want 200", response.StatusCode)
	}

	renewed := testcert.New(t, "api.acme.test")
	p.call(t, http.MethodPut, base+"/api.acme.test/certificate", certificateBody(renewed), nil)
	waitLeaf(t, httpsAddr, "api.acme.test", "the renewed certificate", func(leaf *x509.Certificate) bool {
		return bytes.Equal(leaf.Raw, renewed.Leaf.Raw)
	})

	p.call(t, http.MethodDelete, base+"/api.acme.test", nil, nil)
	waitLeaf(t, httpsAddr, "api.acme.test", "the default certificate after the delete", func(leaf *x509.Certificate) bool {
		return !bytes.Equal(leaf.Raw, renewed.Leaf.Raw)
	})
}
