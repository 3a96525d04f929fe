package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"portcullis.dev/portal/dnstest"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/testcert"
)

// certificatePair is a certificate and its key in PEM.
type certificatePair struct {
	CertificatePEM string `json:"certificate_pem"`
	PrivateKeyPEM  string `json:"private_key_pem"`
}

// makeCertificate issues a self-signed certificate for the DNS names that
// is valid from notBefore to notAfter.
func makeCertificate(t *testing.T, names []string, notBefore, notAfter time.Time) certificatePair {
	t.Helper()
	cert := testcert.Issue(t, names, testcert.Options{NotBefore: notBefore, NotAfter: notAfter})
	return certificatePair{CertificatePEM: cert.CertificatePEM, PrivateKeyPEM: cert.PrivateKeyPEM}
}

var (
	walkCertOnce sync.Once
	walkCert     certificatePair
)

// walkCertificate returns one certificate that covers the domains that
// seedWalkTenant creates, so a walk's upload passes validation in either
// tenant and reaches the tenant-scoped lookup.
func walkCertificate(t *testing.T) certificatePair {
	walkCertOnce.Do(func() {
		walkCert = makeCertificate(t, []string{"tenant-a.example.com", "tenant-b.example.com"}, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	})
	return walkCert
}

// decodeProblem decodes a problem document.
func decodeProblemBody(t *testing.T, body []byte) Problem {
	t.Helper()

	var problem Problem
	if err := json.Unmarshal(body, &problem); err != nil {
		t.Fatalf("decode problem %s: %v", body, err)
	}
	return problem
}

func TestDomainFlow(t *testing.T) {
	forEachDialect(t, func(t *testing.T, dataSource string) {
		dns := dnstest.Start(t)
		checkDomainFlow(t, startAPIServer(t, dataSource, Options{DNSResolver: dns.Addr()}), dns)
	})
}

func checkDomainFlow(t *testing.T, w *walkServer, dns *dnstest.Server) {
	op := walkOperatorToken
	for _, slug := range []string{"tenant-a", "tenant-b"} {
		w.must(op, "POST", "/api/v1/tenants", map[string]string{"slug": slug, "name": slug}, http.StatusCreated)
	}
	base := "/api/v1/tenants/tenant-a/domains"

	var domain store.Domain
	data := w.must(op, "POST", base, map[string]string{"hostname": "API.example.com."}, http.StatusCreated)
	if err := json.Unmarshal(data, &domain); err != nil || domain.Hostname != "api.example.com" {
		t.Fatalf("created domain = %s (%v), want hostname api.example.com", data, err)
	}

	status, body := w.call(op, "POST", "/api/v1/tenants/tenant-b/domains", map[string]string{"hostname": "api.example.com"})
	if problem := decodeProblemBody(t, body); status != http.StatusConflict || !strings.Contains(problem.Detail, "api.example.com") {
		t.Errorf("claim by tenant-b: status %d, body %s; want 409 naming the hostname", status, body)
	}

	status, body = w.call(op, "POST", base+"/api.example.com/verify", nil)
	if problem := decodeProblemBody(t, body); status != http.StatusUnprocessableEntity || !strings.HasSuffix(problem.Type, "/domain-not-verified") || !strings.Contains(problem.Detail, domain.VerificationToken) {
		t.Errorf("verify without the record: status %d, body %s; want 422 domain-not-verified naming the token", status, body)
	}

	chinese := callInLanguage(t, w, op, "zh-CN", "POST", base+"/api.example.com/verify", nil)
	wantMessage := fmt.Sprintf("没有任何 TXT 记录 %s 包含令牌 %q：请在你的 DNS 服务商处发布它，等待其生效后再次验证", domain.VerificationRecord, domain.VerificationToken)
	if chinese.Title != "域名未通过验证" || len(chinese.Errors) != 1 || chinese.Errors[0].Message != wantMessage || chinese.Detail != `域名 "api.example.com" 未通过验证：`+wantMessage {
		t.Errorf("verify in Chinese = title %q, detail %q, errors %+v; want the translated title, detail and message", chinese.Title, chinese.Detail, chinese.Errors)
	}

	dns.SetTXT(domain.VerificationRecord, "unrelated", domain.VerificationToken)
	data = w.must(op, "POST", base+"/api.example.com/verify", nil, http.StatusOK)
	if err := json.Unmarshal(data, &domain); err != nil || !domain.Verified {
		t.Fatalf("verify with the record = %s (%v), want verified", data, err)
	}
	if dns.Queries() < 2 {
		t.Errorf("DNS server saw %d queries, want at least 2", dns.Queries())
	}

	checkEdgeIndex(t, w, map[string]string{"api.example.com": "tenant-a"})
	checkCertificateUpload(t, w, base+"/api.example.com")

	w.must(op, "DELETE", base+"/api.example.com", nil, http.StatusNoContent)
	checkEdgeIndex(t, w, map[string]string{})
	w.must(op, "POST", "/api/v1/tenants/tenant-b/domains", map[string]string{"hostname": "api.example.com"}, http.StatusCreated)
}

// checkEdgeIndex reads GET /api/v1/edge/domains with an edge token.
func checkEdgeIndex(t *testing.T, w *walkServer, want map[string]string) {
	t.Helper()

	if status, body := w.call("", "GET", "/api/v1/edge/domains", nil); status != http.StatusUnauthorized {
		t.Errorf("domain index without a token: status %d, body %s; want 401", status, body)
	}
	var token struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(w.must(walkOperatorToken, "POST", "/api/v1/edge-tokens", nil, http.StatusCreated), &token); err != nil {
		t.Fatalf("decode edge token: %v", err)
	}

	var index struct {
		Domains map[string]string `json:"domains"`
	}
	if err := json.Unmarshal(w.must(token.Token, "GET", "/api/v1/edge/domains", nil, http.StatusOK), &index); err != nil {
		t.Fatalf("decode domain index: %v", err)
	}
	if len(index.Domains) != len(want) {
		t.Fatalf("domain index = %v, want %v", index.Domains, want)
	}
	for hostname, slug := range want {
		if index.Domains[hostname] != slug {
			t.Errorf("domain index[%q] = %q, want %q", hostname, index.Domains[hostname], slug)
		}
	}
}

func checkCertificateUpload(t *testing.T, w *walkServer, path string) {
	t.Helper()

	now := time.Now()
	good := makeCertificate(t, []string{"api.example.com"}, now.Add(-time.Hour), now.Add(24*time.Hour))
	other := makeCertificate(t, []string{"api.example.com"}, now.Add(-time.Hour), now.Add(24*time.Hour))
	expired := makeCertificate(t, []string{"api.example.com"}, now.Add(-48*time.Hour), now.Add(-time.Hour))
	elsewhere := makeCertificate(t, []string{"www.example.org"}, now.Add(-time.Hour), now.Add(24*time.Hour))

	invalid := []struct {
		desc  string
		body  certificatePair
		field string
		want  string
	}{
		{"bad PEM", certificatePair{"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", good.PrivateKeyPEM}, "certificate_pem", "no PEM certificate"},
		{"mismatched key", certificatePair{good.CertificatePEM, other.PrivateKeyPEM}, "private_key_pem", "does not match the public key"},
		{"expired", certificatePair{expired.CertificatePEM, expired.PrivateKeyPEM}, "certificate_pem", "expired"},
		{"hostname not covered", certificatePair{elsewhere.CertificatePEM, elsewhere.PrivateKeyPEM}, "certificate_pem", `does not cover "api.example.com"`},
	}
	for _, tt := range invalid {
		status, body := w.call(walkOperatorToken, "PUT", path+"/certificate", tt.body)
		problem := decodeProblemBody(t, body)
		if status != http.StatusUnprocessableEntity || len(problem.Errors) != 1 || problem.Errors[0].Field != tt.field || !strings.Contains(problem.Errors[0].Message, tt.want) {
			t.Errorf("%s: status %d, body %s; want 422 on %s containing %q", tt.desc, status, body, tt.field, tt.want)
		}
	}

	data := w.must(walkOperatorToken, "PUT", path+"/certificate", good, http.StatusOK)
	if strings.Contains(string(data), "PRIVATE KEY") {
		t.Errorf("certificate response contains the key: %s", data)
	}
	var domain store.Domain
	if err := json.Unmarshal(w.must(walkOperatorToken, "GET", path, nil, http.StatusOK), &domain); err != nil {
		t.Fatalf("decode domain: %v", err)
	}
	if domain.Certificate == nil || domain.Certificate.Subject != "CN=api.example.com" || len(domain.Certificate.SHA256Fingerprint) != 64 {
		t.Errorf("domain certificate = %+v, want subject CN=api.example.com and a fingerprint", domain.Certificate)
	}

	audit := w.must(walkOperatorToken, "GET", "/api/v1/tenants/tenant-a/audit", nil, http.StatusOK)
	keyBody := strings.Split(good.PrivateKeyPEM, "\n")[1]
	if strings.Contains(string(audit), "PRIVATE KEY") || strings.Contains(string(audit), keyBody[:32]) {
		t.Errorf("audit log contains the private key: %s", audit)
	}
}
