package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"portcullis.dev/tenants/config"
)

func TestBindingIsScopedToTenant(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "alpha")
	seedTenant(t, s, "beta")
	ctx := context.Background()
	created, err := s.CreateBinding(ctx, "alpha", config.Binding{Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"hi"}`)})
	if err != nil {
		t.Fatalf("CreateBinding() error = %v", err)
	}
	version := "1.1.0"
	betaBefore := revisionOf(t, s, "beta")

	tests := []struct {
		name string
		call func() error
	}{
		{"get", func() error { _, err := s.GetBinding(ctx, "beta", created.ID); return err }},
		{"update", func() error {
			_, err := s.UpdateBinding(ctx, "beta", created.ID, BindingPatch{Version: &version})
			return err
		}},
		{"delete", func() error { return s.DeleteBinding(ctx, "beta", created.ID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, ErrNotFound) {
				t.Errorf("error = %v, want ErrNotFound", err)
			}
		})
	}

	if got := revisionOf(t, s, "beta"); got != betaBefore {
		t.Errorf("revision of beta = %d, want unchanged %d", got, betaBefore)
	}
	if _, err := s.GetBinding(ctx, "alpha", created.ID); err != nil {
		t.Errorf("GetBinding(alpha) error = %v, want the binding unchanged", err)
	}
	list, err := s.ListBindings(ctx, "beta")
	if err != nil || len(list) != 0 {
		t.Errorf("ListBindings(beta) = %v, %v, want an empty list", list, err)
	}
}

func TestUpdateBindingChecksNewVersionSchema(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	ctx := context.Background()
	_, err := s.PublishPlugin(ctx, NewPluginVersion{
		Name: "hello", Version: "2.0.0", Source: "v2",
		ConfigSchema: json.RawMessage(`{"type":"object","required":["header"]}`),
	})
	if err != nil {
		t.Fatalf("PublishPlugin(2.0.0) error = %v", err)
	}
	created, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Route: "all", Config: json.RawMessage(`{"greeting":"hi"}`)})
	if err != nil {
		t.Fatalf("CreateBinding() error = %v", err)
	}
	version2 := "2.0.0"

	_, err = s.UpdateBinding(ctx, "acme", created.ID, BindingPatch{Version: &version2})

	var fieldErr *config.FieldError
	if !errors.As(err, &fieldErr) || fieldErr.Field != "config.header" {
		t.Fatalf("UpdateBinding(version only) error = %v, want a field error on config.header", err)
	}

	updated, err := s.UpdateBinding(ctx, "acme", created.ID, BindingPatch{Version: &version2, Config: json.RawMessage(`{"header":"X"}`)})
	if err != nil {
		t.Fatalf("UpdateBinding(version and config) error = %v", err)
	}
	if updated.Version != "2.0.0" || string(updated.Config) != `{"header":"X"}` || updated.Route != "all" {
		t.Errorf("UpdateBinding() = %+v, want version 2.0.0, the new config and route all", updated)
	}
}

func TestUpdateBindingRejectsEmptyPatch(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	created, err := s.CreateBinding(context.Background(), "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"hi"}`)})
	if err != nil {
		t.Fatalf("CreateBinding() error = %v", err)
	}

	_, err = s.UpdateBinding(context.Background(), "acme", created.ID, BindingPatch{})

	var fieldErr *config.FieldError
	if !errors.As(err, &fieldErr) {
		t.Fatalf("UpdateBinding(empty) error = %v, want a *config.FieldError", err)
	}
}

func TestConfigSchemaErrorPaths(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	ctx := context.Background()

	tests := []struct {
		name       string
		config     string
		wantFields []string
	}{
		{"wrong type", `{"greeting":5}`, []string{"config.greeting"}},
		{"missing required", `{}`, []string{"config.greeting"}},
		{"array item", `{"greeting":"hi","tags":["a",7]}`, []string{"config.tags[1]"}},
		{"unknown property", `{"greeting":"hi","odd key":1}`, []string{`config["odd key"]`}},
		{"two errors", `{"greeting":1,"tags":"x"}`, []string{"config.greeting", "config.tags"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(tt.config)})
			if err == nil {
				t.Fatal("CreateBinding() error = nil, want field errors")
			}

			var fields []string
			for _, item := range unwrapAll(err) {
				var fieldErr *config.FieldError
				if errors.As(item, &fieldErr) {
					fields = append(fields, fieldErr.Field)
				}
			}
			if strings.Join(fields, " ") != strings.Join(tt.wantFields, " ") {
				t.Errorf("fields = %q, want %q (error %v)", fields, tt.wantFields, err)
			}
		})
	}
}

func unwrapAll(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return joined.Unwrap()
	}
	return []error{err}
}

func TestDeleteInUseNamesDependents(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	ctx := context.Background()
	created, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Route: "all", Config: json.RawMessage(`{"greeting":"hi"}`)})
	if err != nil {
		t.Fatalf("CreateBinding() error = %v", err)
	}
	before := revisionOf(t, s, "acme")

	tests := []struct {
		name          string
		deleteIt      func() error
		wantDependent string
	}{
		{"upstream used by route", func() error { return s.DeleteUpstream(ctx, "acme", "backend") }, `route "all"`},
		{"route used by binding", func() error { return s.DeleteRoute(ctx, "acme", "all") }, `binding "` + created.ID + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.deleteIt()

			var conflict *ConflictError
			if !errors.As(err, &conflict) {
				t.Fatalf("error = %v, want a *ConflictError", err)
			}
			if len(conflict.Dependents) != 1 || conflict.Dependents[0] != tt.wantDependent {
				t.Errorf("Dependents = %q, want [%s]", conflict.Dependents, tt.wantDependent)
			}
			if got := revisionOf(t, s, "acme"); got != before {
				t.Errorf("revision = %d, want unchanged %d", got, before)
			}
		})
	}
}

func TestListBindingPage(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			seedTenant(t, s, "acme")
			seedTenant(t, s, "other")

			var created []string
			for i := range 5 {
				binding, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(fmt.Sprintf(`{"greeting":"g%d"}`, i))})
				if err != nil {
					t.Fatalf("CreateBinding(%d) error = %v", i, err)
				}
				created = append(created, binding.ID)
			}
			foreign, err := s.CreateBinding(ctx, "other", config.Binding{Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"x"}`)})
			if err != nil {
				t.Fatalf("CreateBinding(other) error = %v", err)
			}

			tests := []struct {
				name string
				page Page
				want []string
				more bool
			}{
				{name: "all", want: created},
				{name: "first page", page: Page{Limit: 2}, want: created[:2], more: true},
				{name: "next page", page: Page{After: created[1], Limit: 2}, want: created[2:4], more: true},
				{name: "last page", page: Page{After: created[3], Limit: 2}, want: created[4:]},
				{name: "exact fit", page: Page{After: created[2], Limit: 2}, want: created[3:]},
				{name: "after the last", page: Page{After: created[4], Limit: 2}, want: []string{}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					bindings, more, err := s.ListBindingPage(ctx, "acme", tt.page, BindingFilter{})
					if err != nil {
						t.Fatalf("ListBindingPage error = %v", err)
					}
					ids := []string{}
					for _, binding := range bindings {
						ids = append(ids, binding.ID)
					}
					if got, want := fmt.Sprint(ids), fmt.Sprint(tt.want); got != want {
						t.Errorf("ids = %s, want %s", got, want)
					}
					if more != tt.more {
						t.Errorf("more = %v, want %v", more, tt.more)
					}
				})
			}

			for _, after := range []string{"bnd_missing", foreign.ID} {
				_, _, err := s.ListBindingPage(ctx, "acme", Page{After: after, Limit: 2}, BindingFilter{})
				var fieldErr *config.FieldError
				if !errors.As(err, &fieldErr) || fieldErr.Field != "after" || !strings.Contains(fieldErr.Message, after) {
					t.Errorf("ListBindingPage(after %q) error = %v, want a field error on after naming the id", after, err)
				}
			}
		})
	}
}

func TestListBindingPageFilter(t *testing.T) {
	for _, dialect := range dialects {
		t.Run(dialect.name, func(t *testing.T) {
			s := openDialect(t, dialect.open(t))
			ctx := context.Background()
			ids := seedFilteredBindings(t, s)

			tests := []struct {
				name   string
				page   Page
				filter BindingFilter
				want   []string
				more   bool
			}{
				{name: "plugin", filter: BindingFilter{Plugin: "hello"}, want: []string{ids["hello"], ids["hello all"], ids["hello alice"], ids["hello web"]}},
				{name: "other plugin", filter: BindingFilter{Plugin: "greet"}, want: []string{ids["greet all"], ids["greet alice"]}},
				{name: "plugin is exact", filter: BindingFilter{Plugin: "hell"}, want: []string{}},
				{name: "plugin with namespace", filter: BindingFilter{Plugin: "portcullis/greet"}, want: []string{ids["greet all"], ids["greet alice"]}},
				{name: "route", filter: BindingFilter{Route: "all"}, want: []string{ids["hello all"], ids["greet all"]}},
				{name: "consumer", filter: BindingFilter{Consumer: "alice"}, want: []string{ids["hello alice"], ids["greet alice"]}},
				{name: "route is exact", filter: BindingFilter{Route: "ALL"}, want: []string{}},
				{name: "plugin and route", filter: BindingFilter{Plugin: "greet", Route: "all"}, want: []string{ids["greet all"]}},
				{name: "first filtered page", page: Page{Limit: 2}, filter: BindingFilter{Plugin: "hello"}, want: []string{ids["hello"], ids["hello all"]}, more: true},
				{name: "second filtered page", page: Page{After: ids["hello all"], Limit: 2}, filter: BindingFilter{Plugin: "hello"}, want: []string{ids["hello alice"], ids["hello web"]}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					bindings, more, err := s.ListBindingPage(ctx, "acme", tt.page, tt.filter)
					if err != nil {
						t.Fatalf("ListBindingPage error = %v", err)
					}
					got := []string{}
					for _, binding := range bindings {
						got = append(got, binding.ID)
					}
					if fmt.Sprint(got) != fmt.Sprint(tt.want) {
						t.Errorf("ids = %v, want %v", got, tt.want)
					}
					if more != tt.more {
						t.Errorf("more = %v, want %v", more, tt.more)
					}
				})
			}
		})
	}
}

// seedFilteredBindings creates the tenant "acme" with bindings of the
// plugins "hello" and "greet" on the routes "all" and "web" and the
// consumer "alice". It returns their ids keyed by plugin and target.
func seedFilteredBindings(t *testing.T, s *Store) map[string]string {
	t.Helper()
	ctx := context.Background()

	seedTenant(t, s, "acme")
	if _, err := s.CreateRoute(ctx, "acme", config.Route{Name: "web", Paths: []string{"/web"}, Upstream: "backend"}); err != nil {
		t.Fatalf("CreateRoute(web) error = %v", err)
	}
	if _, err := s.CreateConsumer(ctx, "acme", config.Consumer{Name: "alice"}); err != nil {
		t.Fatalf("CreateConsumer(alice) error = %v", err)
	}
	greet := NewPluginVersion{Name: "greet", Version: "1.0.0", Source: "// greet\n", ConfigSchema: json.RawMessage(helloSchema)}
	if _, err := s.PublishPlugin(ctx, greet); err != nil {
		t.Fatalf("PublishPlugin(greet) error = %v", err)
	}

	bindings := []struct {
		key     string
		binding config.Binding
	}{
		{"hello", config.Binding{Plugin: "hello"}},
		{"hello all", config.Binding{Plugin: "hello", Route: "all"}},
		{"greet all", config.Binding{Plugin: "greet", Route: "all"}},
		{"hello alice", config.Binding{Plugin: "hello", Consumer: "alice"}},
		{"greet alice", config.Binding{Plugin: "greet", Consumer: "alice"}},
		{"hello web", config.Binding{Plugin: "hello", Route: "web"}},
	}
	ids := make(map[string]string, len(bindings))
	for _, tt := range bindings {
		tt.binding.Version = "1.0.0"
		tt.binding.Config = json.RawMessage(`{"greeting":"hi"}`)
		created, err := s.CreateBinding(ctx, "acme", tt.binding)
		if err != nil {
			t.Fatalf("CreateBinding(%s) error = %v", tt.key, err)
		}
		ids[tt.key] = created.ID
	}
	return ids
}
