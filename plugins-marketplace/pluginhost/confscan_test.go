package pluginhost

import "testing"

// TestHookReadsConf checks which hooks get a copy of the config. Only a
// hook that provably never reaches conf may go without.
func TestHookReadsConf(t *testing.T) {
	tests := []struct {
		name   string
		source string
		want   bool
	}{
		{"unused", `func access(ctx, conf) { ctx.req.set_header("X-A", "1") }`, false},
		{"read", `func access(ctx, conf) { ctx.req.set_header("X-A", conf["v"]) }`, true},
		{"passed on", `func helper(c) { return c["v"] }
func access(ctx, conf) { ctx.req.set_header("X-A", helper(conf)) }`, true},
		{"reassigned", `func access(ctx, conf) { conf = {} }`, true},
		{"captured", `func access(ctx, conf) { f := func() { return conf["v"] }
  ctx.req.set_header("X-A", f()) }`, true},
		{"captured two levels down", `func access(ctx, conf) { f := func() { g := func() { return conf["v"] }
  return g() }
  ctx.req.set_header("X-A", f()) }`, true},
		{"other parameter names", `func access(c, settings) { c.req.set_header("X-A", settings["v"]) }`, true},
		{"closure over own local", `func access(ctx, conf) { x := "1"
  f := func() { return x }
  ctx.req.set_header("X-A", f()) }`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.source)
			idx, err := phaseIndex(PhaseAccess)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.readsConf[idx]; got != tt.want {
				t.Errorf("readsConf = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUnusedConfIsNil checks that a hook that does not read conf still runs,
// and that the instance's config stays intact for hooks that do.
func TestUnusedConfIsNil(t *testing.T) {
	instance := mustBind(t, `
func rewrite(ctx, conf) { ctx.req.set_header("X-Tag", conf["tag"]) }
func access(ctx, conf) { ctx.req.set_header("X-Seen", "yes") }`, `{"tag": "t1"}`)

	ex := newExchange()
	mustRun(t, instance, PhaseAccess, ex)
	mustRun(t, instance, PhaseRewrite, ex)

	if got := ex.Request.Header.Get("X-Seen"); got != "yes" {
		t.Errorf("X-Seen = %q, want %q", got, "yes")
	}
	if got := ex.Request.Header.Get("X-Tag"); got != "t1" {
		t.Errorf("X-Tag = %q, want %q", got, "t1")
	}
}
