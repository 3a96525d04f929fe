package pluginhost

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// staticOutcome is what one run of a hook left: the exchange's headers and
// the error text.
type staticOutcome struct {
	request, response http.Header
	err               string
}

// runHookTwice runs phase of source with config twice on exchanges that
// prepare sets up: once as bound, and once with the static hooks turned
// off, so that the VM runs them. It returns both outcomes and whether the
// bound hook was static.
func runHookTwice(t *testing.T, source, config string, phase Phase, prepare func(*Exchange)) (static, vm staticOutcome, isStatic bool) {
	t.Helper()
	bound := mustBind(t, source, config)
	inVM := mustBind(t, source, config)
	inVM.isStatic = [phaseCount]bool{}

	idx, err := phaseIndex(phase)
	if err != nil {
		t.Fatal(err)
	}
	run := func(instance *Instance) staticOutcome {
		ex := newExchange()
		ex.Response.Header = http.Header{"Server": {"upstream"}}
		if prepare != nil {
			prepare(ex)
		}
		var outcome staticOutcome
		if err := instance.Run(context.Background(), phase, ex); err != nil {
			outcome.err = err.Error()
		}
		outcome.request, outcome.response = ex.Request.Header, ex.Response.Header
		return outcome
	}
	return run(bound), run(inVM), bound.isStatic[idx]
}

// checkSameAsVM fails t when the static run's outcome differs from the
// VM's.
func checkSameAsVM(t *testing.T, static, vm staticOutcome) {
	t.Helper()
	if static.err != vm.err {
		t.Errorf("error = %q, want the VM's %q", static.err, vm.err)
	}
	if !reflect.DeepEqual(static.request, vm.request) {
		t.Errorf("request header = %v, want the VM's %v", static.request, vm.request)
	}
	if !reflect.DeepEqual(static.response, vm.response) {
		t.Errorf("response header = %v, want the VM's %v", static.response, vm.response)
	}
}

func TestStaticHookMatchesVM(t *testing.T) {
	config := `{"tag": "t0", "name": "X-From-Conf", "bad": "bad name", "n": 5, "keys": "k", "long": "` + strings.Repeat("L", 3000) + `", "big": "` + strings.Repeat("B", 7000) + `"}`
	cases := []struct {
		name       string
		phase      Phase
		body       string
		prepare    func(*Exchange)
		wantStatic bool
		wantErr    bool
	}{
		{"literal and conf", PhaseHeaderFilter, `ctx.resp.set_header("X-Light-0", "1.0.0" + "/" + conf["tag"])`, nil, true, false},
		{"conf attribute", PhaseRewrite, `ctx.req.set_header(conf.name, conf.tag)`, nil, true, false},
		{"delete", PhaseRewrite, `ctx.req.del_header("accept")` + "\n" + `ctx.req.del_header("X-Absent")`, nil, true, false},
		{"set then delete", PhaseHeaderFilter, `ctx.resp.set_header("x-a", "1")` + "\n" + `ctx.resp.del_header("X-A")` + "\n" + `ctx.resp.set_header("X-B", "2")`, nil, true, false},
		{"lower-case name", PhaseAccess, `ctx.req.set_header("x-lower", "v")`, nil, true, false},
		{"empty body", PhaseAccess, ``, nil, true, false},
		{"invalid name from conf", PhaseRewrite, `ctx.req.set_header("X-Ok", "1")` + "\n" + `ctx.req.set_header(conf["bad"], "v")`, nil, true, true},
		{"edge-managed header", PhaseHeaderFilter, `ctx.resp.set_header("Content-Length", "1")`, nil, true, true},
		{"control character", PhaseRewrite, `ctx.req.set_header("X-A", "a\nb")`, nil, true, true},
		{"above the header limit", PhaseRewrite, `ctx.req.set_header("X-Small", "1")` + "\n" + `ctx.req.set_header("X-Big", "` + strings.Repeat("b", 4000) + `")`, leaveRequestRoom(100), true, true},
		{"number from conf", PhaseRewrite, `ctx.req.set_header("X-N", conf["n"])`, nil, false, true},
		{"missing conf key", PhaseRewrite, `ctx.req.set_header("X-M", conf["missing"])`, nil, false, true},
		{"missing conf attribute", PhaseRewrite, `ctx.req.set_header("X-M", conf.missing)`, nil, false, true},
		{"map method attribute", PhaseRewrite, `ctx.req.set_header("X-K", conf.keys)`, nil, false, true},
		{"template string", PhaseRewrite, `ctx.req.set_header("X-T", '{conf["tag"]}')`, nil, false, false},
		{"request value", PhaseRewrite, `ctx.req.set_header("X-P", ctx.req.path)`, nil, false, false},
		{"too many arguments", PhaseRewrite, `ctx.req.set_header("X-A", "1", "2")`, nil, false, true},
		{"other method", PhaseRewrite, `ctx.req.set_path("/other")`, nil, false, false},
		{"value above the field limit", PhaseRewrite, `ctx.req.set_header("X-Long", conf.long + conf.long + conf.long)`, nil, false, true},
		{"delete with a long name", PhaseRewrite, `ctx.req.del_header(conf.long + conf.long + conf.long)`, nil, false, false},
		{"arguments above the total limit", PhaseRewrite, strings.Repeat(`ctx.req.set_header("X-A", conf.big)`+"\n", 40), nil, false, false},
		{"arguments within the total limit", PhaseRewrite, strings.Repeat(`ctx.req.set_header("X-A", conf.big)`+"\n", 30), nil, true, false},
		{"returned call", PhaseRewrite, `return ctx.req.set_header("X-A", "1")`, nil, true, false},
		{"code after a return", PhaseRewrite, `return ctx.req.set_header("X-A", "1")` + "\n" + `ctx.req.set_header("bad name", "1")`, nil, true, false},
		{"bare return", PhaseRewrite, `ctx.req.set_header("X-A", "1")` + "\n" + `return`, nil, false, false},
		{"condition", PhaseRewrite, `if true { ctx.req.set_header("X-A", "1") }`, nil, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			source := fmt.Sprintf("func %s(ctx, conf) {\n%s\n}\n", tc.phase, tc.body)
			static, vm, isStatic := runHookTwice(t, source, config, tc.phase, tc.prepare)

			if isStatic != tc.wantStatic {
				t.Errorf("static = %v, want %v", isStatic, tc.wantStatic)
			}
			if (vm.err != "") != tc.wantErr {
				t.Errorf("VM error = %q, want an error: %v", vm.err, tc.wantErr)
			}
			checkSameAsVM(t, static, vm)
		})
	}
}

// TestStaticHookRandomBodiesMatchVM compares static and VM runs of random
// hook bodies made of header calls, with names and values that are valid,
// invalid, numbers, missing or near the header limit.
func TestStaticHookRandomBodiesMatchVM(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	operands := []string{
		`"X-A"`, `"x-b"`, `"bad name"`, `"Content-Length"`, `"v"`, `""`, `"a\rb"`,
		`"` + strings.Repeat("z", 3000) + `"`, `conf["h"]`, `conf.v`, `conf["n"]`, `conf["gone"]`, `conf.bad`,
	}
	expression := func() string {
		parts := make([]string, 1+rng.IntN(3))
		for i := range parts {
			parts[i] = operands[rng.IntN(len(operands))]
		}
		return strings.Join(parts, " + ")
	}
	configs := []string{
		`{"h": "X-Conf", "v": "value", "n": 1, "bad": "bad name"}`,
		`{"h": "x-conf", "v": "", "n": "one", "bad": "X-Fine"}`,
	}

	var static, staticFailed, total int
	for range 300 {
		var body strings.Builder
		for range rng.IntN(5) {
			side := []string{"req", "resp"}[rng.IntN(2)]
			if rng.IntN(3) == 0 {
				fmt.Fprintf(&body, "ctx.%s.del_header(%s)\n", side, expression())
			} else {
				fmt.Fprintf(&body, "ctx.%s.set_header(%s, %s)\n", side, expression(), expression())
			}
		}
		source := "func header_filter(ctx, conf) {\n" + body.String() + "}\n"
		config := configs[rng.IntN(len(configs))]
		var prepare func(*Exchange)
		if rng.IntN(4) == 0 {
			prepare = leaveRequestRoom(rng.IntN(6000))
		}

		got, want, isStatic := runHookTwice(t, source, config, PhaseHeaderFilter, prepare)
		total++
		if isStatic {
			static++
			if got.err != "" {
				staticFailed++
			}
		}
		if got.err != want.err || !reflect.DeepEqual(got.request, want.request) || !reflect.DeepEqual(got.response, want.response) {
			t.Fatalf("static run differs from the VM for config %s and source\n%s\nstatic: %q %v %v\nVM:     %q %v %v",
				config, source, got.err, got.request, got.response, want.err, want.request, want.response)
		}
	}
	if static < total/4 {
		t.Errorf("%d of %d random hooks were static, want at least a quarter", static, total)
	}
	if staticFailed < static/10 {
		t.Errorf("%d of %d static hooks failed and ran again in the VM, want at least a tenth", staticFailed, static)
	}
	t.Logf("%d hooks, %d static, %d of them failed", total, static, staticFailed)
}

// BenchmarkStaticHook compares a hook that sets one header from a literal
// and conf, run as a static hook and in the VM.
func BenchmarkStaticHook(b *testing.B) {
	const source = `func header_filter(ctx, conf) {
    ctx.resp.set_header("X-Light-0", "1.0.0" + "/" + conf["tag"])
}`
	for _, mode := range []string{"static", "vm"} {
		b.Run(mode, func(b *testing.B) {
			instance := mustBind(b, source, `{"tag": "t0"}`)
			if mode == "vm" {
				instance.isStatic = [phaseCount]bool{}
			}
			ex := newExchange()
			ex.Response.Header = http.Header{}
			b.ReportAllocs()

			for b.Loop() {
				if err := instance.Run(context.Background(), PhaseHeaderFilter, ex); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestStaticChangesOfBinding(t *testing.T) {
	source := "func rewrite(ctx, conf) {\n ctx.req.set_header(\"X-Tag\", conf.tag)\n ctx.req.del_header(\"X-Drop\")\n}\n" +
		"func header_filter(ctx, conf) {\n ctx.resp.set_header(\"X-Path\", ctx.req.path)\n}\n"
	instance := mustBind(t, source, `{"tag": "t1"}`)

	changes, ok := instance.StaticChanges(PhaseRewrite)
	want := []HeaderChange{{Name: "X-Tag", Value: "t1"}, {Delete: true, Name: "X-Drop"}}
	if !ok || !reflect.DeepEqual(changes, want) {
		t.Errorf("StaticChanges(rewrite) = %+v, %v, want %+v, true", changes, ok, want)
	}
	if _, ok := instance.StaticChanges(PhaseHeaderFilter); ok {
		t.Error("StaticChanges(header_filter) is static, want the VM for a hook that reads the path")
	}
	if _, ok := instance.StaticChanges(PhaseAccess); ok {
		t.Error("StaticChanges(access) is static, want false for a missing hook")
	}
}

func TestApplyHeaderChangesRestoresOnFailure(t *testing.T) {
	ex := newExchange()
	before := ex.Request.Header.Clone()
	changes := []HeaderChange{
		{Name: "x-first", Value: "1"},
		{Delete: true, Name: "Accept"},
		{Name: "Accept", Value: "text/plain"},
	}
	// Twelve more changes, so the undo record outgrows its array.
	for i := range 12 {
		changes = append(changes, HeaderChange{Name: fmt.Sprintf("X-More-%d", i), Value: "v"})
	}
	failing := []HeaderChange{{Response: true, Name: "Content-Length", Value: "1"}}

	if ApplyHeaderChanges(ex, changes, failing) {
		t.Fatal("ApplyHeaderChanges() = true, want false for an edge-managed response header")
	}
	if !reflect.DeepEqual(ex.Request.Header, before) {
		t.Errorf("request header = %v, want it restored to %v", ex.Request.Header, before)
	}
	if ex.Response.Header != nil {
		t.Errorf("response header = %v, want it nil again", ex.Response.Header)
	}
	if ex.measured != [headerSides]measuredHeader{} {
		t.Errorf("measured = %+v, want the sizes cached before the changes", ex.measured)
	}
}

func TestApplyHeaderChangesKeepsSuccess(t *testing.T) {
	ex := newExchange()
	changes := []HeaderChange{{Name: "x-first", Value: "1"}, {Delete: true, Name: "Accept"}}

	if !ApplyHeaderChanges(ex, changes) {
		t.Fatal("ApplyHeaderChanges() = false, want true")
	}
	if got := ex.Request.Header.Get("X-First"); got != "1" {
		t.Errorf("X-First = %q, want %q", got, "1")
	}
	if _, found := ex.Request.Header["Accept"]; found {
		t.Error("Accept is still set, want it deleted")
	}
}
