package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/risor-io/risor/compiler"
	"github.com/risor-io/risor/parser"
)

// sumSource returns a source whose access hook sums 1 terms times, so its
// syntax tree nests about terms levels deep.
func sumSource(terms int) string {
	return "func access(ctx, conf) {\n\tx := 1" + strings.Repeat(" + 1", terms-1) + "\n}\n"
}

// constantsSource returns a source with count top-level constants and an
// access hook.
func constantsSource(count int) string {
	var b strings.Builder
	for i := range count - 1 {
		fmt.Fprintf(&b, "C%d := %d\n", i, i)
	}
	b.WriteString("func access(ctx, conf) {}\n")
	return b.String()
}

func TestCompileRejectsDeepNesting(t *testing.T) {
	if _, err := Compile("p", "1.0.0", sumSource(MaxNesting/2)); err != nil {
		t.Fatalf("a sum of %d terms: %v, want it to compile", MaxNesting/2, err)
	}

	_, err := Compile("p", "1.0.0", sumSource(MaxNesting+10))
	var cerr *CompileError
	if !errors.As(err, &cerr) {
		t.Fatalf("a sum of %d terms: error %v, want a *CompileError", MaxNesting+10, err)
	}
	if cerr.Line != 2 || cerr.Column == 0 || !strings.Contains(cerr.Message, fmt.Sprintf("more than %d levels", MaxNesting)) {
		t.Errorf("error = %q at line %d column %d, want the nesting limit on line 2", cerr.Message, cerr.Line, cerr.Column)
	}
}

// nestedFunctionsSource returns a source whose access hook holds function
// literals nested levels deep inside it.
func nestedFunctionsSource(levels int) string {
	return "func access(ctx, conf) {\n" + strings.Repeat("f := func() {\n", levels) + strings.Repeat("}\n", levels) + "}\n"
}

func TestCompileRejectsDeeplyNestedFunctions(t *testing.T) {
	// The access hook counts as the first level.
	if _, err := Compile("p", "1.0.0", nestedFunctionsSource(MaxFunctionNesting-1)); err != nil {
		t.Fatalf("functions nested %d deep: %v, want them to compile", MaxFunctionNesting, err)
	}

	_, err := Compile("p", "1.0.0", nestedFunctionsSource(MaxFunctionNesting))
	var cerr *CompileError
	if !errors.As(err, &cerr) {
		t.Fatalf("functions nested %d deep: error %v, want a *CompileError", MaxFunctionNesting+1, err)
	}
	want := fmt.Sprintf("functions nest more than %d deep", MaxFunctionNesting)
	if cerr.Line != MaxFunctionNesting+1 || !strings.Contains(cerr.Message, want) {
		t.Errorf("error = %q at line %d, want %q at line %d", cerr.Message, cerr.Line, want, MaxFunctionNesting+1)
	}
}

func TestCompileRejectsDeepBrackets(t *testing.T) {
	source := "func access(ctx, conf) {\n\tx := " + strings.Repeat("(", MaxNesting+1) + "1" + strings.Repeat(")", MaxNesting+1) + "\n}\n"

	_, err := Compile("p", "1.0.0", source)
	var cerr *CompileError
	if !errors.As(err, &cerr) {
		t.Fatalf("%d nested parentheses: error %v, want a *CompileError", MaxNesting+1, err)
	}
	if cerr.Line != 2 || !strings.Contains(cerr.Message, "levels deep") {
		t.Errorf("error = %q at line %d, want the nesting limit at line 2", cerr.Message, cerr.Line)
	}
}

func TestCompileRejectsManyTopLevelStatements(t *testing.T) {
	if _, err := Compile("p", "1.0.0", constantsSource(MaxTopLevelStatements)); err != nil {
		t.Fatalf("%d top-level statements: %v, want them to compile", MaxTopLevelStatements, err)
	}

	_, err := Compile("p", "1.0.0", constantsSource(MaxTopLevelStatements+1))
	var cerr *CompileError
	if !errors.As(err, &cerr) {
		t.Fatalf("%d top-level statements: error %v, want a *CompileError", MaxTopLevelStatements+1, err)
	}
	want := fmt.Sprintf("%d top-level statements, above the limit of %d", MaxTopLevelStatements+1, MaxTopLevelStatements)
	if !strings.Contains(cerr.Message, want) {
		t.Errorf("error = %q, want it to contain %q", cerr.Message, want)
	}
}

// BenchmarkCompileWorstShape compiles a source of the largest accepted
// size made of operator chains inside functions nested as deep as
// MaxFunctionNesting allows, the slowest shape within the limits among
// those measured.
func BenchmarkCompileWorstShape(b *testing.B) {
	levels := MaxFunctionNesting - 1
	chain := "\tx = x" + strings.Repeat(" + x", MaxNesting-15) + "\n"
	tail := strings.Repeat("}\n", levels) + "}\n"
	var source strings.Builder
	source.WriteString("func access(ctx, conf) {\n\tx := 0\n" + strings.Repeat("f := func() {\n", levels))
	for source.Len()+len(chain)+len(tail) < 256<<10 {
		source.WriteString(chain)
	}
	source.WriteString(tail)

	for b.Loop() {
		if _, err := Compile("p", "1.0.0", source.String()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRisorCompileDeepSum compiles sums of growing length with
// Risor's compiler alone, without checkShape, to show the growth that
// MaxNesting bounds: each doubling of the terms takes about four times as
// long.
func BenchmarkRisorCompileDeepSum(b *testing.B) {
	for _, terms := range []int{2048, 4096, 8192} {
		b.Run(fmt.Sprintf("terms=%d", terms), func(b *testing.B) {
			program, err := parser.Parse(context.Background(), sumSource(terms))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := compiler.Compile(program, sandboxCompilerOptions()...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
