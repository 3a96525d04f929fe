package sandbox

import (
	"context"
	"errors"
	"strings"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/plugins-marketplace/worker"
)

// stampSource sets X-Stamp from its config on every request.
const stampSource = `func rewrite(ctx, conf) {
	ctx.req.set_header("X-Stamp", conf["stamp"])
}
`

func TestPoolTraceRunsChain(t *testing.T) {
	pool, _ := newPool(t, Config{})
	steps := []pluginpkg.TraceSource{
		{Binding: "b1", Plugin: "stamp", Version: "1.0.0", Source: stampSource, Config: []byte(`{"stamp":"one"}`)},
		{Binding: "b2", Plugin: "guard", Version: "1.0.0", Source: guardSource, Config: []byte(`{"mode":"deny"}`)},
	}

	trace, err := pool.Trace(context.Background(), "acme", worker.Trace{Steps: steps, Request: pluginpkg.VectorRequest{Path: "/"}})
	if err != nil {
		t.Fatalf("Trace: %v", err)
	}
	if len(trace.Effects) != 2 {
		t.Fatalf("effects = %+v, want the stamp and the exit", trace.Effects)
	}
	if got := trace.Effects[0].HeadersSet["X-Stamp"]; got != "one" {
		t.Errorf("first effect sets X-Stamp %q, want %q", got, "one")
	}
	if trace.Exit == nil || trace.Exit.Status != 403 {
		t.Errorf("exit = %+v, want the guard's 403", trace.Exit)
	}
	waitFor(t, "the trace's worker to stop", func() bool { return pool.Workers() == 0 })
}

func TestPoolTraceWorkerDeath(t *testing.T) {
	pool, _ := newPool(t, Config{})
	overflow := `func access(ctx, conf) {
	a := [1]
	a.append(a)
	b := [1]
	b.append(b)
	same := a == b
}
`
	steps := []pluginpkg.TraceSource{{Binding: "b1", Plugin: "overflow", Version: "1.0.0", Source: overflow}}

	_, err := pool.Trace(context.Background(), "acme", worker.Trace{Steps: steps, Request: pluginpkg.VectorRequest{Path: "/"}})
	if err == nil || !strings.Contains(err.Error(), "plugin worker of tenant \"acme\" failed") {
		t.Fatalf("Trace error = %v, want the worker's failure", err)
	}
}

func TestPoolVerifyCompileOnly(t *testing.T) {
	pool, _ := newPool(t, Config{})

	if err := pool.Verify(context.Background(), "acme", worker.Verify{Plugin: "stamp", Version: "1.0.0", Source: stampSource}); err != nil {
		t.Errorf("Verify without vectors of compiling source: %v, want nil", err)
	}

	err := pool.Verify(context.Background(), "acme", worker.Verify{Plugin: "broken", Version: "1.0.0", Source: "func access(ctx, conf) {\n  x := \n}\n"})
	var compileErr *pluginhost.CompileError
	if !errors.As(err, &compileErr) || compileErr.Line != 2 {
		t.Errorf("Verify of broken source: %v, want a *pluginhost.CompileError on line 2", err)
	}
}
