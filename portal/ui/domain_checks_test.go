package ui

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/tenants/testcert"
)

func TestConsoleDomainVerify(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	domain, err := site.store.CreateDomain(ctx, "acme", "api.example.com")
	if err != nil {
		t.Fatal(err)
	}
	path := "/ui/tenants/acme/domains/api.example.com/verify"

	_, page := site.get("/ui/tenants/acme/domains", nil)
	if !strings.Contains(page, `action="`+path+`"`) {
		t.Errorf("domain page lacks the verify form of the unverified domain")
	}

	status, page := site.post(path, url.Values{})
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("verify without the TXT record: status = %d, want 422", status)
	}
	text := html.UnescapeString(page)
	for _, want := range []string{"Domain not verified", "no TXT record " + domain.VerificationRecord, domain.VerificationToken} {
		if !strings.Contains(text, want) {
			t.Errorf("failed verify page lacks %q", want)
		}
	}

	status, page = site.post(path+"?lang="+SimplifiedChinese, url.Values{})
	text = html.UnescapeString(page)
	if status != http.StatusUnprocessableEntity || !strings.Contains(text, "域名未验证") || !strings.Contains(text, "没有任何 TXT 记录 "+domain.VerificationRecord) {
		t.Errorf("failed verify in zh-CN: status = %d, want 422 with the Chinese title and detail", status)
	}

	site.dns.SetTXT(domain.VerificationRecord, domain.VerificationToken)
	if status, _ := site.post(path, url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("verify with the TXT record: status = %d, want 303", status)
	}
	verified, err := site.store.GetDomain(ctx, "acme", "api.example.com")
	if err != nil || !verified.Verified {
		t.Fatalf("domain after verify = %+v, %v; want verified", verified, err)
	}
	if _, page := site.get("/ui/tenants/acme/domains", nil); strings.Contains(page, `action="`+path+`"`) {
		t.Errorf("domain page still shows the verify form after the domain was verified")
	}
}

func TestConsoleCertificateUpload(t *testing.T) {
	site := startConsole(t)
	ctx := context.Background()
	if _, err := site.store.CreateDomain(ctx, "acme", "api.example.com"); err != nil {
		t.Fatal(err)
	}
	path := "/ui/tenants/acme/domains/api.example.com/certificate"
	cert := testcert.New(t, "api.example.com")

	status, page := site.post(path, url.Values{"certificate_pem": {cert.CertificatePEM}, "private_key_pem": {cert.PrivateKeyPEM}})
	if status != http.StatusSeeOther {
		t.Fatalf("upload certificate: status = %d, want 303; body %.400s", status, page)
	}
	domain, err := site.store.GetDomain(ctx, "acme", "api.example.com")
	if err != nil || domain.Certificate == nil {
		t.Fatalf("domain after upload = %+v, %v; want a certificate", domain, err)
	}

	_, page = site.get("/ui/tenants/acme/domains", nil)
	text := html.UnescapeString(page)
	for _, want := range []string{"CN=api.example.com", domain.Certificate.SHA256Fingerprint, domain.Certificate.NotAfter.Format(timeLayout)} {
		if !strings.Contains(text, want) {
			t.Errorf("domain page lacks the certificate's %q", want)
		}
	}
	if strings.Contains(text, cert.PrivateKeyPEM) {
		t.Errorf("domain page shows the private key")
	}
}

func TestConsoleCertificateKeyMismatch(t *testing.T) {
	site := startConsole(t)
	if _, err := site.store.CreateDomain(context.Background(), "acme", "api.example.com"); err != nil {
		t.Fatal(err)
	}
	cert := testcert.New(t, "api.example.com")
	other := testcert.New(t, "api.example.com")

	fields := url.Values{"certificate_pem": {cert.CertificatePEM}, "private_key_pem": {other.PrivateKeyPEM}}
	status, page := site.post("/ui/tenants/acme/domains/api.example.com/certificate", fields)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("upload with another certificate's key: status = %d, want 422", status)
	}
	text := html.UnescapeString(page)
	if !strings.Contains(text, `<p class="field-error">private_key_pem does not match the public key of the leaf certificate`) {
		t.Errorf("failed upload page lacks the private_key_pem field error; body %.2000s", text)
	}
	if strings.Contains(text, other.PrivateKeyPEM) {
		t.Errorf("failed upload page sends the private key back")
	}
	if !strings.Contains(text, cert.CertificatePEM) {
		t.Errorf("failed upload page lacks the certificate chain that was sent")
	}

	domain, err := site.store.GetDomain(context.Background(), "acme", "api.example.com")
	if err != nil || domain.Certificate != nil {
		t.Errorf("domain after the rejected upload = %+v, %v; want no certificate", domain, err)
	}
}

func TestConsoleViewerSeesNoDomainForms(t *testing.T) {
	site := startConsole(t)
	if _, err := site.store.CreateDomain(context.Background(), "acme", "api.example.com"); err != nil {
		t.Fatal(err)
	}
	site.cookie = site.userCookie("viewer@example.com", accounts.RoleViewer)

	status, page := site.get("/ui/tenants/acme/domains", nil)
	if status != http.StatusOK {
		t.Fatalf("viewer GET domains: status %d, want 200", status)
	}
	for _, form := range []string{"/verify\"", "/certificate\"", "/delete\"", "<textarea"} {
		if strings.Contains(page, form) {
			t.Errorf("viewer's domain page contains %s", form)
		}
	}
	if !strings.Contains(page, "CN=shop.example.com") {
		t.Errorf("viewer's domain page lacks the seeded certificate's subject")
	}

	cert := testcert.New(t, "api.example.com")
	fields := url.Values{"certificate_pem": {cert.CertificatePEM}, "private_key_pem": {cert.PrivateKeyPEM}}
	if status, _ := site.post("/ui/tenants/acme/domains/api.example.com/certificate", fields); status != http.StatusForbidden {
		t.Errorf("viewer uploads a certificate: status = %d, want 403", status)
	}
	if status, _ := site.post("/ui/tenants/acme/domains/api.example.com/verify", url.Values{}); status != http.StatusForbidden {
		t.Errorf("viewer verifies a domain: status = %d, want 403", status)
	}
}
