package allinone

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"portcullis.dev/services/internal/dnstest"
)

// selfSigned returns a certificate for hostname and its key in PEM, and
// the parsed certificate.
func selfSigned(t *testing.T, hostname string) (string, string, *x509.Certificate) {
	t.Helper()

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: hostname},
		DNSNames:     []string{hostname},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("marshal key: %v", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return string(certPEM), string(keyPEM), leaf
}

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
	certPEM, keyPEM, leaf := selfSigned(t, "api.acme.test")
	h.mustAPI(http.MethodPut, base+"/api.acme.test/certificate", map[string]string{"certificate_pem": certPEM, "private_key_pem": keyPEM}, nil)
	if got := servedCertificate(t, httpsAddr, "api.acme.test"); bytes.Equal(got.Raw, leaf.Raw) {
		t.Fatal("the edge serves the certificate of an unverified domain")
	}

	dns.SetTXT(domain.VerificationRecord, domain.VerificationToken)
	h.mustAPI(http.MethodPost, base+"/api.acme.test/verify", nil, &domain)
	if !domain.Verified {
		t.Fatal("domain not verified after the TXT record was published")
	}
	if got := servedCertificate(t, httpsAddr, "api.acme.test"); !bytes.Equal(got.Raw, leaf.Raw) {
		t.Fatalf("handshake for api.acme.test got %q, want the uploaded certificate", got.Subject)
	}

	pool := x509.NewCertPool()
	pool.AddCert(leaf)
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
	if got := servedCertificate(t, httpsAddr, "api.acme.test"); bytes.Equal(got.Raw, leaf.Raw) {
		t.Error("the edge still serves the certificate of a deleted domain")
	}
}
