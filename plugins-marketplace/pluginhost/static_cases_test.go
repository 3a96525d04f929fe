package pluginhost

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// leaveRequestRoom pads the request header so that exactly room bytes
// remain below MaxHeaderBytes.
func leaveRequestRoom(room int) func(*Exchange) {
	return func(ex *Exchange) {
		value := strings.Repeat("p", 4000)
		for i := 0; MaxHeaderBytes-room-headerBytes(ex.Request.Header) > 2*len(value); i++ {
			ex.Request.Header.Set(fmt.Sprintf("X-Fill-%d", i), value)
		}
		const padName = "X-Pad"
		padding := MaxHeaderBytes - room - headerBytes(ex.Request.Header) - len(padName)
		ex.Request.Header.Set(padName, strings.Repeat("p", padding))
	}
}

// TestStaticRerunAfterDeletedHeader checks that a static run that fails
// part way leaves the exchange as it was for the VM. Had it kept its
// changes, the VM would set a header again that a later change deleted,
// on top of the growth. It would then fail at that earlier change with
// another error, and leave X-C at the value of the first change.
func TestStaticRerunAfterDeletedHeader(t *testing.T) {
	value := strings.Repeat("v", 4000)
	body := `ctx.req.set_header("X-C", "first")` + "\n" +
		`ctx.req.set_header("X-A", "` + value + `")` + "\n" +
		`ctx.req.del_header("X-A")` + "\n" +
		`ctx.req.set_header("X-C", "last")` + "\n" +
		`ctx.req.set_header("X-B", "` + value + `")` + "\n" +
		`ctx.req.set_header("bad name", "v")`
	source := "func rewrite(ctx, conf) {\n" + body + "\n}\n"

	static, vm, isStatic := runHookTwice(t, source, `{}`, PhaseRewrite, leaveRequestRoom(6000))

	if !isStatic {
		t.Fatal("hook is not static, want a static hook")
	}
	if !strings.Contains(vm.err, `invalid header name "bad name"`) {
		t.Fatalf("VM error = %q, want the invalid header name", vm.err)
	}
	if static.err != vm.err {
		t.Errorf("error = %q, want the VM's %q", static.err, vm.err)
	}
	if got, want := static.request.Get("X-C"), vm.request.Get("X-C"); got != want {
		t.Errorf("X-C = %q, want the VM's %q", got, want)
	}
	if !reflect.DeepEqual(static.request, vm.request) {
		t.Errorf("request header differs from the VM's: X-A %d bytes, X-B %d bytes, want %d and %d",
			len(static.request.Get("X-A")), len(static.request.Get("X-B")), len(vm.request.Get("X-A")), len(vm.request.Get("X-B")))
	}
}

// TestStaticParsingMatchesVM covers Risor syntax that the analysis
// accepts or rejects: escapes, raw and single-quoted strings, semicolons,
// parentheses, a constant named like a parameter, and conf values that are
// not strings.
func TestStaticParsingMatchesVM(t *testing.T) {
	cases := []struct {
		name       string
		source     string
		config     string
		wantStatic bool
	}{
		{"escapes", `func rewrite(ctx, conf) { ctx.req.set_header("X-A", "\u00e9\x41\101\t") }`, `{}`, true},
		{"raw string", "func rewrite(ctx, conf) { ctx.req.set_header(\"X-A\", `a\\tb`) }", `{}`, true},
		{"single-quoted without braces", `func rewrite(ctx, conf) { ctx.req.set_header("X-A", 'a\tb') }`, `{}`, true},
		{"semicolons", `func rewrite(ctx, conf) { ctx.req.set_header("X-A", "1"); ctx.req.del_header("Accept"); }`, `{}`, true},
		{"parentheses", `func rewrite(ctx, conf) { ctx.req.set_header("X-A", ("a" + conf.b) + ("c" + conf["d"])) }`, `{"b": "B", "d": "D"}`, true},
		{"constant named ctx", "const ctx = 1\nconst conf = \"c\"\nfunc rewrite(ctx, conf) { ctx.req.set_header(\"X-A\", conf.v) }", `{"v": "V"}`, true},
		{"parameters in other order", `func rewrite(conf, ctx) { conf.req.set_header("X-A", ctx.v) }`, `{"v": "V"}`, true},
		{"unicode conf key", `func rewrite(ctx, conf) { ctx.req.set_header("X-A", conf["é"]) }`, `{"é": "x"}`, true},
		{"returned delete", `func rewrite(ctx, conf) { return ctx.req.del_header("Accept") }`, `{}`, true},
		{"comments", "func rewrite(ctx, conf) {\n // a comment\n ctx.req.set_header(\"X-A\", \"1\") // trailing\n}", `{}`, true},
		{"bool from conf", `func rewrite(ctx, conf) { ctx.req.set_header("X-A", conf.b) }`, `{"b": true}`, false},
		{"null from conf", `func rewrite(ctx, conf) { ctx.req.set_header("X-A", conf.b) }`, `{"b": null}`, false},
		{"conf method name as key", `func rewrite(ctx, conf) { ctx.req.set_header("X-A", conf["items"]) }`, `{"items": "i"}`, true},
		{"delete on nil header", `func header_filter(ctx, conf) { ctx.resp.del_header("X-A") }`, `{}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			phase := PhaseRewrite
			if strings.HasPrefix(tc.source, "func header_filter") {
				phase = PhaseHeaderFilter
			}
			static, vm, isStatic := runHookTwice(t, tc.source, tc.config, phase, nil)

			if isStatic != tc.wantStatic {
				t.Errorf("static = %v, want %v", isStatic, tc.wantStatic)
			}
			checkSameAsVM(t, static, vm)
		})
	}
}

// The analysis reads the hook from its func statement, which is only
// right while nothing else can bind the phase name or a parameter name.
func TestStaticRejectsRebinding(t *testing.T) {
	sources := map[string]string{
		"assignment after func": "func rewrite(ctx, conf) { ctx.req.set_header(\"X-A\", \"1\") }\nrewrite = func(ctx, conf) { ctx.req.set_header(\"X-A\", \"2\") }\n",
		"name after func":       "func other(ctx, conf) { ctx.req.set_path(\"/o\") }\nfunc rewrite(ctx, conf) { ctx.req.set_header(\"X-A\", \"1\") }\nrewrite = other\n",
		"second func":           "func rewrite(ctx, conf) { ctx.req.set_header(\"X-A\", \"1\") }\nfunc rewrite(ctx, conf) { ctx.req.set_path(\"/o\") }\n",
		"repeated parameter":    "func rewrite(x, x) { x.req.set_header(\"X-A\", x.v) }\n",
		"constant after func":   "func rewrite(ctx, conf) { ctx.req.set_header(\"X-A\", \"1\") }\nconst rewrite = 1\n",
	}
	for name, source := range sources {
		t.Run(name, func(t *testing.T) {
			if _, err := Compile("test", "1.0.0", source); err == nil {
				t.Errorf("Compile() succeeded, want an error for source\n%s", source)
			}
		})
	}
}
