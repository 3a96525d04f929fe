package sandbox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// loadSet loads bindings for tenant acme and returns the set with its
// chain. Without static, the set drops the static hooks that the worker
// sent, so every step runs in the worker.
func loadSet(t *testing.T, pool *Pool, static bool, bindings ...worker.Binding) (*Set, *chain.Chain) {
	t.Helper()
	set, err := pool.Load("acme", bindings)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !static {
		for i := range set.bindings {
			set.bindings[i].static = worker.StaticHooks{}
		}
	}
	steps := make([]chain.Step, len(bindings))
	for i, b := range bindings {
		steps[i] = chain.Step{Binding: b.ID, Plugin: b.Plugin, Version: b.Version, Remote: set.Step(i)}
	}
	return set, chain.New(steps)
}

// exchangeWithRoom returns exchange() with its request header padded so
// that room bytes remain below pluginhost.MaxHeaderBytes.
func exchangeWithRoom(room int) *pluginhost.Exchange {
	ex := exchange()
	size := 0
	for i := 0; pluginhost.MaxHeaderBytes-room-size > 8000; i++ {
		name, value := fmt.Sprintf("X-Fill-%d", i), strings.Repeat("p", 4000)
		ex.Request.Header.Set(name, value)
		size += len(name) + len(value)
	}
	const padName = "X-Pad"
	ex.Request.Header.Set(padName, strings.Repeat("p", pluginhost.MaxHeaderBytes-room-size-len(padName)))
	return ex
}

// TestStaticFailureBlamesFailingBinding checks that a static change that
// fails in the edge leaves the exchange as it was for the worker. Had the
// edge kept step a's header, which step b deletes before it grows the
// header with X-B, the worker's run would fail step a at the size limit
// and blame binding a for binding b's invalid header name.
func TestStaticFailureBlamesFailingBinding(t *testing.T) {
	value := strings.Repeat("v", 4000)
	setA := `func rewrite(ctx, conf) {
	ctx.req.set_header("X-A", "` + value + `")
}
`
	deleteAndFail := `func rewrite(ctx, conf) {
	ctx.req.del_header("X-A")
	ctx.req.set_header("X-B", "` + value + `")
	ctx.req.set_header("bad name", "v")
}
`
	pool, _ := newPool(t, Config{})

	for _, static := range []bool{false, true} {
		_, c := loadSet(t, pool, static, testBinding("a", setA), testBinding("b", deleteAndFail))
		err := c.Run(context.Background(), pluginhost.PhaseRewrite, exchangeWithRoom(6000))

		var stepErr *chain.Error
		if !errors.As(err, &stepErr) {
			t.Fatalf("static %v: Run(rewrite) = %v, want a *chain.Error", static, err)
		}
		if stepErr.Step.Binding != "b" || !strings.Contains(err.Error(), `invalid header name "bad name"`) {
			t.Errorf("static %v: Run(rewrite) failed binding %q with %v, want binding b with the invalid header name", static, stepErr.Step.Binding, err)
		}
	}
}

// TestStaticChecksExchange checks that the edge's static path applies
// pluginhost.CheckExchange, as the worker does after each hook: a
// header_filter hook on a response whose status is not final fails.
func TestStaticChecksExchange(t *testing.T) {
	source := `func header_filter(ctx, conf) {
	ctx.resp.set_header("X-Served", "edge")
}
`
	pool, _ := newPool(t, Config{})

	for _, static := range []bool{false, true} {
		_, c := loadSet(t, pool, static, testBinding("a", source))
		ex := exchange()
		ex.Response.Status = 999

		err := c.Run(context.Background(), pluginhost.PhaseHeaderFilter, ex)
		if err == nil || !strings.Contains(err.Error(), "response status 999 is invalid") {
			t.Errorf("static %v: Run(header_filter) = %v, want the invalid status", static, err)
		}
	}
}

// TestStaticBatchErrorLeavesExchange checks that an error from RunBatch
// leaves the exchange unchanged, as chain.Batch promises, when a static
// change failed in the edge and the worker's call failed too.
func TestStaticBatchErrorLeavesExchange(t *testing.T) {
	pool, _ := newPool(t, Config{})
	set, _ := loadSet(t, pool, true, staticBinding("a", "X-A"), staticBinding("b", "bad name"))
	// Every call that needs a worker fails once the pool is closed.
	pool.Close()

	ex := exchange()
	steps := []worker.Step{{Index: 0}, {Index: 1}}
	if _, err := set.RunBatch(context.Background(), pluginhost.PhaseRewrite, steps, ex); err == nil {
		t.Fatal("RunBatch(rewrite) succeeded with the pool closed, want an error")
	}
	if got := ex.Request.Header.Get("X-A"); got != "" {
		t.Errorf("X-A = %q after RunBatch failed, want the exchange unchanged", got)
	}
}

// The edge takes the static hooks from the worker's loaded frame, through
// checkStatic as Pool.Load does. A frame whose mask names a phase without
// changes must not crash the edge.
func TestStaticMalformedHooksGoToWorker(t *testing.T) {
	idx := slices.Index(pluginhost.Phases, pluginhost.PhaseRewrite)
	static := checkStatic(worker.StaticHooks{Mask: 1 << idx})
	set := &Set{bindings: []binding{{id: "a", hooks: 1 << idx, static: static}}}

	defer func() {
		if r := recover(); r != nil {
			t.Errorf("runStatic panicked on a mask without changes: %v", r)
		}
	}()
	ex := exchange()
	if _, ok := set.runStatic(context.Background(), pluginhost.PhaseRewrite, []worker.Step{{Index: 0}}, ex); ok {
		t.Errorf("runStatic() = true for a mask without changes, want the call left to the worker")
	}
	if len(ex.Request.Header) != 0 {
		t.Errorf("request header = %v, want it unchanged", ex.Request.Header)
	}
}

// A static hook with an empty body has no changes, which the loaded frame
// must still carry as a static hook through gob.
func TestStaticEmptyHookWithoutWorker(t *testing.T) {
	pool, _ := newPool(t, Config{})
	_, c := loadSet(t, pool, true, testBinding("a", "func rewrite(ctx, conf) {\n}\n"), staticBinding("b", "X-B"))
	pool.Close()

	ex := exchange()
	if err := c.Run(context.Background(), pluginhost.PhaseRewrite, ex); err != nil {
		t.Fatalf("Run(rewrite) = %v, want both hooks run in the edge", err)
	}
	if got := ex.Request.Header.Get("X-B"); got != "tag-b" {
		t.Errorf("X-B = %q, want %q", got, "tag-b")
	}
}
