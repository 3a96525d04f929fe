package tlsconf

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

func TestHTTPSURL(t *testing.T) {
	tests := []struct {
		desc   string
		target string
		host   string
		port   int
		want   string
	}{
		{"port 443 left out", "/a/b?x=1", "api.example.com", 443, "https://api.example.com/a/b?x=1"},
		{"other port added", "/a", "api.example.com:8080", 8443, "https://api.example.com:8443/a"},
		{"escaped path kept", "/a%2Fb/c%20d", "api.example.com", 443, "https://api.example.com/a%2Fb/c%20d"},
		{"IPv6 with port", "/", "[::1]:8080", 8443, "https://[::1]:8443/"},
		{"IPv6 on 443", "/", "[::1]:8080", 443, "https://[::1]/"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://placeholder"+tt.target, nil)
			r.Host = tt.host
			if got := httpsURL(r, tt.port); got != tt.want {
				t.Errorf("httpsURL(%q, %d) = %q, want %q", tt.host, tt.port, got, tt.want)
			}
		})
	}
}

func TestApplyRedirectsOnlyPlainHTTP(t *testing.T) {
	policy := RoutePolicy{HTTPSRedirect: true, HSTS: "max-age=60"}

	plain := httptest.NewRequest("GET", "http://api.example.com/x?y=1", nil)
	recorder := httptest.NewRecorder()
	if !policy.Apply(recorder, plain, IsSecure(plain, nil), 443) {
		t.Fatal("Apply over plain HTTP returned false, want a redirect")
	}
	if recorder.Code != http.StatusPermanentRedirect || recorder.Header().Get("Location") != "https://api.example.com/x?y=1" {
		t.Errorf("redirect = %d to %q", recorder.Code, recorder.Header().Get("Location"))
	}
	if recorder.Header().Get("Strict-Transport-Security") != "" {
		t.Error("Strict-Transport-Security sent over plain HTTP")
	}

	secure := httptest.NewRequest("GET", "https://api.example.com/x", nil)
	secure.TLS = &tls.ConnectionState{}
	recorder = httptest.NewRecorder()
	if policy.Apply(recorder, secure, IsSecure(secure, nil), 443) {
		t.Fatal("Apply over TLS returned true, want no redirect")
	}
	if got := recorder.Header().Get("Strict-Transport-Security"); got != "max-age=60" {
		t.Errorf("Strict-Transport-Security over TLS = %q, want max-age=60", got)
	}
}

func TestIndexNormalizesHostnames(t *testing.T) {
	var index Index
	if _, found := index.Lookup("api.example.com"); found {
		t.Fatal("empty index found a hostname")
	}

	index.Replace(map[string]string{"API.example.com.": "Acme"})
	for _, host := range []string{"api.example.com", "API.EXAMPLE.COM:8443", "api.example.com."} {
		if slug, found := index.Lookup(host); !found || slug != "acme" {
			t.Errorf("Lookup(%q) = %q, %v; want acme", host, slug, found)
		}
	}
	var missing *Index
	if _, found := missing.Lookup("api.example.com"); found {
		t.Error("nil index found a hostname")
	}
}

func TestSitesKeepPreviousForInFlightRuntime(t *testing.T) {
	sites := NewSites()
	first := siteAt(t, 1, true)
	second := siteAt(t, 2, false)

	sites.Store(first)
	sites.Store(second)
	sites.Store(siteAt(t, 1, true))

	if got := sites.Current("acme"); got != second {
		t.Fatalf("Current = revision %d, want 2: an older revision must not replace a newer one", got.Revision)
	}
	if got := sites.Get("acme", first.Hash); got != first {
		t.Errorf("Get(first hash) = revision %d, want 1", got.Revision)
	}
	if !sites.Get("acme", first.Hash).Route("all").HTTPSRedirect || sites.Get("acme", second.Hash).Route("all").HTTPSRedirect {
		t.Error("route policies do not follow their revisions")
	}
	if got := sites.Get("acme", "unknown"); got != second {
		t.Errorf("Get(unknown hash) = revision %d, want the newest", got.Revision)
	}
}

func siteAt(t *testing.T, revision int64, redirect bool) *Site {
	t.Helper()

	b := &bundle.Bundle{Tenant: "acme", Revision: revision, Routes: []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api", HTTPSRedirect: redirect}}}
	if err := b.Seal(); err != nil {
		t.Fatalf("seal: %v", err)
	}
	site, err := NewSite(b)
	if err != nil {
		t.Fatalf("NewSite() error = %v", err)
	}
	return site
}

func TestNewSiteLeavesOutBrokenCertificate(t *testing.T) {
	b := &bundle.Bundle{Tenant: "acme", Revision: 1, Domains: []bundle.Domain{
		{Hostname: "broken.example.com", CertificatePEM: "not pem", PrivateKeyPEM: "not pem"},
		{Hostname: "bare.example.com"},
	}}
	site, err := NewSite(b)
	if err == nil {
		t.Error("NewSite() error = nil, want the broken certificate reported")
	}
	for _, hostname := range []string{"broken.example.com", "bare.example.com"} {
		if !site.Serves(hostname) || site.Certificate(hostname) != nil {
			t.Errorf("%s: Serves = %v, certificate %v; want served with the default certificate", hostname, site.Serves(hostname), site.Certificate(hostname))
		}
	}
}

func TestIsSecureTrustsForwardedProtoFromProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}

	tests := []struct {
		desc   string
		remote string
		proto  []string
		want   bool
	}{
		{"plain without header", "10.1.2.3:5000", nil, false},
		{"trusted proxy says https", "10.1.2.3:5000", []string{"https"}, true},
		{"trusted proxy says http", "10.1.2.3:5000", []string{"http"}, false},
		{"nearest proxy of a list wins", "10.1.2.3:5000", []string{"https, http"}, false},
		{"nearest proxy in the last header", "10.1.2.3:5000", []string{"http", "HTTPS"}, true},
		{"untrusted client says https", "192.0.2.7:5000", []string{"https"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://api.example.com/", nil)
			r.RemoteAddr = tt.remote
			for _, value := range tt.proto {
				r.Header.Add("X-Forwarded-Proto", value)
			}
			if got := IsSecure(r, trusted); got != tt.want {
				t.Errorf("IsSecure() = %v, want %v", got, tt.want)
			}
		})
	}
}
