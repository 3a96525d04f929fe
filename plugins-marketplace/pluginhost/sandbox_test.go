package pluginhost

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/risor-io/risor/object"
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
		{"json module", `json.marshal({})`},
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

// TestSandboxBlockedAtRun checks the ways to reach more than the allow-list
// that compile but must fail when the hook runs.
func TestSandboxBlockedAtRun(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"import statement", "import os", "imports are disabled"},
		{"from import", "from os import getenv", "imports are disabled"},
		{"builtin spawn attribute", "len.spawn([1])", "did not contain a spawn function"},
		{"function spawn attribute", "func f() {}\n  f.spawn()", "did not contain a spawn function"},
		{"go statement", "go func() {}()", "did not contain a spawn function"},
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
		checks = append(checks, "  if "+name+".__module__ != nil { error(\""+name+" has a module\") }")
	}
	source := "func access(ctx, conf) {\n" + strings.Join(checks, "\n") + "\n}"
	instance := mustBind(t, source, "")

	mustRun(t, instance, PhaseAccess, newExchange())
}

// TestSandboxGlobals checks that the globals are exactly the allow-list and
// that each one is a plain builtin.
func TestSandboxGlobals(t *testing.T) {
	globals := sandboxGlobals()

	var names []string
	for name, value := range globals {
		names = append(names, name)

		builtin, ok := value.(*object.Builtin)
		if !ok {
			t.Errorf("global %q is a %T, want *object.Builtin", name, value)
			continue
		}
		if module, _ := builtin.GetAttr("__module__"); module != object.Nil {
			t.Errorf("global %q has __module__ %s, want nil", name, module.Inspect())
		}
	}

	slices.Sort(names)
	want := slices.Sorted(slices.Values(allowedBuiltins))
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
