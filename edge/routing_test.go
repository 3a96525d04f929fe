package edge

import (
	"net/http"
	"strings"
	"testing"

	"portcullis.dev/tenants/config"
)

func TestHostSelectsTenant(t *testing.T) {
	acmeUpstream, acmeHits := echoUpstream(t, "acme")
	globexUpstream, _ := echoUpstream(t, "globex")
	source := newMemorySource(
		tenantBundle(t, "acme", 1, acmeUpstream.URL, []config.Route{
			{Name: "all", Paths: []string{"/"}, Upstream: "api"},
			{Name: "acme-only", Paths: []string{"/acme-only"}, Upstream: "api"},
		}, nil),
		tenantBundle(t, "globex", 1, globexUpstream.URL, []config.Route{
			{Name: "public", Paths: []string{"/public"}, Upstream: "api"},
		}, nil),
	)
	te := startEdge(t, source, nil)

	tests := []struct {
		name         string
		host         string
		path         string
		wantStatus   int
		wantUpstream string
	}{
		{name: "tenant host", host: "acme.localhost", path: "/x", wantStatus: 200, wantUpstream: "acme"},
		{name: "port ignored", host: "acme.localhost:8080", path: "/x", wantStatus: 200, wantUpstream: "acme"},
		{name: "case ignored", host: "ACME.LocalHost", path: "/x", wantStatus: 200, wantUpstream: "acme"},
		{name: "absolute name", host: "acme.localhost.", path: "/x", wantStatus: 200, wantUpstream: "acme"},
		{name: "other tenant", host: "globex.localhost", path: "/public/a", wantStatus: 200, wantUpstream: "globex"},
		{name: "unknown tenant", host: "initech.localhost", path: "/x", wantStatus: 404},
		{name: "bare base domain", host: "localhost", path: "/x", wantStatus: 404},
		{name: "other domain", host: "acme.example.com", path: "/x", wantStatus: 404},
		{name: "nested label", host: "a.acme.localhost", path: "/x", wantStatus: 404},
		{name: "invalid slug", host: "-acme.localhost", path: "/x", wantStatus: 404},
		{name: "ip address", host: "127.0.0.1", path: "/x", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := te.do(t, "h1", "GET", tt.host, tt.path)
			if tt.wantStatus != http.StatusOK {
				checkProblem(t, got, tt.wantStatus)
				return
			}
			if got.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", got.StatusCode, tt.wantStatus, got.body)
			}
			if seen := got.seen(t); seen.Upstream != tt.wantUpstream {
				t.Errorf("upstream = %q, want %q", seen.Upstream, tt.wantUpstream)
			}
		})
	}

	t.Run("isolation", func(t *testing.T) {
		before := acmeHits.Load()
		got := te.do(t, "h1", "GET", "globex.localhost", "/acme-only")
		checkProblem(t, got, http.StatusNotFound)
		if hits := acmeHits.Load() - before; hits != 0 {
			t.Errorf("acme upstream got %d requests for globex's host, want 0", hits)
		}
	})
}

func TestRouteMatching(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, []config.Route{
		{Name: "read", Paths: []string{"/api"}, Methods: []string{"GET"}, Upstream: "api"},
		{Name: "write", Paths: []string{"/api"}, Methods: []string{"POST", "PUT"}, Upstream: "api"},
		{Name: "v2", Paths: []string{"/api/v2"}, Upstream: "api"},
		{Name: "admin", Paths: []string{"/admin"}, Methods: []string{"DELETE"}, Upstream: "api"},
	}, nil))
	te := startEdge(t, source, nil)

	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantPath   string
	}{
		{name: "get prefix", method: "GET", path: "/api/users", wantStatus: 200, wantPath: "/api/users"},
		{name: "post prefix", method: "POST", path: "/api/users", wantStatus: 200, wantPath: "/api/users"},
		{name: "longest prefix any method", method: "PATCH", path: "/api/v2/users", wantStatus: 200, wantPath: "/api/v2/users"},
		{name: "method not allowed", method: "PATCH", path: "/api/users", wantStatus: 404},
		{name: "no prefix", method: "GET", path: "/web", wantStatus: 404},
		{name: "query kept", method: "GET", path: "/api/search?q=1", wantStatus: 200, wantPath: "/api/search"},
		{name: "dot segments cleaned", method: "GET", path: "/admin/../api/x", wantStatus: 200, wantPath: "/api/x"},
		{name: "dot segments cannot escape", method: "GET", path: "/api/../admin", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := te.do(t, "h1", tt.method, "acme.localhost", tt.path)
			if tt.wantStatus != http.StatusOK {
				checkProblem(t, got, tt.wantStatus)
				return
			}
			if got.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", got.StatusCode, tt.wantStatus, got.body)
			}
			seen := got.seen(t)
			if seen.Path != tt.wantPath {
				t.Errorf("upstream path = %q, want %q", seen.Path, tt.wantPath)
			}
			if seen.Method != tt.method {
				t.Errorf("upstream method = %q, want %q", seen.Method, tt.method)
			}
		})
	}
}

func TestProxyHeaders(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource(tenantBundle(t, "acme", 1, upstream.URL, []config.Route{
		{Name: "all", Paths: []string{"/"}, Upstream: "api"},
	}, nil))
	te := startEdge(t, source, nil)

	client, base := te.client(t, "h1")
	req, err := http.NewRequest("GET", base+"/x", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Host = "acme.localhost"
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.Header.Set("X-Request-Id", "client-chosen")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	defer resp.Body.Close()

	var got response
	got.Response = resp
	got.body = readAll(t, resp)
	seen := got.seen(t)
	requestID := resp.Header.Get("X-Request-Id")

	checks := []struct {
		name string
		got  string
		want string
	}{
		{name: "forwarded for", got: seen.Header.Get("X-Forwarded-For"), want: "127.0.0.1"},
		{name: "forwarded host", got: seen.Header.Get("X-Forwarded-Host"), want: "acme.localhost"},
		{name: "forwarded proto", got: seen.Header.Get("X-Forwarded-Proto"), want: "http"},
		{name: "request id upstream", got: seen.Header.Get("X-Request-Id"), want: requestID},
		{name: "request id values", got: strings.Join(resp.Header.Values("X-Request-Id"), ", "), want: requestID},
	}
	for _, check := range checks {
		if check.got != check.want {
			t.Errorf("%s = %q, want %q", check.name, check.got, check.want)
		}
	}
	if requestID == "" || requestID == "client-chosen" || requestID == "upstream-id" {
		t.Errorf("X-Request-Id = %q, want one the edge generated", requestID)
	}
}
