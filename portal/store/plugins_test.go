package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

func TestPublishCompileErrorCarriesLine(t *testing.T) {
	s := openTestStore(t)

	_, err := s.PublishPlugin(context.Background(), NewPluginVersion{
		Name:    "broken",
		Version: "1.0.0",
		Source:  "let a = 1\nlet b = 2\n  syntax error here\n",
	})

	var compileErr *CompileError
	if !errors.As(err, &compileErr) {
		t.Fatalf("PublishPlugin() error = %v, want a *CompileError", err)
	}
	if compileErr.Line != 3 {
		t.Errorf("Line = %d, want 3", compileErr.Line)
	}
	if compileErr.Column != 3 {
		t.Errorf("Column = %d, want 3", compileErr.Column)
	}

	plugins, err := s.ListPlugins(context.Background())
	if err != nil {
		t.Fatalf("ListPlugins() error = %v", err)
	}
	if len(plugins) != 0 {
		t.Errorf("ListPlugins() = %v, want none after a failed publish", plugins)
	}
}

func TestPublishOtherCompilerErrorIsFieldError(t *testing.T) {
	path := t.TempDir() + "/portal.db"
	s, err := Open(context.Background(), path, Options{Compiler: func(string, string, string) error {
		return errors.New("resource limit exceeded")
	}})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer s.Close()

	_, err = s.PublishPlugin(context.Background(), NewPluginVersion{Name: "p", Version: "1.0.0", Source: "x"})

	var fieldErr *config.FieldError
	if !errors.As(err, &fieldErr) || fieldErr.Field != "source" {
		t.Fatalf("PublishPlugin() error = %v, want a field error on source", err)
	}
	if !strings.Contains(fieldErr.Message, "resource limit exceeded") {
		t.Errorf("message = %q, want the compiler's message", fieldErr.Message)
	}
}

func TestPublishUnavailableCheckPassesThrough(t *testing.T) {
	busy := &UnavailableError{Err: errors.New("no check worker came free")}
	tests := []struct {
		name    string
		options Options
		vectors json.RawMessage
	}{
		{"compile", Options{Compiler: func(string, string, string) error { return busy }}, nil},
		{"vectors", Options{
			Compiler: func(string, string, string) error { return nil },
			Tester: func(context.Context, string, string, string, json.RawMessage) error {
				return fmt.Errorf("check plugin: %w", busy)
			},
		}, json.RawMessage(`[{"name":"v","request":{"path":"/"},"expect":{"status":200}}]`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), t.TempDir()+"/portal.db", tt.options)
			if err != nil {
				t.Fatalf("Open() error = %v", err)
			}
			defer s.Close()

			_, err = s.PublishPlugin(context.Background(), NewPluginVersion{Name: "p", Version: "1.0.0", Source: "x", TestVectors: tt.vectors})

			var unavailable *UnavailableError
			if !errors.As(err, &unavailable) {
				t.Errorf("PublishPlugin() error = %v, want an *UnavailableError", err)
			}
			var fieldErr *config.FieldError
			if errors.As(err, &fieldErr) {
				t.Errorf("PublishPlugin() error = %v, want no field error for a check that did not run", err)
			}
			if plugins, _ := s.ListPlugins(context.Background()); len(plugins) != 0 {
				t.Errorf("ListPlugins() = %v, want none after a check that did not run", plugins)
			}
		})
	}
}

func TestPublishRejectsInvalidInput(t *testing.T) {
	s := openTestStore(t)

	tests := []struct {
		name      string
		input     NewPluginVersion
		wantField string
	}{
		{"bad name", NewPluginVersion{Name: "-x", Version: "1.0.0", Source: "x"}, "name"},
		{"bad version", NewPluginVersion{Name: "p", Version: "1.0", Source: "x"}, "version"},
		{"long version", NewPluginVersion{Name: "p", Version: "1.0.0-" + strings.Repeat("a", 200), Source: "x"}, "version"},
		{"empty source", NewPluginVersion{Name: "p", Version: "1.0.0"}, "source"},
		{"huge source", NewPluginVersion{Name: "p", Version: "1.0.0", Source: strings.Repeat("x", MaxSourceLength+1)}, "source"},
		{"schema not JSON", NewPluginVersion{Name: "p", Version: "1.0.0", Source: "x", ConfigSchema: json.RawMessage(`{`)}, "config_schema"},
		{"schema with bad type", NewPluginVersion{Name: "p", Version: "1.0.0", Source: "x", ConfigSchema: json.RawMessage(`{"type":"objekt"}`)}, "config_schema.type"},
		{"schema with remote ref", NewPluginVersion{Name: "p", Version: "1.0.0", Source: "x", ConfigSchema: json.RawMessage(`{"$ref":"https://example.com/s.json"}`)}, "config_schema"},
		{"schema with file ref", NewPluginVersion{Name: "p", Version: "1.0.0", Source: "x", ConfigSchema: json.RawMessage(`{"$ref":"file:///etc/passwd"}`)}, "config_schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.PublishPlugin(context.Background(), tt.input)

			var fieldErr *config.FieldError
			if !errors.As(err, &fieldErr) {
				t.Fatalf("PublishPlugin() error = %v, want a *config.FieldError", err)
			}
			if fieldErr.Field != tt.wantField {
				t.Errorf("field = %q, want %q (message %q)", fieldErr.Field, tt.wantField, fieldErr.Message)
			}
		})
	}
}

func TestPublishSameVersionConflicts(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	input := NewPluginVersion{Name: "hello", Version: "1.0.0", Source: "one"}

	first, err := s.PublishPlugin(ctx, input)
	if err != nil {
		t.Fatalf("first PublishPlugin() error = %v", err)
	}
	if string(first.ConfigSchema) != DefaultConfigSchema {
		t.Errorf("ConfigSchema = %s, want default %s", first.ConfigSchema, DefaultConfigSchema)
	}
	if first.SHA256 != bundle.SourceHash("one") {
		t.Errorf("SHA256 = %s, want %s", first.SHA256, bundle.SourceHash("one"))
	}

	input.Source = "two"
	_, err = s.PublishPlugin(ctx, input)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("second PublishPlugin() error = %v, want ErrConflict", err)
	}

	// The conflict comes before the source checks, so a version that
	// exists is reported first even when its new source does not compile.
	input.Source = "syntax error"
	_, err = s.PublishPlugin(ctx, input)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("PublishPlugin(existing version, bad source) error = %v, want ErrConflict", err)
	}

	stored, err := s.GetPluginVersion(ctx, "hello", "1.0.0")
	if err != nil {
		t.Fatalf("GetPluginVersion() error = %v", err)
	}
	if stored.Source != "one" {
		t.Errorf("stored source = %q, want the first %q", stored.Source, "one")
	}
}

func TestListAndGetPlugins(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	for _, input := range []NewPluginVersion{
		{Name: "zeta", Version: "1.0.0", Source: "z"},
		{Name: "alpha", Version: "2.0.0", Source: "a2"},
		{Name: "alpha", Version: "1.0.0", Source: "a1"},
	} {
		if _, err := s.PublishPlugin(ctx, input); err != nil {
			t.Fatalf("PublishPlugin(%s@%s) error = %v", input.Name, input.Version, err)
		}
	}

	plugins, err := s.ListPlugins(ctx)
	if err != nil {
		t.Fatalf("ListPlugins() error = %v", err)
	}
	got, _ := json.Marshal(plugins)
	want := `[{"name":"alpha","versions":["2.0.0","1.0.0"]},{"name":"zeta","versions":["1.0.0"]}]`
	if string(got) != want {
		t.Errorf("ListPlugins() = %s, want %s", got, want)
	}

	plugin, err := s.GetPlugin(ctx, "alpha")
	if err != nil {
		t.Fatalf("GetPlugin() error = %v", err)
	}
	if len(plugin.Versions) != 2 || plugin.Versions[0].Version != "2.0.0" || plugin.Versions[0].SHA256 != bundle.SourceHash("a2") {
		t.Errorf("GetPlugin(alpha) = %+v, want versions 2.0.0 then 1.0.0 with hashes", plugin)
	}

	if _, err := s.GetPlugin(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetPlugin(missing) error = %v, want ErrNotFound", err)
	}
}

func TestDeletePluginVersionInUseConflicts(t *testing.T) {
	s := openTestStore(t)
	seedTenant(t, s, "acme")
	ctx := context.Background()
	created, err := s.CreateBinding(ctx, "acme", config.Binding{Plugin: "hello", Version: "1.0.0", Config: json.RawMessage(`{"greeting":"hi"}`)})
	if err != nil {
		t.Fatalf("CreateBinding() error = %v", err)
	}

	err = s.DeletePluginVersion(ctx, "hello", "1.0.0")

	var conflict *ConflictError
	if !errors.As(err, &conflict) {
		t.Fatalf("DeletePluginVersion(in use) error = %v, want a *ConflictError", err)
	}
	if len(conflict.Dependents) != 1 || !strings.Contains(conflict.Dependents[0], created.ID) {
		t.Errorf("Dependents = %v, want the binding %s", conflict.Dependents, created.ID)
	}

	if err := s.DeletePluginVersion(ctx, "hello", "1.1.0"); err != nil {
		t.Errorf("DeletePluginVersion(unused) error = %v", err)
	}
	if err := s.DeletePluginVersion(ctx, "hello", "1.1.0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeletePluginVersion(deleted) error = %v, want ErrNotFound", err)
	}
}
