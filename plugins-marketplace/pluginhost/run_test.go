package pluginhost

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestExitStopsHook(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"direct call", `ctx.exit(401, "missing key")`},
		{"inside try", `try(func() { ctx.exit(401, "missing key") }, func(e) { ctx.req.set_header("X-Caught", "1") })`},
		{"inside list.each", `[1].each(func(x) { ctx.exit(401, "missing key") })`},
		{"inside nested function", "func deny() { ctx.exit(401, \"missing key\") }\n  deny()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			source := "func access(ctx, conf) {\n  " + tt.body + "\n  ctx.req.set_header(\"X-After\", \"1\")\n}"
			instance := mustBind(t, source, "")
			ex := newExchange()

			mustRun(t, instance, PhaseAccess, ex)

			if ex.Exit == nil || ex.Exit.Status != 401 || ex.Exit.Body != "missing key" {
				t.Errorf("Exit = %+v, want {401 missing key}", ex.Exit)
			}
			for _, name := range []string{"X-After", "X-Caught"} {
				if got := ex.Request.Header.Get(name); got != "" {
					t.Errorf("%s = %q, want it unset because the hook stopped at ctx.exit", name, got)
				}
			}
		})
	}
}

// TestExitStopsPhase runs hooks the way the edge does: in order, stopping the
// phase once Exit is set.
func TestExitStopsPhase(t *testing.T) {
	chain := []*Instance{
		mustBind(t, `func access(ctx, conf) { ctx.req.set_header("X-First", "1") }`, ""),
		mustBind(t, `func access(ctx, conf) { if ctx.req.header("X-Api-Key") == "" { ctx.exit(401, "missing key") } }`, ""),
		mustBind(t, `func access(ctx, conf) { ctx.req.set_header("X-Third", "1") }`, ""),
	}
	ex := newExchange()

	ran := 0
	for _, instance := range chain {
		mustRun(t, instance, PhaseAccess, ex)
		ran++
		if ex.Exit != nil {
			break
		}
	}

	if ran != 2 {
		t.Errorf("ran %d hooks, want 2", ran)
	}
	if ex.Exit == nil || ex.Exit.Status != 401 {
		t.Errorf("Exit = %+v, want status 401", ex.Exit)
	}
	if got := ex.Request.Header.Get("X-First"); got != "1" {
		t.Errorf("X-First = %q, want %q", got, "1")
	}
}

func TestHeaderFilterSeesStatus(t *testing.T) {
	source := `
func header_filter(ctx, conf) {
  ctx.resp.set_header("X-Upstream-Status", string(ctx.resp.status))
  if ctx.resp.status >= 500 {
    ctx.exit(503, "upstream unavailable")
  }
}`
	tests := []struct {
		name       string
		status     int
		wantHeader string
		wantExit   *Exit
	}{
		{"success kept", 200, "200", nil},
		{"server error replaced", 502, "502", &Exit{Status: 503, Body: "upstream unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			instance := mustBind(t, source, "")
			ex := newExchange()
			ex.Response.Status = tt.status

			mustRun(t, instance, PhaseHeaderFilter, ex)

			if got := ex.Response.Header.Get("X-Upstream-Status"); got != tt.wantHeader {
				t.Errorf("X-Upstream-Status = %q, want %q", got, tt.wantHeader)
			}
			if got := exitString(ex.Exit); got != exitString(tt.wantExit) {
				t.Errorf("Exit = %s, want %s", got, exitString(tt.wantExit))
			}
		})
	}
}

// TestHooksShareExchange checks that a hook reads the changes of the hooks
// that ran before it on the same Exchange.
func TestHooksShareExchange(t *testing.T) {
	first := mustBind(t, `
func rewrite(ctx, conf) {
  ctx.req.set_header("X-Trace", "a")
  ctx.req.set_path("/v2" + ctx.req.path)
}`, "")
	second := mustBind(t, `
func rewrite(ctx, conf) {
  ctx.req.set_header("X-Trace", ctx.req.header("X-Trace") + ",b")
  ctx.req.set_header("X-Seen-Path", ctx.req.path)
}`, "")
	ex := newExchange()

	mustRun(t, first, PhaseRewrite, ex)
	mustRun(t, second, PhaseRewrite, ex)

	if got := ex.Request.Header.Get("X-Trace"); got != "a,b" {
		t.Errorf("X-Trace = %q, want %q", got, "a,b")
	}
	if got := ex.Request.Header.Get("X-Seen-Path"); got != "/v2/items" {
		t.Errorf("X-Seen-Path = %q, want %q", got, "/v2/items")
	}
}

func TestRunMissingHookIsNoop(t *testing.T) {
	instance := mustBind(t, `func access(ctx, conf) { ctx.exit(403, "no") }`, "")
	ex := newExchange()

	for _, phase := range []Phase{PhaseRewrite, PhaseHeaderFilter} {
		mustRun(t, instance, phase, ex)
	}

	if ex.Exit != nil {
		t.Errorf("Exit = %+v, want nil because only access has a hook", ex.Exit)
	}
}

func TestRunErrors(t *testing.T) {
	instance := mustBind(t, `func access(ctx, conf) { error("key %s is revoked", "k1") }`, "")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name    string
		ctx     context.Context
		phase   Phase
		ex      *Exchange
		wantErr string
		wantIs  error
	}{
		{"raised error", context.Background(), PhaseAccess, newExchange(), `plugin "test" version "1.0.0": access hook: key k1 is revoked`, nil},
		{"unknown phase", context.Background(), "teardown", newExchange(), `unknown phase "teardown"`, nil},
		{"nil exchange", context.Background(), PhaseAccess, nil, "exchange is nil", nil},
		{"cancelled context", cancelled, PhaseAccess, newExchange(), "context canceled", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := instance.Run(tt.ctx, tt.phase, tt.ex)

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Run() error = %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false, want true", err, tt.wantIs)
			}
		})
	}
}

func TestInstancePlugin(t *testing.T) {
	p := mustCompile(t, `func access(ctx, conf) {}`)
	instance, err := p.Bind(nil)
	if err != nil {
		t.Fatalf("Bind(nil) error = %v", err)
	}

	if got := instance.Plugin(); got != p {
		t.Errorf("Plugin() = %p, want %p", got, p)
	}
}

// TestExitInsideTriedCallback pins the exception documented at exitSignal:
// the stop is lost in a list callback inside try(), but Exit remains set.
func TestExitInsideTriedCallback(t *testing.T) {
	instance := mustBind(t, `
func access(ctx, conf) {
  try(func() { [1].each(func(x) { ctx.exit(401, "missing key") }) })
  ctx.req.set_header("X-After", "1")
}`, "")
	ex := newExchange()

	mustRun(t, instance, PhaseAccess, ex)

	if ex.Exit == nil || ex.Exit.Status != 401 {
		t.Errorf("Exit = %+v, want status 401", ex.Exit)
	}
	if got := ex.Request.Header.Get("X-After"); got != "1" {
		t.Errorf("X-After = %q, want %q because try() caught the flattened stop", got, "1")
	}
}

// TestRunAfterErrors checks that a VM whose hook raised an error, at any call
// depth, serves the next call correctly.
func TestRunAfterErrors(t *testing.T) {
	instance := mustBind(t, `
func check(depth) {
  if depth == 0 {
    error("rejected at depth 0")
  }
  return check(depth - 1)
}

func access(ctx, conf) {
  if ctx.req.header("X-Fail") != "" {
    check(int(ctx.req.header("X-Fail")))
  }
  ctx.req.set_header("X-Out", ctx.req.path + "-ok")
}`, "")

	for call := range 200 {
		ex := newExchange()
		fail := call%2 == 0
		if fail {
			ex.Request.Header.Set("X-Fail", strconv.Itoa(call%7))
		}

		err := instance.Run(context.Background(), PhaseAccess, ex)

		if fail {
			if err == nil || !strings.Contains(err.Error(), "rejected at depth 0") {
				t.Fatalf("call %d: Run() error = %v, want the raised error", call, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("call %d: Run() error = %v", call, err)
		}
		if got := ex.Request.Header.Get("X-Out"); got != "/items-ok" {
			t.Fatalf("call %d: X-Out = %q, want %q", call, got, "/items-ok")
		}
	}
}
