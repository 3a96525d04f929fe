package router

import (
	"maps"
	"net/http"
	"testing"

	"portcullis.dev/tenants/config"
)

// newTable builds a table whose values are the route names.
func newTable(routes ...config.Route) *Table[string] {
	entries := make([]Entry[string], len(routes))
	for i := range routes {
		entries[i] = Entry[string]{Route: &routes[i], Value: routes[i].Name}
	}
	return New(entries)
}

func text(s string) *string { return &s }

func TestTableMatch(t *testing.T) {
	table := newTable(
		config.Route{Name: "root", Paths: []string{"/"}},
		config.Route{Name: "api-read", Paths: []string{"/api"}, Methods: []string{"GET"}},
		config.Route{Name: "api-write", Paths: []string{"/api"}, Methods: []string{"POST", "PUT"}},
		config.Route{Name: "v2", Paths: []string{"/api/v2", "/v2"}},
		config.Route{Name: "admin", Paths: []string{"/admin"}, Methods: []string{"DELETE"}},
	)

	tests := []struct {
		name   string
		method string
		path   string
		want   string
	}{
		{name: "root catches rest", method: "GET", path: "/other", want: "root"},
		{name: "longer prefix wins", method: "GET", path: "/api/users", want: "api-read"},
		{name: "method picks route", method: "POST", path: "/api/users", want: "api-write"},
		{name: "head follows get", method: "HEAD", path: "/api/users", want: "api-read"},
		{name: "no method falls back", method: "PATCH", path: "/api/users", want: "root"},
		{name: "longest of several", method: "DELETE", path: "/api/v2/x", want: "v2"},
		{name: "second prefix of route", method: "GET", path: "/v2/x", want: "v2"},
		{name: "plain string prefix", method: "GET", path: "/apis", want: "api-read"},
		{name: "method only route", method: "GET", path: "/admin/x", want: "root"},
		{name: "exact prefix", method: "DELETE", path: "/admin", want: "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := table.Match(&Request{Method: tt.method, Path: tt.path})
			if !ok {
				t.Fatalf("Match(%q, %q) found no route, want %q", tt.method, tt.path, tt.want)
			}
			if got.Value != tt.want {
				t.Errorf("Match(%q, %q) = %q, want %q", tt.method, tt.path, got.Value, tt.want)
			}
		})
	}
}

func TestTableNoMatch(t *testing.T) {
	table := newTable(
		config.Route{Name: "api", Paths: []string{"/api"}, Methods: []string{"GET"}},
		config.Route{Name: "health", Paths: []string{"=/healthz"}},
		config.Route{Name: "user", Paths: []string{"/users/{id}"}},
		config.Route{Name: "files", Paths: []string{"/files/{path...}"}},
	)

	tests := []struct {
		name   string
		method string
		path   string
	}{
		{name: "other path", method: "GET", path: "/web"},
		{name: "other method", method: "POST", path: "/api"},
		{name: "shorter than prefix", method: "GET", path: "/ap"},
		{name: "empty path", method: "GET", path: ""},
		{name: "asterisk", method: "OPTIONS", path: "*"},
		{name: "exact with suffix", method: "GET", path: "/healthz/x"},
		{name: "exact with slash", method: "GET", path: "/healthz/"},
		{name: "pattern too long", method: "GET", path: "/users/7/posts"},
		{name: "pattern empty parameter", method: "GET", path: "/users/"},
		{name: "pattern too short", method: "GET", path: "/users"},
		{name: "catch-all needs slash", method: "GET", path: "/files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := table.Match(&Request{Method: tt.method, Path: tt.path})
			if ok {
				t.Errorf("Match(%q, %q) = %q, want no match", tt.method, tt.path, got.Value)
			}
		})
	}
}

func TestTableParams(t *testing.T) {
	table := newTable(
		config.Route{Name: "user", Paths: []string{"/users/{id}"}},
		config.Route{Name: "post", Paths: []string{"/users/{id}/posts/{post}/"}},
		config.Route{Name: "files", Paths: []string{"/files/{path...}"}},
		config.Route{Name: "tenant", Paths: []string{"/{org}/settings"}},
	)

	tests := []struct {
		path       string
		wantRoute  string
		wantParams map[string]string
	}{
		{path: "/users/42", wantRoute: "user", wantParams: map[string]string{"id": "42"}},
		{path: "/users/a b", wantRoute: "user", wantParams: map[string]string{"id": "a b"}},
		{path: "/users/7/posts/9/", wantRoute: "post", wantParams: map[string]string{"id": "7", "post": "9"}},
		{path: "/files/", wantRoute: "files", wantParams: map[string]string{"path": ""}},
		{path: "/files/a/b/c.txt", wantRoute: "files", wantParams: map[string]string{"path": "a/b/c.txt"}},
		{path: "/acme/settings", wantRoute: "tenant", wantParams: map[string]string{"org": "acme"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := table.Match(&Request{Method: "GET", Path: tt.path})
			if !ok {
				t.Fatalf("Match(%q) found no route, want %q", tt.path, tt.wantRoute)
			}
			if got.Value != tt.wantRoute {
				t.Errorf("Match(%q) = %q, want %q", tt.path, got.Value, tt.wantRoute)
			}
			if !maps.Equal(got.Params, tt.wantParams) {
				t.Errorf("Match(%q) params = %v, want %v", tt.path, got.Params, tt.wantParams)
			}
		})
	}
}

func TestTableOrder(t *testing.T) {
	tests := []struct {
		name   string
		routes []config.Route
		path   string
		want   string
	}{
		{
			name:   "exact before pattern and prefix",
			routes: []config.Route{{Name: "a", Paths: []string{"/users"}}, {Name: "b", Paths: []string{"/{x}"}}, {Name: "c", Paths: []string{"=/users"}}},
			path:   "/users", want: "c",
		},
		{
			name:   "pattern before longer prefix",
			routes: []config.Route{{Name: "a", Paths: []string{"/users/me"}}, {Name: "b", Paths: []string{"/users/{id}"}}},
			path:   "/users/me", want: "b",
		},
		{
			name:   "priority before kind",
			routes: []config.Route{{Name: "a", Paths: []string{"=/users/me"}}, {Name: "b", Paths: []string{"/"}, Priority: 1}},
			path:   "/users/me", want: "b",
		},
		{
			name:   "negative priority loses",
			routes: []config.Route{{Name: "a", Paths: []string{"/users/me"}, Priority: -1}, {Name: "b", Paths: []string{"/"}}},
			path:   "/users/me", want: "b",
		},
		{
			name:   "literal before parameter",
			routes: []config.Route{{Name: "a", Paths: []string{"/{org}/users"}}, {Name: "b", Paths: []string{"/acme/{what}"}}},
			path:   "/acme/users", want: "b",
		},
		{
			name:   "parameter before catch-all",
			routes: []config.Route{{Name: "a", Paths: []string{"/files/{path...}"}}, {Name: "b", Paths: []string{"/files/{name}"}}},
			path:   "/files/x", want: "b",
		},
		{
			name:   "more conditions first",
			routes: []config.Route{{Name: "a", Paths: []string{"/api"}}, {Name: "b", Paths: []string{"/api"}, Headers: []config.Matcher{{Name: "X-Env"}}}},
			path:   "/api", want: "b",
		},
		{
			name:   "entry order breaks ties",
			routes: []config.Route{{Name: "a", Paths: []string{"/x"}}, {Name: "b", Paths: []string{"/x"}}},
			path:   "/x/y", want: "a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := newTable(tt.routes...)
			header := http.Header{"X-Env": {"beta"}}
			got, ok := table.Match(&Request{Method: "GET", Path: tt.path, Header: header})
			if !ok {
				t.Fatalf("Match(%q) found no route, want %q", tt.path, tt.want)
			}
			if got.Value != tt.want {
				t.Errorf("Match(%q) = %q, want %q", tt.path, got.Value, tt.want)
			}
		})
	}
}

func TestTableConditions(t *testing.T) {
	table := newTable(
		config.Route{Name: "any", Paths: []string{"/"}},
		config.Route{Name: "api-host", Paths: []string{"/"}, Hosts: []string{"API.acme.example"}},
		config.Route{Name: "wild-host", Paths: []string{"/"}, Hosts: []string{"*.shop.example"}},
		config.Route{Name: "beta", Paths: []string{"/"}, Headers: []config.Matcher{{Name: "x-env", Value: text("beta")}}},
		config.Route{Name: "traced", Paths: []string{"/"}, Headers: []config.Matcher{{Name: "X-Trace"}}},
		config.Route{Name: "debug", Paths: []string{"/"}, Query: []config.Matcher{{Name: "debug"}}},
		config.Route{Name: "v2", Paths: []string{"/"}, Query: []config.Matcher{{Name: "version", Value: text("2")}}},
	)

	tests := []struct {
		name   string
		host   string
		header http.Header
		query  string
		want   string
	}{
		{name: "no condition", host: "acme.localhost", want: "any"},
		{name: "exact host", host: "api.acme.example", want: "api-host"},
		{name: "host case and port", host: "Api.Acme.Example:8443", want: "api-host"},
		{name: "host trailing dot", host: "api.acme.example.", want: "api-host"},
		{name: "wildcard one label", host: "eu.shop.example", want: "wild-host"},
		{name: "wildcard two labels", host: "a.eu.shop.example", want: "wild-host"},
		{name: "wildcard not bare", host: "shop.example", want: "any"},
		{name: "header value", header: http.Header{"X-Env": {"prod", "beta"}}, want: "beta"},
		{name: "header value case", header: http.Header{"X-Env": {"Beta"}}, want: "any"},
		{name: "header presence", header: http.Header{"X-Trace": {""}}, want: "traced"},
		{name: "query presence", query: "debug", want: "debug"},
		{name: "query value", query: "a=1&version=2", want: "v2"},
		{name: "query other value", query: "version=3", want: "any"},
		{name: "query malformed pair", query: "x=%zz&version=2", want: "v2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			request := &Request{Method: "GET", Host: tt.host, Path: "/x", Header: tt.header, RawQuery: tt.query}
			got, ok := table.Match(request)
			if !ok {
				t.Fatalf("Match found no route, want %q", tt.want)
			}
			if got.Value != tt.want {
				t.Errorf("Match = %q, want %q", got.Value, tt.want)
			}
		})
	}
}

func TestTableLegacyBraces(t *testing.T) {
	// A path whose braces do not form parameters stays a literal prefix.
	table := newTable(config.Route{Name: "old", Paths: []string{"/a{b"}})

	got, ok := table.Match(&Request{Method: "GET", Path: "/a{bc"})
	if !ok || got.Value != "old" {
		t.Errorf("Match(%q) = %q, %v, want %q", "/a{bc", got.Value, ok, "old")
	}
}
