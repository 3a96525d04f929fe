package edge

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"portcullis.dev/tenants/config"
)

// noRedirects makes a client return a redirect instead of following it,
// so no test request leaves 127.0.0.1.
func noRedirects(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}

func TestHTTPSRedirectAndHSTS(t *testing.T) {
	upstream, hits := echoUpstream(t, "backend")
	hsts := &config.HSTS{MaxAge: 63072000, IncludeSubdomains: true, Preload: true}
	routes := []config.Route{
		{Name: "secure", Paths: []string{"/secure"}, Upstream: "api", HTTPSRedirect: true, HSTS: hsts},
		{Name: "open", Paths: []string{"/open"}, Upstream: "api"},
	}
	te := startEdge(t, newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, routes, nil)), nil)
	for _, client := range []*http.Client{te.h1, te.h2c, te.h2, te.h3} {
		client.CheckRedirect = noRedirects
	}
	httpsPort := te.addrs.HTTPS[strings.LastIndex(te.addrs.HTTPS, ":")+1:]
	wantHSTS := "max-age=63072000; includeSubDomains; preload"

	for _, protocol := range []string{"h1", "h2c"} {
		t.Run("redirect over "+protocol, func(t *testing.T) {
			before := hits.Load()
			r := te.do(t, protocol, "POST", "acme.localhost:8080", "/secure/orders?id=7&x=%2F")
			want := "https://acme.localhost:" + httpsPort + "/secure/orders?id=7&x=%2F"
			if r.StatusCode != http.StatusPermanentRedirect || r.Header.Get("Location") != want {
				t.Errorf("status %d, Location %q; want 308 to %q", r.StatusCode, r.Header.Get("Location"), want)
			}
			if got := r.Header.Get("Strict-Transport-Security"); got != "" {
				t.Errorf("Strict-Transport-Security over plain HTTP = %q, want none", got)
			}
			if hits.Load() != before {
				t.Error("the redirected request reached the upstream")
			}
		})
	}

	for _, protocol := range []string{"h2", "h3"} {
		t.Run("HSTS over "+protocol, func(t *testing.T) {
			r := te.do(t, protocol, "GET", "acme.localhost", "/secure/orders")
			if r.StatusCode != http.StatusOK || r.Header.Get("Strict-Transport-Security") != wantHSTS {
				t.Errorf("status %d, Strict-Transport-Security %q; want 200 with %q", r.StatusCode, r.Header.Get("Strict-Transport-Security"), wantHSTS)
			}
		})
	}

	t.Run("HSTS over TLS with HTTP/1.1", func(t *testing.T) {
		client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: noRedirects, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: te.pool, NextProtos: []string{"http/1.1"}},
		}}
		defer client.CloseIdleConnections()
		req, err := http.NewRequest("GET", "https://"+te.addrs.HTTPS+"/secure", nil)
		if err != nil {
			t.Fatalf("build request: %v", err)
		}
		req.Host = "acme.localhost"
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET over TLS: %v", err)
		}
		readAll(t, resp)
		if resp.ProtoMajor != 1 || resp.Header.Get("Strict-Transport-Security") != wantHSTS {
			t.Errorf("HTTP/%d response, Strict-Transport-Security %q; want HTTP/1 with %q", resp.ProtoMajor, resp.Header.Get("Strict-Transport-Security"), wantHSTS)
		}
	})

	for _, protocol := range []string{"h1", "h2c", "h2", "h3"} {
		t.Run("route without policy over "+protocol, func(t *testing.T) {
			r := te.do(t, protocol, "GET", "acme.localhost", "/open")
			if r.StatusCode != http.StatusOK || r.Header.Get("Strict-Transport-Security") != "" {
				t.Errorf("status %d, Strict-Transport-Security %q; want 200 without it", r.StatusCode, r.Header.Get("Strict-Transport-Security"))
			}
		})
	}
}
