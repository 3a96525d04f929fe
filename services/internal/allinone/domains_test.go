package allinone

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
	"time"

	"portcullis.dev/portal/dnstest"
	"portcullis.dev/tenants/testcert"
)

// servedCertificate does a TLS handshake with the edge for the server name
// and returns the leaf it sent.
func servedCertificate(t *testing.T, addr, serverName string) *x509.Certificate {
	t.Helper()

	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS handshake for %q: %v", serverName, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

func TestCustomDomainEndToEnd(t *testing.T) {
	dns := dnstest.Start(t)
	cfg := testConfig(t.TempDir())
	cfg.DNSResolver = dns.Addr()
	h := startHarnessWith(t, cfg)
	h.addTenant("acme", upstream(t, "acme-backend"), "/")
	httpsAddr := h.server.Edge().Addrs().HTTPS
	base := "/api/v1/tenants/acme/domains"

	var domain struct {
		VerificationRecord string `json:"verification_record"`
		VerificationToken  string `json:"verification_token"`
		Verified           bool   `json:"verified"`
	}
	h.mustAPI(http.MethodPost, base, map[string]string{"hostname": "api.acme.test"}, &domain)
	cert := testcert.New(t, "api.acme.test")
	h.mustAPI(http.MethodPut, base+"/api.acme.test/certificate", map[string]string{"certificate_pem": cert.CertificatePEM, "private_key_pem": cert.PrivateKeyPEM}, nil)
	if got := servedCertificate(t, httpsAddr, "api.acme.test"); bytes.Equal(got.Raw, cert.Leaf.Raw) {
		t.Fatal("the edge serves the certificate of an unverified domain")
	}

	dns.SetTXT(domain.VerificationRecord, domain.VerificationToken)
	h.mustAPI(http.MethodPost, base+"/api.acme.test/verify", nil, &domain)
	if !domain.Verified {
		t.Fatal("domain not verified after the TXT record was published")
	}
	if got := servedCertificate(t, httpsAddr, "api.acme.test"); !bytes.Equal(got.Raw, cert.Leaf.Raw) {
		t.Fatalf("handshake for api.acme.test got %q, want the uploaded certificate", got.Subject)
	}

	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext:       dialTo(httpsAddr),
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
	}}
	defer client.CloseIdleConnections()
	response, body, err := get(context.Background(), client, "https://api.acme.test/hello", nil)
	if err != nil {
		t.Fatalf("GET https://api.acme.test/hello: %v", err)
	}
	if response.StatusCode != http.StatusOK || !strings.Contains(string(body), "acme-backend") {
		t.Errorf("GET https://api.acme.test/hello: status %d, body %s; want 200 from acme-backend", response.StatusCode, body)
	}

	h.mustAPI(http.MethodDelete, base+"/api.acme.test", nil, nil)
	if got := servedCertificate(t, httpsAddr, "api.acme.test"); bytes.Equal(got.Raw, cert.Leaf.Raw) {
		t.Error("the edge still serves the certificate of a deleted domain")
	}
}
