package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"portcullis.dev/tenants/config"
)

func text(s string) *string { return &s }

// matchingRoute is a route that sets every matching field.
func matchingRoute() config.Route {
	return config.Route{
		Name:         "users",
		Paths:        []string{"/users/{id}", "=/users", "/files/{path...}"},
		Methods:      []string{"GET"},
		Upstream:     "backend",
		Hosts:        []string{"api.acme.example", "*.acme.example"},
		Headers:      []config.Matcher{{Name: "X-Env", Value: text("beta")}, {Name: "X-Trace"}},
		Query:        []config.Matcher{{Name: "debug"}, {Name: "v", Value: text("")}},
		Priority:     -7,
		MaxBodyBytes: 4096,
	}
}

func TestRouteMatchingRoundTrip(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			seedTenant(t, s, "acme")
			want := matchingRoute()

			if _, err := s.CreateRoute(ctx, "acme", want); err != nil {
				t.Fatalf("CreateRoute error = %v", err)
			}
			got, err := s.GetRoute(ctx, "acme", "users")
			if err != nil {
				t.Fatalf("GetRoute error = %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("GetRoute = %+v, want %+v", got, want)
			}

			b, err := s.Bundle(ctx, "acme")
			if err != nil {
				t.Fatalf("Bundle error = %v", err)
			}
			var inBundle config.Route
			for _, route := range b.Routes {
				if route.Name == "users" {
					inBundle = route
				}
			}
			if !reflect.DeepEqual(inBundle, want) {
				t.Errorf("bundle route = %+v, want %+v", inBundle, want)
			}

			// An update replaces the fields, and zero values clear them.
			cleared := config.Route{Name: "users", Paths: []string{"/users"}, Upstream: "backend"}
			if _, err := s.UpdateRoute(ctx, "acme", "users", cleared); err != nil {
				t.Fatalf("UpdateRoute error = %v", err)
			}
			got, err = s.GetRoute(ctx, "acme", "users")
			if err != nil {
				t.Fatalf("GetRoute after update error = %v", err)
			}
			cleared.Methods = []string{}
			if !reflect.DeepEqual(got, cleared) {
				t.Errorf("GetRoute after update = %+v, want %+v", got, cleared)
			}
		})
	}
}

func TestRouteMatchingRejected(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	ctx := context.Background()

	tests := []struct {
		name      string
		change    func(*config.Route)
		wantField string
	}{
		{"bad host", func(r *config.Route) { r.Hosts = []string{"api.acme.example:8443"} }, "hosts[0]"},
		{"wildcard in middle", func(r *config.Route) { r.Hosts = []string{"api.*.example"} }, "hosts[0]"},
		{"bad header name", func(r *config.Route) { r.Headers = []config.Matcher{{Name: "X Env"}} }, "headers[0].name"},
		{"missing query name", func(r *config.Route) { r.Query = []config.Matcher{{Value: text("1")}} }, "query[0].name"},
		{"priority too high", func(r *config.Route) { r.Priority = config.MaxRoutePriority + 1 }, "priority"},
		{"body limit too large", func(r *config.Route) { r.MaxBodyBytes = config.MaxBodyBytesCeiling + 1 }, "max_body_bytes"},
		{"catch-all not last", func(r *config.Route) { r.Paths = []string{"/files/{path...}/x"} }, "paths[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			route := matchingRoute()
			route.Name = "bad"
			tt.change(&route)

			_, err := s.CreateRoute(ctx, "acme", route)
			var fieldErr *config.FieldError
			if !errors.As(err, &fieldErr) {
				t.Fatalf("CreateRoute error = %v, want a *config.FieldError", err)
			}
			if fieldErr.Field != tt.wantField {
				t.Errorf("field = %q, want %q (%v)", fieldErr.Field, tt.wantField, err)
			}
			if _, err := s.GetRoute(ctx, "acme", "bad"); !isNotFound(err) {
				t.Errorf("GetRoute after rejected create error = %v, want not found", err)
			}
		})
	}
}

func TestListRoutePage(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			seedTenant(t, s, "acme")
			for _, name := range []string{"api-v1", "api-v2", "Admin", "web_1", "web-2"} {
				route := config.Route{Name: name, Paths: []string{"/" + name}, Upstream: "backend"}
				if _, err := s.CreateRoute(ctx, "acme", route); err != nil {
					t.Fatalf("CreateRoute(%q) error = %v", name, err)
				}
			}

			tests := []struct {
				name   string
				page   Page
				filter RouteFilter
				want   string
				more   bool
			}{
				{name: "all", want: "[Admin all api-v1 api-v2 web-2 web_1]"},
				{name: "first page", page: Page{Limit: 2}, want: "[Admin all]", more: true},
				{name: "next page", page: Page{After: "all", Limit: 2}, want: "[api-v1 api-v2]", more: true},
				{name: "last page", page: Page{After: "api-v2", Limit: 2}, want: "[web-2 web_1]"},
				{name: "contains", filter: RouteFilter{NameContains: "api"}, want: "[api-v1 api-v2]"},
				{name: "contains without case", filter: RouteFilter{NameContains: "ADM"}, want: "[Admin]"},
				{name: "underscore literal", filter: RouteFilter{NameContains: "_"}, want: "[web_1]"},
				{name: "percent literal", filter: RouteFilter{NameContains: "%"}, want: "[]"},
				{name: "filter and page", page: Page{Limit: 1}, filter: RouteFilter{NameContains: "api"}, want: "[api-v1]", more: true},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					routes, more, err := s.ListRoutePage(ctx, "acme", tt.page, tt.filter)
					if err != nil {
						t.Fatalf("ListRoutePage error = %v", err)
					}
					names := make([]string, len(routes))
					for i, route := range routes {
						names[i] = route.Name
					}
					if got := fmt.Sprint(names); got != tt.want {
						t.Errorf("names = %s, want %s", got, tt.want)
					}
					if more != tt.more {
						t.Errorf("more = %v, want %v", more, tt.more)
					}
				})
			}
		})
	}
}
