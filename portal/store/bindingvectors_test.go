package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/tenants/config"
)

// showSource sets X-Show unless the config turns it off, and its vector
// marked binding_config expects the header under every binding's config.
const (
	showSource  = "func header_filter(ctx, conf) {\n    if conf[\"show\"] != false {\n        ctx.resp.set_header(\"X-Show\", \"1\")\n    }\n}\n"
	showSchema  = `{"type":"object","properties":{"show":{"type":"boolean"}},"additionalProperties":false}`
	showVectors = `[{"name":"always shows the header","binding_config":true,"request":{},"expect":{"headers":{"present":["X-Show"]}}}]`
)

// countingTester returns a BindingTester that runs vectors with pluginpkg,
// as the all-in-one server does, and counts its runs.
func countingTester(runs *atomic.Int64) BindingTester {
	return func(ctx context.Context, name, version, source string, vectors, config json.RawMessage) error {
		runs.Add(1)
		err := pluginpkg.TestSource(ctx, name, version, source, vectors, pluginpkg.RunOptions{BindingConfig: config})
		var vectorErr *pluginpkg.VectorError
		if errors.As(err, &vectorErr) {
			return &VectorError{Vector: vectorErr.Vector, Differences: vectorErr.Differences}
		}
		return err
	}
}

// openVectorStore returns a store whose BindingTester is a countingTester.
func openVectorStore(t *testing.T, runs *atomic.Int64) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portal.db")
	s, err := Open(context.Background(), path, Options{Compiler: fakeCompile, BindingTester: countingTester(runs)})
	if err != nil {
		t.Fatalf("Open(%q) error = %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })

	seedTenant(t, s, "acme")
	_, err = s.PublishPlugin(context.Background(), NewPluginVersion{
		Name: "show", Version: "1.0.0", Source: showSource,
		ConfigSchema: json.RawMessage(showSchema), TestVectors: json.RawMessage(showVectors),
	})
	if err != nil {
		t.Fatalf("PublishPlugin(show) error = %v", err)
	}
	return s
}

func TestBindingConfigFailingVectorsRejected(t *testing.T) {
	var runs atomic.Int64
	s := openVectorStore(t, &runs)
	ctx := context.Background()
	before := revisionOf(t, s, "acme")

	_, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "show", Version: "1.0.0", Config: json.RawMessage(`{"show":false}`)})
	var fieldErr *config.FieldError
	if !errors.As(err, &fieldErr) || fieldErr.Field != "config" {
		t.Fatalf("CreateBinding(show false) error = %v, want a field error on config", err)
	}
	if !strings.Contains(fieldErr.Message, `"always shows the header"`) {
		t.Errorf("error message = %q, want the failing vector's name", fieldErr.Message)
	}
	if got := revisionOf(t, s, "acme"); got != before {
		t.Errorf("revision = %d after a rejected binding, want %d", got, before)
	}

	created, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "show", Version: "1.0.0", Config: json.RawMessage(`{"show":true}`)})
	if err != nil {
		t.Fatalf("CreateBinding(show true) error = %v", err)
	}
	if _, err := s.UpdateBinding(ctx, "acme", created.ID, BindingPatch{Config: json.RawMessage(`{"show":false}`)}); !errors.As(err, &fieldErr) {
		t.Fatalf("UpdateBinding(show false) error = %v, want a field error on config", err)
	}
	stored, err := s.GetBinding(ctx, "acme", created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(stored.Config) != `{"show":true}` {
		t.Errorf("stored config = %s after a rejected update, want {\"show\":true}", stored.Config)
	}
}

func TestBindingVectorsUnavailablePassesThrough(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	busy := func(context.Context, string, string, string, json.RawMessage, json.RawMessage) error {
		return &UnavailableError{Err: errors.New("no check worker came free")}
	}
	s, err := Open(context.Background(), path, Options{Compiler: fakeCompile, BindingTester: busy})
	if err != nil {
		t.Fatalf("Open(%q) error = %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	seedTenant(t, s, "acme")
	_, err = s.PublishPlugin(context.Background(), NewPluginVersion{
		Name: "show", Version: "1.0.0", Source: showSource,
		ConfigSchema: json.RawMessage(showSchema), TestVectors: json.RawMessage(showVectors),
	})
	if err != nil {
		t.Fatalf("PublishPlugin(show) error = %v", err)
	}
	before := revisionOf(t, s, "acme")

	_, err = s.CreateBinding(context.Background(), "acme", config.Binding{Plugin: "show", Version: "1.0.0", Config: json.RawMessage(`{"show":true}`)})
	var unavailable *UnavailableError
	if !errors.As(err, &unavailable) {
		t.Errorf("CreateBinding() error = %v, want an *UnavailableError", err)
	}
	var fieldErr *config.FieldError
	if errors.As(err, &fieldErr) {
		t.Errorf("CreateBinding() error = %v, want no field error on config for vectors that did not run", err)
	}
	if got := revisionOf(t, s, "acme"); got != before {
		t.Errorf("revision = %d after vectors that did not run, want %d", got, before)
	}
}

func TestBindingVectorsSkippedWhenConfigKept(t *testing.T) {
	var runs atomic.Int64
	s := openVectorStore(t, &runs)
	ctx := context.Background()

	created, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "show", Version: "1.0.0", Config: json.RawMessage(`{"show":true}`)})
	if err != nil {
		t.Fatalf("CreateBinding() error = %v", err)
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("vector runs after create = %d, want 1", got)
	}

	priority := 5
	if _, err := s.UpdateBinding(ctx, "acme", created.ID, BindingPatch{Priority: &priority}); err != nil {
		t.Fatalf("UpdateBinding(priority) error = %v", err)
	}
	if got := runs.Load(); got != 1 {
		t.Errorf("vector runs after a priority change = %d, want still 1", got)
	}
}
