package chain

import (
	"strings"
	"sync"
	"testing"

	"portcullis.dev/tenants/bundle"
)

func code(name, version, source string) bundle.PluginCode {
	return bundle.PluginCode{Name: name, Version: version, Source: source, SHA256: bundle.SourceHash(source)}
}

const markSource = `func rewrite(ctx, conf) { ctx.req.set_header("X-Mark", "1") }`

func TestCompilerCachesByHash(t *testing.T) {
	compiler := NewCompiler(0)

	first, err := compiler.Compile(code("mark", "1.0.0", markSource))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	second, err := compiler.Compile(code("mark", "1.0.0", markSource))
	if err != nil {
		t.Fatalf("Compile again: %v", err)
	}
	if first != second {
		t.Error("second Compile returned a new plugin, want the cached one")
	}

	changed := markSource + "\n"
	if _, err := compiler.Compile(code("mark", "1.0.0", changed)); err != nil {
		t.Fatalf("Compile changed source: %v", err)
	}
	if got := compiler.Compiles(); got != 2 {
		t.Errorf("Compiles = %d, want 2: one per source hash", got)
	}
}

func TestCompilerConcurrentCallsShareCompile(t *testing.T) {
	compiler := NewCompiler(0)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := compiler.Compile(code("mark", "1.0.0", markSource)); err != nil {
				t.Errorf("Compile: %v", err)
			}
		})
	}
	wg.Wait()

	if got := compiler.Compiles(); got != 1 {
		t.Errorf("Compiles = %d, want 1", got)
	}
}

func TestCompilerRejects(t *testing.T) {
	tampered := code("mark", "1.0.0", markSource)
	tampered.Source += "\n// changed after hashing"

	tests := []struct {
		name     string
		code     bundle.PluginCode
		wantText string
	}{
		{name: "hash mismatch", code: tampered, wantText: "does not match"},
		{name: "syntax error", code: code("bad", "1.0.0", `func rewrite(ctx, conf) {`), wantText: `compile plugin "bad" version "1.0.0"`},
		{name: "no phase", code: code("empty", "1.0.0", `x := 1`), wantText: `compile plugin "empty" version "1.0.0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewCompiler(0).Compile(tt.code)
			if err == nil {
				t.Fatal("Compile returned no error")
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q lacks %q", err, tt.wantText)
			}
		})
	}
}

func TestCompilerForgetsFailures(t *testing.T) {
	compiler := NewCompiler(0)
	broken := code("bad", "1.0.0", `func rewrite(ctx, conf) {`)

	for range 2 {
		if _, err := compiler.Compile(broken); err == nil {
			t.Fatal("Compile returned no error")
		}
	}
	if got := compiler.Compiles(); got != 2 {
		t.Errorf("Compiles = %d, want 2 because failures are not kept", got)
	}
}

func TestCompilerEvictsLeastRecent(t *testing.T) {
	compiler := NewCompiler(2)
	a := code("a", "1.0.0", markSource)
	b := code("b", "1.0.0", markSource)
	c := code("c", "1.0.0", markSource)

	for _, next := range []bundle.PluginCode{a, b, a, c, a, b} {
		if _, err := compiler.Compile(next); err != nil {
			t.Fatalf("Compile %s: %v", next.Name, err)
		}
	}

	// a, b, c compile once each; c evicts b, the least recently used, so
	// the last b compiles again. a stays cached throughout.
	if got := compiler.Compiles(); got != 4 {
		t.Errorf("Compiles = %d, want 4", got)
	}
}
