package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// fakeCompile rejects source that contains "syntax error", reporting the
// line of the first such occurrence.
func fakeCompile(name, version, source string) error {
	for i, line := range strings.Split(source, "\n") {
		if column := strings.Index(line, "syntax error"); column >= 0 {
			return &CompileError{Line: i + 1, Column: column + 1, Message: "unexpected token"}
		}
	}
	return nil
}

func openTestStore(t *testing.T) *Store {
	t.Helper()

	path := filepath.Join(t.TempDir(), "portal.db")
	s, err := Open(context.Background(), path, Options{Compiler: fakeCompile})
	if err != nil {
		t.Fatalf("Open(%q) error = %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() error = %v", err)
		}
	})
	return s
}

// seedTenant creates a tenant with an upstream, a route and the plugin
// "hello" at 1.0.0 and 1.1.0, whose schema requires a string "greeting".
func seedTenant(t *testing.T, s *Store, slug string) {
	t.Helper()
	ctx := context.Background()

	if _, err := s.CreateTenant(ctx, config.Tenant{Slug: slug, Name: "Tenant " + slug}); err != nil {
		t.Fatalf("CreateTenant(%q) error = %v", slug, err)
	}
	upstream := config.Upstream{Name: "backend", Targets: []config.Target{{URL: "http://127.0.0.1:9999", Weight: 1}}}
	if _, err := s.CreateUpstream(ctx, slug, upstream); err != nil {
		t.Fatalf("CreateUpstream() error = %v", err)
	}
	route := config.Route{Name: "all", Paths: []string{"/"}, Upstream: "backend"}
	if _, err := s.CreateRoute(ctx, slug, route); err != nil {
		t.Fatalf("CreateRoute() error = %v", err)
	}

	for _, version := range []string{"1.0.0", "1.1.0"} {
		publishHello(t, s, version)
	}
}

const helloSchema = `{"type":"object","properties":{"greeting":{"type":"string"},"tags":{"type":"array","items":{"type":"string"}}},"required":["greeting"],"additionalProperties":false}`

func publishHello(t *testing.T, s *Store, version string) {
	t.Helper()

	_, err := s.PublishPlugin(context.Background(), NewPluginVersion{
		Name:         "hello",
		Version:      version,
		Source:       "// hello " + version + "\nrequest.headers.set(\"X-Hello\", config.greeting)\n",
		ConfigSchema: json.RawMessage(helloSchema),
	})
	if err != nil && !errors.Is(err, ErrConflict) {
		t.Fatalf("PublishPlugin(hello@%s) error = %v", version, err)
	}
}

func revisionOf(t *testing.T, s *Store, slug string) int64 {
	t.Helper()

	tenant, err := s.GetTenant(context.Background(), slug)
	if err != nil {
		t.Fatalf("GetTenant(%q) error = %v", slug, err)
	}
	return tenant.Revision
}

func TestOpenEnablesPragmas(t *testing.T) {
	s := openTestStore(t)

	pools := []struct {
		name string
		pool *gorm.DB
	}{
		{name: "writer", pool: s.writer},
		{name: "reader", pool: s.reader},
	}
	for _, tt := range pools {
		name, pool := tt.name, tt.pool

		var foreignKeys int
		if err := pool.Raw("PRAGMA foreign_keys").Scan(&foreignKeys).Error; err != nil {
			t.Fatalf("%s: PRAGMA foreign_keys error = %v", name, err)
		}
		if foreignKeys != 1 {
			t.Errorf("%s: foreign_keys = %d, want 1", name, foreignKeys)
		}

		var journal string
		if err := pool.Raw("PRAGMA journal_mode").Scan(&journal).Error; err != nil {
			t.Fatalf("%s: PRAGMA journal_mode error = %v", name, err)
		}
		if journal != "wal" {
			t.Errorf("%s: journal_mode = %q, want \"wal\"", name, journal)
		}
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		path string
		opts Options
	}{
		{name: "missing compiler", path: filepath.Join(t.TempDir(), "a.db"), opts: Options{}},
		{name: "memory database", path: ":memory:", opts: Options{Compiler: fakeCompile}},
		{name: "empty path", path: "", opts: Options{Compiler: fakeCompile}},
		{name: "query in path", path: "a.db?mode=ro", opts: Options{Compiler: fakeCompile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.path, tt.opts)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) error = nil, want an error", tt.path)
			}
		})
	}
}

func TestForeignKeysRestrictDelete(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")

	err := s.writer.Exec("DELETE FROM upstreams").Error
	if err == nil {
		t.Fatal("deleting an upstream that a route uses succeeded, want a foreign key error")
	}
}

func TestNotFoundErrorMatchesTenantNotFound(t *testing.T) {
	s := openTestStore(t)

	_, err := s.Bundle(context.Background(), "nobody")
	if !errors.Is(err, bundle.ErrTenantNotFound) {
		t.Errorf("Bundle(unknown) error = %v, want it to wrap bundle.ErrTenantNotFound", err)
	}
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Bundle(unknown) error = %v, want it to wrap ErrNotFound", err)
	}

	_, err = s.GetRoute(context.Background(), "nobody", "all")
	if !errors.Is(err, bundle.ErrTenantNotFound) {
		t.Errorf("GetRoute(unknown tenant) error = %v, want bundle.ErrTenantNotFound", err)
	}
}
