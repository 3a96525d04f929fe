package store

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"portcullis.dev/portal/secrets"
	"portcullis.dev/tenants/config"
	"portcullis.dev/tenants/testcert"
)

func openSecretStore(t *testing.T, dataSource string) *Store {
	t.Helper()

	key, err := secrets.NewKey()
	if err != nil {
		t.Fatalf("secrets.NewKey() error = %v", err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatalf("secrets.NewBox() error = %v", err)
	}
	s, err := Open(context.Background(), dataSource, Options{Compiler: fakeCompile, Secrets: box})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return s
}

// txtAnswers returns a TXTLookup that answers from a map of DNS names.
func txtAnswers(records map[string][]string) TXTLookup {
	return func(_ context.Context, name string) ([]string, error) {
		values, found := records[name]
		if !found {
			return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
		}
		return values, nil
	}
}

func TestDomainLifecycle(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openSecretStore(t, dialect.open(t))
			checkDomainLifecycle(t, s)
		})
	}
}

func checkDomainLifecycle(t *testing.T, s *Store) {
	ctx := context.Background()
	seedTenant(t, s, "acme")
	seedTenant(t, s, "globex")

	domain, err := s.CreateDomain(ctx, "acme", "API.Example.COM.")
	if err != nil {
		t.Fatalf("CreateDomain() error = %v", err)
	}
	if domain.Hostname != "api.example.com" || domain.Verified || domain.VerificationToken == "" {
		t.Fatalf("new domain = %+v, want hostname api.example.com, unverified, with a token", domain)
	}
	if domain.VerificationRecord != "_portcullis-challenge.api.example.com" {
		t.Errorf("VerificationRecord = %q", domain.VerificationRecord)
	}

	_, err = s.CreateDomain(ctx, "globex", "api.example.com")
	var conflict *ConflictError
	if !errors.As(err, &conflict) || !strings.Contains(conflict.Message, `"api.example.com"`) || strings.Contains(conflict.Message, "acme") {
		t.Errorf("claim by another tenant: error = %v, want a conflict naming the hostname but not the tenant", err)
	}
	if _, err := s.CreateDomain(ctx, "acme", "api.example.com"); !errors.Is(err, ErrConflict) {
		t.Errorf("second claim by the same tenant: error = %v, want a conflict", err)
	}
	if _, err := s.GetDomain(ctx, "globex", "api.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetDomain from the other tenant: error = %v, want not found", err)
	}

	record := "_portcullis-challenge.api.example.com."
	_, err = s.VerifyDomain(ctx, "acme", "api.example.com", txtAnswers(map[string][]string{record: {"other-token"}}))
	var verifyErr *VerificationError
	if !errors.As(err, &verifyErr) || verifyErr.Unavailable {
		t.Fatalf("VerifyDomain with a wrong token: error = %v, want a VerificationError", err)
	}
	failing := func(context.Context, string) ([]string, error) { return nil, errors.New("i/o timeout") }
	if _, err := s.VerifyDomain(ctx, "acme", "api.example.com", failing); !errors.As(err, &verifyErr) || !verifyErr.Unavailable {
		t.Errorf("VerifyDomain with a failing resolver: error = %v, want an unavailable VerificationError", err)
	}
	checkIndex(t, s, map[string]string{})

	revision := revisionOf(t, s, "acme")
	verified, err := s.VerifyDomain(ctx, "acme", "api.example.com", txtAnswers(map[string][]string{record: {"v=1", domain.VerificationToken}}))
	if err != nil || !verified.Verified || verified.VerifiedAt == nil {
		t.Fatalf("VerifyDomain with the token = %+v, %v; want verified", verified, err)
	}
	if got := revisionOf(t, s, "acme"); got != revision+1 {
		t.Errorf("revision after verify = %d, want %d", got, revision+1)
	}
	checkIndex(t, s, map[string]string{"api.example.com": "acme"})

	leaf := testcert.New(t, "api.example.com")
	info, err := s.SetDomainCertificate(ctx, "acme", "api.example.com", CertificateInput{CertificatePEM: leaf.CertificatePEM, PrivateKeyPEM: leaf.PrivateKeyPEM})
	if err != nil {
		t.Fatalf("SetDomainCertificate() error = %v", err)
	}
	if len(info.SANs) != 1 || info.SANs[0] != "api.example.com" || len(info.SHA256Fingerprint) != 64 || info.ChainLength != 1 {
		t.Errorf("certificate info = %+v", info)
	}

	b, err := s.Bundle(ctx, "acme")
	if err != nil {
		t.Fatalf("Bundle() error = %v", err)
	}
	if len(b.Domains) != 1 || b.Domains[0].PrivateKeyPEM != leaf.PrivateKeyPEM || b.Domains[0].CertificatePEM != leaf.CertificatePEM {
		t.Errorf("bundle domains = %+v, want the domain with its certificate and decrypted key", b.Domains)
	}
	checkKeySealed(t, s, leaf.PrivateKeyPEM)

	if err := s.DeleteDomain(ctx, "globex", "api.example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteDomain from the other tenant: error = %v, want not found", err)
	}
	if err := s.DeleteDomain(ctx, "acme", "api.example.com"); err != nil {
		t.Fatalf("DeleteDomain() error = %v", err)
	}
	checkIndex(t, s, map[string]string{})
	if _, err := s.CreateDomain(ctx, "globex", "api.example.com"); err != nil {
		t.Errorf("claim after delete: error = %v, want the hostname free", err)
	}
}

func checkIndex(t *testing.T, s *Store, want map[string]string) {
	t.Helper()

	index, err := s.DomainIndex(context.Background())
	if err != nil {
		t.Fatalf("DomainIndex() error = %v", err)
	}
	if len(index) != len(want) {
		t.Fatalf("DomainIndex() = %v, want %v", index, want)
	}
	for hostname, slug := range want {
		if index[hostname] != slug {
			t.Errorf("DomainIndex()[%q] = %q, want %q", hostname, index[hostname], slug)
		}
	}
}

// checkKeySealed fails when the database holds the private key in
// plaintext.
func checkKeySealed(t *testing.T, s *Store, keyPEM string) {
	t.Helper()

	var rows []domainRow
	if err := s.reader.Find(&rows).Error; err != nil {
		t.Fatalf("read domains: %v", err)
	}
	for _, row := range rows {
		if row.PrivateKeySealed == "" || strings.Contains(row.PrivateKeySealed, "PRIVATE KEY") || strings.Contains(row.PrivateKeySealed, keyPEM[40:80]) {
			t.Errorf("private_key_sealed of %q = %q, want ciphertext", row.Hostname, row.PrivateKeySealed)
		}
	}
}

func TestCreateDomainRejectsInvalidHostnames(t *testing.T) {
	s := openSecretStore(t, "sqlite://"+t.TempDir()+"/portal.db")
	seedTenant(t, s, "acme")

	tests := []struct {
		desc     string
		hostname string
		want     string
	}{
		{"empty", "", "empty"},
		{"one label", "localhost", "one label"},
		{"IPv4", "192.0.2.1", "IP address"},
		{"IPv6", "[2001:db8::1]", "IP address"},
		{"wildcard", "*.example.com", "wildcard"},
		{"underscore", "a_b.example.com", "contains"},
		{"leading hyphen", "-a.example.com", "hyphen"},
		{"empty label", "a..example.com", "empty label"},
		{"long label", strings.Repeat("a", 64) + ".com", "label of 64"},
		{"long name", strings.Repeat("abcdefghi.", 26) + "com", "above the limit of 253"},
		{"numeric top level", "example.123", "numeric"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, err := s.CreateDomain(context.Background(), "acme", tt.hostname)
			var field *config.FieldError
			if !errors.As(err, &field) || field.Field != "hostname" || !strings.Contains(field.Message, tt.want) {
				t.Errorf("CreateDomain(%q) error = %v, want a hostname error containing %q", tt.hostname, err, tt.want)
			}
		})
	}
}

func TestSetCertificateRejectsInvalid(t *testing.T) {
	s := openSecretStore(t, "sqlite://"+t.TempDir()+"/portal.db")
	seedTenant(t, s, "acme")
	if _, err := s.CreateDomain(context.Background(), "acme", "api.example.com"); err != nil {
		t.Fatalf("CreateDomain() error = %v", err)
	}

	now := time.Now()
	good := testcert.New(t, "api.example.com")
	other := testcert.New(t, "api.example.com")
	expired := testcert.Issue(t, []string{"api.example.com"}, testcert.Options{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)})
	future := testcert.Issue(t, []string{"api.example.com"}, testcert.Options{NotBefore: now.Add(24 * time.Hour), NotAfter: now.Add(48 * time.Hour)})
	elsewhere := testcert.New(t, "www.example.org")
	ca := testcert.Issue(t, []string{"ca.example.net"}, testcert.Options{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour), IsCA: true})
	signed := testcert.Issue(t, []string{"api.example.com"}, testcert.Options{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), Parent: ca})

	tests := []struct {
		desc  string
		input CertificateInput
		field string
		want  string
	}{
		{"bad PEM", CertificateInput{CertificatePEM: "not pem", PrivateKeyPEM: good.PrivateKeyPEM}, "certificate_pem", "no PEM certificate"},
		{"key in certificate field", CertificateInput{CertificatePEM: good.PrivateKeyPEM, PrivateKeyPEM: good.PrivateKeyPEM}, "certificate_pem", `"PRIVATE KEY" PEM block`},
		{"mismatched key", CertificateInput{CertificatePEM: good.CertificatePEM, PrivateKeyPEM: other.PrivateKeyPEM}, "private_key_pem", "does not match the public key"},
		{"missing key", CertificateInput{CertificatePEM: good.CertificatePEM}, "private_key_pem", "missing"},
		{"expired", CertificateInput{CertificatePEM: expired.CertificatePEM, PrivateKeyPEM: expired.PrivateKeyPEM}, "certificate_pem", "expired"},
		{"not yet valid", CertificateInput{CertificatePEM: future.CertificatePEM, PrivateKeyPEM: future.PrivateKeyPEM}, "certificate_pem", "valid only from"},
		{"hostname not covered", CertificateInput{CertificatePEM: elsewhere.CertificatePEM, PrivateKeyPEM: elsewhere.PrivateKeyPEM}, "certificate_pem", "does not cover"},
		{"chain out of order", CertificateInput{CertificatePEM: ca.CertificatePEM + signed.CertificatePEM, PrivateKeyPEM: signed.PrivateKeyPEM}, "certificate_pem", "not signed by"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			_, err := s.SetDomainCertificate(context.Background(), "acme", "api.example.com", tt.input)
			var field *config.FieldError
			if !errors.As(err, &field) || field.Field != tt.field || !strings.Contains(field.Message, tt.want) {
				t.Errorf("SetDomainCertificate() error = %v, want a %s error containing %q", err, tt.field, tt.want)
			}
		})
	}

	info, err := s.SetDomainCertificate(context.Background(), "acme", "api.example.com", CertificateInput{CertificatePEM: signed.CertificatePEM + ca.CertificatePEM, PrivateKeyPEM: signed.PrivateKeyPEM})
	if err != nil || info.ChainLength != 2 || !strings.Contains(info.Issuer, "ca.example.net") {
		t.Errorf("leaf and CA in order: info = %+v, error = %v; want chain_length 2 issued by the CA", info, err)
	}
}

func TestRouteTLSFieldsRoundTrip(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openSecretStore(t, dialect.open(t))
			seedTenant(t, s, "acme")
			ctx := context.Background()

			hsts := &config.HSTS{MaxAge: 63072000, IncludeSubdomains: true, Preload: true}
			route := config.Route{Name: "secure", Paths: []string{"/secure"}, Upstream: "backend", HTTPSRedirect: true, HSTS: hsts}
			if _, err := s.CreateRoute(ctx, "acme", route); err != nil {
				t.Fatalf("CreateRoute() error = %v", err)
			}
			got, err := s.GetRoute(ctx, "acme", "secure")
			if err != nil || !got.HTTPSRedirect || got.HSTS == nil || *got.HSTS != *hsts {
				t.Fatalf("GetRoute() = %+v, %v; want the redirect and HSTS back", got, err)
			}

			route.HTTPSRedirect, route.HSTS = false, nil
			if _, err := s.UpdateRoute(ctx, "acme", "secure", route); err != nil {
				t.Fatalf("UpdateRoute() error = %v", err)
			}
			got, err = s.GetRoute(ctx, "acme", "secure")
			if err != nil || got.HTTPSRedirect || got.HSTS != nil {
				t.Errorf("GetRoute() after clearing = %+v, %v; want no redirect and no HSTS", got, err)
			}

			route.HSTS = &config.HSTS{MaxAge: 300, Preload: true}
			if _, err := s.UpdateRoute(ctx, "acme", "secure", route); !strings.Contains(errString(err), "hsts.preload") {
				t.Errorf("preload without include_subdomains: error = %v, want an hsts.preload error", err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
