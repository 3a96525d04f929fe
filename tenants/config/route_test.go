package config

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		path         string
		wantKind     PathKind
		wantBare     string
		wantSegments []Segment
	}{
		{path: "/api", wantKind: PathPrefix, wantBare: "/api"},
		{path: "=/healthz", wantKind: PathExact, wantBare: "/healthz"},
		{path: "/users/{id}", wantKind: PathPattern, wantBare: "/users/{id}", wantSegments: []Segment{{Literal: "users"}, {Param: "id"}}},
		{path: "/files/{path...}", wantKind: PathPattern, wantBare: "/files/{path...}", wantSegments: []Segment{{Literal: "files"}, {Param: "path", CatchAll: true}}},
		{path: "/{org}/", wantKind: PathPattern, wantBare: "/{org}/", wantSegments: []Segment{{Param: "org"}, {Literal: ""}}},
		{path: "/a{b", wantKind: PathPrefix, wantBare: "/a{b"},
		{path: "/x/{id}.json", wantKind: PathPrefix, wantBare: "/x/{id}.json"},
		{path: "/{a}/{a}", wantKind: PathPrefix, wantBare: "/{a}/{a}"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			kind, bare, segments := ParsePath(tt.path)
			if kind != tt.wantKind || bare != tt.wantBare {
				t.Errorf("ParsePath(%q) = %d, %q; want %d, %q", tt.path, kind, bare, tt.wantKind, tt.wantBare)
			}
			if !reflect.DeepEqual(segments, tt.wantSegments) {
				t.Errorf("ParsePath(%q) segments = %+v, want %+v", tt.path, segments, tt.wantSegments)
			}
		})
	}
}

func TestRouteValidateMatching(t *testing.T) {
	value := "beta"
	valid := Route{
		Name: "r", Paths: []string{"/users/{id}", "=/health", "/api"}, Upstream: "u",
		Hosts: []string{"API.acme.example", "*.acme.example"}, Headers: []Matcher{{Name: "X-Env", Value: &value}, {Name: "X-Trace"}},
		Query: []Matcher{{Name: "a b"}}, Priority: -MaxRoutePriority, MaxBodyBytes: MaxBodyBytesCeiling,
	}
	if err := valid.Validate(); err != nil {
		t.Fatalf("Validate() on a valid route = %v", err)
	}

	control := "a\x01"
	tests := []struct {
		name      string
		change    func(*Route)
		wantField string
	}{
		{"exact without slash", func(r *Route) { r.Paths = []string{"=health"} }, "paths[0]"},
		{"exact with parameter", func(r *Route) { r.Paths = []string{"=/users/{id}"} }, "paths[0]"},
		{"partial parameter", func(r *Route) { r.Paths = []string{"/x/{id}.json"} }, "paths[0]"},
		{"unclosed brace", func(r *Route) { r.Paths = []string{"/x/{id"} }, "paths[0]"},
		{"catch-all not last", func(r *Route) { r.Paths = []string{"/{p...}/x"} }, "paths[0]"},
		{"repeated parameter", func(r *Route) { r.Paths = []string{"/{a}/{a}"} }, "paths[0]"},
		{"backslash", func(r *Route) { r.Paths = []string{"/a\\b"} }, "paths[0]"},
		{"control character", func(r *Route) { r.Paths = []string{"/a\x7f"} }, "paths[0]"},
		{"host with port", func(r *Route) { r.Hosts = []string{"a.example:80"} }, "hosts[0]"},
		{"host with scheme", func(r *Route) { r.Hosts = []string{"https://a.example"} }, "hosts[0]"},
		{"bare wildcard", func(r *Route) { r.Hosts = []string{"*"} }, "hosts[0]"},
		{"host twice", func(r *Route) { r.Hosts = []string{"a.example", "A.example"} }, "hosts[1]"},
		{"header twice", func(r *Route) { r.Headers = []Matcher{{Name: "X-A"}, {Name: "x-a"}} }, "headers[1].name"},
		{"header value control", func(r *Route) { r.Headers = []Matcher{{Name: "X-A", Value: &control}} }, "headers[0].value"},
		{"query name empty", func(r *Route) { r.Query = []Matcher{{}} }, "query[0].name"},
		{"too many matchers", func(r *Route) { r.Query = make([]Matcher, MaxRouteMatchers+1) }, "query"},
		{"priority below range", func(r *Route) { r.Priority = -MaxRoutePriority - 1 }, "priority"},
		{"negative body limit", func(r *Route) { r.MaxBodyBytes = -1 }, "max_body_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			route := valid
			tt.change(&route)

			var fieldErr *FieldError
			if err := route.Validate(); !errors.As(err, &fieldErr) {
				t.Fatalf("Validate() = %v, want a *FieldError", err)
			}
			if fieldErr.Field != tt.wantField {
				t.Errorf("field = %q, want %q (%v)", fieldErr.Field, tt.wantField, fieldErr)
			}
		})
	}
}

func TestRouteBodyLimit(t *testing.T) {
	if got := (&Route{}).BodyLimit(); got != DefaultMaxBodyBytes {
		t.Errorf("BodyLimit() of zero = %d, want %d", got, DefaultMaxBodyBytes)
	}
	if got := (&Route{MaxBodyBytes: 5}).BodyLimit(); got != 5 {
		t.Errorf("BodyLimit() = %d, want 5", got)
	}
}

func TestRouteJSONOmitsDefaults(t *testing.T) {
	// Bundles sealed before the matching fields existed must keep their
	// hash, so a route without them encodes as before.
	route := Route{Name: "all", Paths: []string{"/"}, Methods: []string{}, Upstream: "backend"}

	encoded, err := json.Marshal(route)
	if err != nil {
		t.Fatalf("Marshal error = %v", err)
	}
	if want := `{"name":"all","paths":["/"],"methods":[],"upstream":"backend"}`; string(encoded) != want {
		t.Errorf("Marshal = %s, want %s", encoded, want)
	}
}
