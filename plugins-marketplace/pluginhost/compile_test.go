package pluginhost

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/risor-io/risor/compiler"
	"github.com/risor-io/risor/parser"
)

func TestCompileErrorPosition(t *testing.T) {
	tests := []struct {
		name        string
		source      string
		wantLine    int
		wantColumn  int
		wantMessage string
	}{
		{
			name:        "parse error",
			source:      "func access(ctx, conf) {\n  x := 1\n  y +* 2\n}",
			wantLine:    3,
			wantColumn:  6,
			wantMessage: `unexpected "*"`,
		},
		{
			name:        "unclosed parenthesis",
			source:      "func access(ctx, conf) {\n  x := (1\n}",
			wantLine:    2,
			wantColumn:  10,
			wantMessage: "expected )",
		},
		{
			name:        "go statement in a hook",
			source:      "func access(ctx, conf) {\n  x := 1\n  go func() { x = 2 }()\n}",
			wantLine:    3,
			wantColumn:  3,
			wantMessage: "a go statement is not allowed",
		},
		{
			name:        "undefined variable",
			source:      "func access(ctx, conf) {\n  return missing_name\n}",
			wantLine:    2,
			wantColumn:  10,
			wantMessage: `undefined variable "missing_name"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile("test", "1.0.0", tt.source)

			var cerr *CompileError
			if !errors.As(err, &cerr) {
				t.Fatalf("Compile() error = %v (%T), want *CompileError", err, err)
			}
			if cerr.Line != tt.wantLine {
				t.Errorf("Line = %d, want %d (error %q)", cerr.Line, tt.wantLine, cerr)
			}
			if cerr.Column != tt.wantColumn {
				t.Errorf("Column = %d, want %d (error %q)", cerr.Column, tt.wantColumn, cerr)
			}
			if !strings.Contains(cerr.Message, tt.wantMessage) {
				t.Errorf("Message = %q, want it to contain %q", cerr.Message, tt.wantMessage)
			}
		})
	}
}

func TestCompileErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  *CompileError
		want string
	}{
		{"with position", &CompileError{Line: 3, Column: 5, Message: "unexpected token"}, "line 3, column 5: unexpected token"},
		{"without position", &CompileError{Message: "too many constants"}, "too many constants"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCompileRejectsSource(t *testing.T) {
	tests := []struct {
		name    string
		source  string
		wantErr string
	}{
		{"no phase functions", "func helper(x) { return x }", "defines none of the phase functions"},
		{"empty source", "", "defines none of the phase functions"},
		{"phase bound to string", `access := "yes"`, `"access" must be a function taking (ctx, conf), but it is a string`},
		{"phase bound to nil", "rewrite := nil\nfunc access(ctx, conf) {}", `"rewrite" must be a function`},
		{"too few parameters", "func access(ctx) {}", `function "access" has 1 parameter(s), want 2: declare it as access(ctx, conf)`},
		{"too many required parameters", "func access(ctx, conf, extra) {}", `function "access" has 3 parameter(s), want 2`},
		{"top-level error", "func access(ctx, conf) {}\nbroken := 1 / 0", "run top-level code: runtime error: integer divide by zero"},
		{"top-level import", "import strings\nfunc access(ctx, conf) {}", "line 1, column 1: an import is not allowed at top level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Compile("test", "1.0.0", tt.source)
			if err == nil {
				t.Fatalf("Compile() = %v, want error containing %q", p, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Compile() error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestCompileAcceptsOptionalParameter(t *testing.T) {
	p := mustCompile(t, "func access(ctx, conf, extra=1) {}")

	if !p.Has(PhaseAccess) {
		t.Errorf("Has(%q) = false, want true", PhaseAccess)
	}
}

// TestCompileAcceptsWordGo checks that the go statement check looks at
// keywords only, not at strings, comments or longer names.
func TestCompileAcceptsWordGo(t *testing.T) {
	source := "// go on\nfunc access(ctx, conf) {\n  gopher := \"go\"\n  ctx.req.set_header(\"X-Go\", gopher + \" go\")\n}"
	if _, err := Compile("test", "1.0.0", source); err != nil {
		t.Fatalf("Compile() error = %v, want none", err)
	}
}

func TestCompileEmptyName(t *testing.T) {
	_, err := Compile("", "1.0.0", "func access(ctx, conf) {}")

	if err == nil || !strings.Contains(err.Error(), "name is empty") {
		t.Errorf("Compile() error = %v, want an error about the empty name", err)
	}
}

func TestCompileTopLevelLoopTimesOut(t *testing.T) {
	// checkTopLevel rejects a top-level loop, so the source bypasses it to
	// reach the deadline that each new VM's run of the top level has.
	program, err := parser.Parse(context.Background(), "func access(ctx, conf) {}\nfor { }")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	code, err := compiler.Compile(program, sandboxCompilerOptions()...)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	plugin := &Plugin{name: "test", version: "1.0.0", code: code}

	start := time.Now()
	_, err = newPreparedVM(context.Background(), plugin)
	elapsed := time.Since(start)

	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("newPreparedVM() error = %v, want a deadline error", err)
	}
	if err != nil && !strings.Contains(err.Error(), "it ran longer than 1s") {
		t.Errorf("newPreparedVM() error = %v, want it to name the limit of 1s", err)
	}
	if elapsed > mainRunTimeout+2*time.Second {
		t.Errorf("newPreparedVM() took %v, want about %v", elapsed, mainRunTimeout)
	}
}

func TestPluginAccessors(t *testing.T) {
	p, err := Compile("auth", "2.1.0", "func rewrite(ctx, conf) {}\nfunc header_filter(ctx, conf) {}")
	if err != nil {
		t.Fatalf("Compile() error = %v", err)
	}

	if got := p.Name(); got != "auth" {
		t.Errorf("Name() = %q, want %q", got, "auth")
	}
	if got := p.Version(); got != "2.1.0" {
		t.Errorf("Version() = %q, want %q", got, "2.1.0")
	}
	wantHas := map[Phase]bool{PhaseRewrite: true, PhaseAccess: false, PhaseHeaderFilter: true, "body_filter": false}
	for phase, want := range wantHas {
		if got := p.Has(phase); got != want {
			t.Errorf("Has(%q) = %v, want %v", phase, got, want)
		}
	}
}
