package pluginhost

import (
	"errors"
	"strings"
	"testing"
)

// boxSource keeps the previous request's Authorization header in a closure
// that its top-level code creates, and sends it upstream with the next
// request.
const boxSource = `func make_box() { seen := ""; return func(v) { prev := seen; seen = v; return prev } }
box := make_box()
func access(ctx, conf) { ctx.req.set_header("X-Previous-Authorization", box(ctx.req.header("Authorization"))) }
`

func TestCompileRejectsTopLevelStatements(t *testing.T) {
	tests := []struct {
		name       string
		source     string
		wantLine   int
		wantReason string
	}{
		{"closure from a call", boxSource, 2, `assigning a call to "box"`},
		{"map written by a hook", "cache := {}\nfunc access(ctx, conf) { cache[\"x\"] = ctx.req.header(\"A\") }", 1, `assigning a map to "cache"`},
		{"list of literals", "func access(ctx, conf) {}\nallowed := [\"GET\", \"HEAD\"]", 2, `assigning a list to "allowed"`},
		{"set of literals", "func access(ctx, conf) {}\nnames := {\"a\", \"b\"}", 2, `assigning a set to "names"`},
		{"bare call", "func access(ctx, conf) {}\nerror(\"broken\")", 2, "a call is not allowed"},
		{"method call", "func access(ctx, conf) {}\nx := \"a,b\".split(\",\")", 2, `assigning a call to "x"`},
		{"attribute of a namespace", "func access(ctx, conf) {}\nencode := json.encode", 2, `assigning the expression json.encode to "encode"`},
		{"template with an expression", "func f() { return 1 }\nx := 'id {f()}'\nfunc access(ctx, conf) {}", 2, "a template string with expressions"},
		{"conditional", "func access(ctx, conf) {}\nif true { x := 1 }", 2, "a conditional is not allowed"},
		{"loop", "func access(ctx, conf) {}\nfor { }", 2, "a loop is not allowed"},
		{"import", "import strings\nfunc access(ctx, conf) {}", 1, "an import is not allowed"},
		{"index assignment", "x := 1\nfunc access(ctx, conf) {}\nx[0] = 2", 3, "an assignment to"},
		{"compound assignment", "x := 1\nx += 1\nfunc access(ctx, conf) {}", 2, `the compound assignment "+="`},
		{"several names", "a, b := [1, 2]\nfunc access(ctx, conf) {}", 1, "an assignment to several names"},
		{"go statement", "func f() {}\ngo f()\nfunc access(ctx, conf) {}", 2, `a "go" statement`},
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
			if !strings.Contains(cerr.Message, tt.wantReason) {
				t.Errorf("Message = %q, want it to contain %q", cerr.Message, tt.wantReason)
			}
			if !strings.Contains(cerr.Message, "top level may contain only function definitions and assignments of constants") {
				t.Errorf("Message = %q, want it to state the top-level rule", cerr.Message)
			}
		})
	}
}

func TestCompileAcceptsTopLevelConstants(t *testing.T) {
	source := `// Constants of every kind the top level accepts.
NAME := "limit"
var WINDOW = 60 * 60
const RATIO = -0.5
ENABLED := !false
NOTHING := nil
GREETING := 'hello'
LABEL := "x-" + NAME
NAME = "limit-count"
helper := func(v) { return v + 1 }
format := sprintf

func access(ctx, conf) {
  ctx.req.set_header("X-Constants", format("%s %d %v %v %v %s %s %d", NAME, WINDOW, RATIO, ENABLED, NOTHING, GREETING, LABEL, helper(1)))
}
`
	instance := mustBind(t, source, "")
	ex := newExchange()

	mustRun(t, instance, PhaseAccess, ex)

	want := "limit-count 3600 -0.5 true <nil> hello x-limit 2"
	if got := ex.Request.Header.Get("X-Constants"); got != want {
		t.Errorf("X-Constants = %q, want %q", got, want)
	}
}

// TestTopLevelClosurePerCall checks that a closure that a hook creates from
// a top-level function starts over on every call, so a hook cannot keep the
// previous request's values in one.
func TestTopLevelClosurePerCall(t *testing.T) {
	source := `func make_box() { seen := ""; return func(v) { prev := seen; seen = v; return prev } }
func access(ctx, conf) {
  box := make_box()
  ctx.req.set_header("X-Previous-Authorization", box(ctx.req.header("Authorization")))
}
`
	instance := mustBind(t, source, "")

	for _, token := range []string{"Bearer first", "Bearer second"} {
		ex := newExchange()
		ex.Request.Header.Set("Authorization", token)

		mustRun(t, instance, PhaseAccess, ex)

		if got := ex.Request.Header.Get("X-Previous-Authorization"); got != "" {
			t.Errorf("request with %q: X-Previous-Authorization = %q, want empty", token, got)
		}
	}
}

func TestCompileNamesSecondDefinition(t *testing.T) {
	tests := []struct {
		name     string
		source   string
		wantLine int
		wantName string
	}{
		{"function", "func access(ctx, conf) {}\n\nfunc access(ctx, conf) {}", 3, `"access" is defined a second time, first on line 1`},
		{"constant", "LIMIT := 1\nLIMIT := 2\nfunc access(ctx, conf) {}", 2, `"LIMIT" is defined a second time, first on line 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile("test", "1.0.0", tt.source)

			var cerr *CompileError
			if !errors.As(err, &cerr) {
				t.Fatalf("Compile() error = %v (%T), want *CompileError", err, err)
			}
			if cerr.Line != tt.wantLine || !strings.Contains(cerr.Message, tt.wantName) {
				t.Errorf("Compile() error at line %d: %q, want line %d naming %s", cerr.Line, cerr.Message, tt.wantLine, tt.wantName)
			}
		})
	}

	if _, err := Compile("test", "1.0.0", "LIMIT := 1\nLIMIT = 2\nfunc access(ctx, conf) {}"); err != nil {
		t.Errorf("Compile() of a reassigned constant: %v, want it accepted", err)
	}
}

// TestCompileTopLevelRunErrorPosition checks that top-level code that fails
// when it runs names the line and column of the statement that failed.
func TestCompileTopLevelRunErrorPosition(t *testing.T) {
	tests := []struct {
		name   string
		source string
		want   string
	}{
		{
			"division by zero",
			"func access(ctx, conf) {}\nbroken := 1 / 0",
			"line 2, column 1: run top-level code: runtime error: integer divide by zero",
		},
		{
			"type error after functions and constants",
			"greeting := \"hi\"\nfunc access(ctx, conf) {\n  ctx.resp.set_header(\"X-Greeting\", greeting)\n}\nlimit := 10\n  broken := greeting + limit\nfunc rewrite(ctx, conf) {}\n",
			"line 6, column 3: run top-level code: type error: ",
		},
		{
			"first statement",
			"broken := -\"text\"\nfunc access(ctx, conf) {}\n",
			"line 1, column 1: run top-level code: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile("test", "1.0.0", tt.source)
			if err == nil {
				t.Fatalf("Compile() error = nil, want %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Compile() error = %q, want it to start with %q", err, tt.want)
			}
		})
	}
}
