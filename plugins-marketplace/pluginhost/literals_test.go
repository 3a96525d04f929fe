package pluginhost

import (
	"errors"
	"strings"
	"testing"
)

func TestCompileLiteralLimits(t *testing.T) {
	cases := []struct {
		name    string
		source  string
		message string
		line    int
	}{
		{"long number", "func access(ctx, conf) {\n\tx := 1" + strings.Repeat("0", MaxNumberRun) + "\n}\n", "a run of more than 4096 digits or hex letters", 2},
		{"long hex number", "func access(ctx, conf) {\n\tx := 0x" + strings.Repeat("f", MaxNumberRun) + "\n}\n", "a run of more than 4096 digits or hex letters", 2},
		{"long template", "func access(ctx, conf) {\n\tx := '" + strings.Repeat("t", MaxTemplateBytes+1) + "'\n}\n", "the template string is 4097 bytes", 2},
		{"deep template", "func access(ctx, conf) {\n\tx := '{" + strings.Repeat("(", MaxNesting) + "1" + strings.Repeat(")", MaxNesting) + "}'\n}\n", "the template string nests brackets more than 100 levels deep", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile("p", "1.0.0", tc.source)
			var cerr *CompileError
			if !errors.As(err, &cerr) {
				t.Fatalf("Compile() error = %v, want a *CompileError", err)
			}
			if !strings.Contains(cerr.Message, tc.message) {
				t.Errorf("message = %q, want it to contain %q", cerr.Message, tc.message)
			}
			if cerr.Line != tc.line {
				t.Errorf("line = %d, want %d", cerr.Line, tc.line)
			}
		})
	}
}

func TestCompileLiteralsAtTheLimits(t *testing.T) {
	sources := map[string]string{
		"digits":   "func access(ctx, conf) {\n\tx := \"" + strings.Repeat("0", MaxNumberRun) + "\"\n}\n",
		"template": "func access(ctx, conf) {\n\tx := '" + strings.Repeat("t", MaxTemplateBytes-8) + "{conf}'\n}\n",
		"nesting":  "func access(ctx, conf) {\n\tx := '{" + strings.Repeat("(", MaxNesting-1) + "1" + strings.Repeat(")", MaxNesting-1) + "}'\n}\n",
		"string":   "func access(ctx, conf) {\n\tx := \"" + strings.Repeat("gh12", 3*MaxNumberRun) + "\"\n}\n",
	}
	for name, source := range sources {
		if _, err := Compile("p", "1.0.0", source); err != nil {
			t.Errorf("%s: Compile() error = %v, want none", name, err)
		}
	}
}
