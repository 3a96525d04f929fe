package pluginhost

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestSandboxUndefinedNames checks that Risor's default modules and the
// builtins of its modules are not defined for plugins.
func TestSandboxUndefinedNames(t *testing.T) {
	tests := []struct {
		name string
		expr string
	}{
		{"os module", `os.getenv("HOME")`},
		{"exec module", `exec.command("id")`},
		{"http module", `http.get("http://127.0.0.1:1")`},
		{"fmt module", `fmt.println("x")`},
		{"print builtin", `print("x")`},
		{"fetch builtin", `fetch("http://127.0.0.1:1")`},
		{"open builtin", `open("/etc/passwd")`},
		{"chan builtin", `chan(1)`},
		{"spawn builtin", `spawn(len, [1])`},
		{"make builtin", `make(list, 10)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := "func access(ctx, conf) {\n  " + tt.expr + "\n}"

			_, err := Compile("test", "1.0.0", source)

			var cerr *CompileError
			if !errors.As(err, &cerr) {
				t.Fatalf("Compile() error = %v, want *CompileError", err)
			}
			if !strings.Contains(cerr.Message, "undefined variable") {
				t.Errorf("Message = %q, want an undefined variable error", cerr.Message)
			}
		})
	}
}

// TestSandboxKeywordsRejectedAtCompile checks that go and import
// statements inside a hook fail at Compile, with their position.
func TestSandboxKeywordsRejectedAtCompile(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantColumn  int
		wantMessage string
	}{
		{"import statement", "import os", 3, "an import is not allowed"},
		{"from import", "from os import getenv", 3, "an import is not allowed"},
		{"go statement", "go func() {}()", 3, "a go statement is not allowed"},
		{"go after code", "x := 1; go func() { x = 2 }()", 11, "a go statement is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := "func access(ctx, conf) {\n  " + tt.body + "\n}"
			_, err := Compile("keywords", "1.0.0", source)

			var cerr *CompileError
			if !errors.As(err, &cerr) {
				t.Fatalf("Compile() error = %v (%T), want *CompileError", err, err)
			}
			if cerr.Line != 2 {
				t.Errorf("Line = %d, want 2", cerr.Line)
			}
			if cerr.Column != tt.wantColumn {
				t.Errorf("Column = %d, want %d", cerr.Column, tt.wantColumn)
			}
			if !strings.Contains(cerr.Message, tt.wantMessage) {
				t.Errorf("Message = %q, want it to contain %q", cerr.Message, tt.wantMessage)
			}
		})
	}
}

// TestSandboxBlockedAtRun checks the ways to reach more than the allow-list
// that compile but must fail when the hook runs.
func TestSandboxBlockedAtRun(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"builtin spawn attribute", "len.spawn([1])", `attribute "spawn" not found`},
		{"json namespace is not Risor's module", "json.marshal({})", `attribute "marshal" not found`},
		{"function spawn attribute", "func f() {}\n  f.spawn()", "did not contain a spawn function"},
		{"list with count", "list(1000000000)", "list(n) is not available to plugins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := "func access(ctx, conf) {\n  " + tt.body + "\n}"
			instance := mustBind(t, source, "")

			err := instance.Run(context.Background(), PhaseAccess, newExchange())

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Run() error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// TestSandboxBuiltinsHaveNoModule checks, from inside a script, that no
// global leads back to a Risor module through __module__.
func TestSandboxBuiltinsHaveNoModule(t *testing.T) {
	var checks []string
	for _, name := range allowedBuiltins {
		checks = append(checks, "  if getattr("+name+", \"__module__\", nil) != nil { error(\""+name+" has a module\") }")
	}
	for name := range stdlibNamespaces() {
		checks = append(checks, "  if getattr("+name+", \"__module__\", nil) != nil { error(\""+name+" has a module\") }")
	}
	source := "func access(ctx, conf) {\n" + strings.Join(checks, "\n") + "\n}"
	instance := mustBind(t, source, "")

	mustRun(t, instance, PhaseAccess, newExchange())
}

// TestSandboxGlobals checks that the globals are exactly the allow-list and
// the stdlib namespaces, and that each one is a host wrapper without
// __module__.
func TestSandboxGlobals(t *testing.T) {
	globals := sandboxGlobals()

	var names []string
	for name, value := range globals {
		names = append(names, name)

		switch value := value.(type) {
		case *funcObject:
			if module, found := value.GetAttr("__module__"); found {
				t.Errorf("global %q has __module__ %s, want none", name, module.Inspect())
			}
		case *namespace:
			if module, found := value.GetAttr("__module__"); found {
				t.Errorf("global %q has __module__ %s, want none", name, module.Inspect())
			}
		default:
			t.Errorf("global %q is a %T, want *funcObject or *namespace", name, value)
		}
	}

	slices.Sort(names)
	want := slices.Sorted(slices.Values(append(slices.Clone(allowedBuiltins), "base64", "crypto", "json", "time")))
	if !slices.Equal(names, want) {
		t.Errorf("globals = %q, want %q", names, want)
	}
}

func TestSandboxBuiltinsWork(t *testing.T) {
	instance := mustBind(t, `
func access(ctx, conf) {
  parts := sorted(keys({"b": 1, "a": 2}))
  total := int("4") + len(parts)
  decoded := string(decode("dXNlcjpwYXNz", "base64"))
  fallback := try(func() { error("no") }, "recovered")
  ctx.req.set_header("X-Result", sprintf("%s %d %s %s", parts, total, decoded, fallback))
}`, "")
	ex := newExchange()

	mustRun(t, instance, PhaseAccess, ex)

	want := "[a b] 6 user:pass recovered"
	if got := ex.Request.Header.Get("X-Result"); got != want {
		t.Errorf("X-Result = %q, want %q", got, want)
	}
}
