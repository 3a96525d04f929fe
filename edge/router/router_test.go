package router

import "testing"

func TestTableMatch(t *testing.T) {
	table := New([]Route[string]{
		{Prefixes: []string{"/"}, Value: "root"},
		{Prefixes: []string{"/api"}, Methods: []string{"GET"}, Value: "api-read"},
		{Prefixes: []string{"/api"}, Methods: []string{"POST", "PUT"}, Value: "api-write"},
		{Prefixes: []string{"/api/v2", "/v2"}, Value: "v2"},
		{Prefixes: []string{"/admin"}, Methods: []string{"DELETE"}, Value: "admin"},
	})

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
			got, ok := table.Match(tt.method, tt.path)
			if !ok {
				t.Fatalf("Match(%q, %q) found no route, want %q", tt.method, tt.path, tt.want)
			}
			if got != tt.want {
				t.Errorf("Match(%q, %q) = %q, want %q", tt.method, tt.path, got, tt.want)
			}
		})
	}
}

func TestTableNoMatch(t *testing.T) {
	table := New([]Route[int]{
		{Prefixes: []string{"/api"}, Methods: []string{"GET"}, Value: 1},
	})

	tests := []struct {
		name   string
		method string
		path   string
	}{
		{name: "other path", method: "GET", path: "/web"},
		{name: "other method", method: "POST", path: "/api"},
		{name: "shorter than prefix", method: "GET", path: "/ap"},
		{name: "empty path", method: "GET", path: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := table.Match(tt.method, tt.path)
			if ok {
				t.Errorf("Match(%q, %q) = %d, want no match", tt.method, tt.path, got)
			}
		})
	}
}

func TestTableTieKeepsOrder(t *testing.T) {
	table := New([]Route[string]{
		{Prefixes: []string{"/x"}, Value: "first"},
		{Prefixes: []string{"/x"}, Value: "second"},
	})

	got, _ := table.Match("GET", "/x/y")
	if got != "first" {
		t.Errorf("Match = %q, want %q", got, "first")
	}
}
