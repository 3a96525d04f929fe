package pluginhost

import (
	"errors"
	"strings"
	"testing"
)

// Risor v1.8.1 compiles the target of a compound assignment to an index or
// an attribute (x[i] += v, x.a += v) twice: once to load the value and once
// to store it. A function literal inside the target can contain another such
// assignment, so each level of nesting doubles the work. On a 2-core test
// machine, a 349-byte source with 16 levels took 1.5 s and allocated 394 MB to
// compile. Two levels stay within MaxFunctionNesting, so only the rule on
// compound targets rejects them.
func TestCompileRejectsNestedCompoundTargets(t *testing.T) {
	const levels = 2
	sources := map[string]string{
		"index": "func access(ctx, conf) {\nx := {}\n" +
			strings.Repeat("x[func() {\n", levels) + "x[1] += 1\n" + strings.Repeat("}] += 1\n", levels) + "}\n",
		"attribute": "func access(ctx, conf) {\nx := {}\n" +
			strings.Repeat("x[func() {\n", levels) + "x.a += 1\n" + strings.Repeat("}].a += 1\n", levels) + "}\n",
		"container": "func access(ctx, conf) {\nx := {}\n" +
			strings.Repeat("func() {\n", levels) + "x[1] += 1\n" + strings.Repeat("}()[1] += 1\n", levels) + "}\n",
	}
	for name, source := range sources {
		t.Run(name, func(t *testing.T) {
			_, err := Compile("p", "1.0.0", source)
			var cerr *CompileError
			if !errors.As(err, &cerr) {
				t.Fatalf("Compile() error = %v, want a *CompileError", err)
			}
			if cerr.Line == 0 {
				t.Errorf("error %q has no line, want the line of the compound assignment", cerr.Message)
			}
			if !strings.Contains(cerr.Message, "compound assignment") {
				t.Errorf("error = %q, want the rule on compound assignments", cerr.Message)
			}
		})
	}
}

func TestCompileKeepsCompoundAssignments(t *testing.T) {
	source := `
func step(n) {
	return n + 1
}

func access(ctx, conf) {
	x := {"a": 1, "b": [1, 2]}
	k := "a"
	x[k] += 1
	x[k] -= step(2)
	x["b"][step(0)] *= 3
	x.a += 1
	x[k] += func() { return 1 }()
}
`
	if _, err := Compile("p", "1.0.0", source); err != nil {
		t.Fatalf("Compile() error = %v, want compound assignments without nested functions in their targets to compile", err)
	}
}
