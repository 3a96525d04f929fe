package chain

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

// staticAccessSource is a plugin whose access hook is static.
const staticAccessSource = `func access(ctx, conf) { ctx.req.set_header("X-Static", conf["value"]) }`

// A phase that mixes static hooks with a spinning VM hook must still stop
// the VM hook when the request is cancelled, with and without the
// request's shared watch, and when the hook's deadline passes.
func TestMixedStaticChainStopsSpinningHook(t *testing.T) {
	steps := func() []Step {
		return []Step{
			step(t, "static-a", staticAccessSource, `{"value":"a"}`),
			step(t, "spin", `func access(ctx, conf) { for { } }`, `{}`),
			step(t, "static-b", staticAccessSource, `{"value":"b"}`),
		}
	}

	for _, shared := range []bool{true, false} {
		chain := New(steps())
		ctx, cancel := context.WithCancel(context.Background())
		runCtx := ctx
		if shared {
			var stop func() bool
			runCtx, stop = chain.WatchRequest(ctx)
			defer stop()
		}
		time.AfterFunc(20*time.Millisecond, cancel)

		ex := NewExchange(httptest.NewRequest("GET", "/x", nil))
		done := make(chan error, 1)
		go func() { done <- chain.RunRequest(runCtx, ex) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("shared watch %v: RunRequest error = %v, want one that wraps context.Canceled", shared, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("shared watch %v: spinning hook still runs 5s after the cancel", shared)
		}
		cancel()
	}

	timed := steps()
	supervisor := NewSupervisor(nil)
	for i := range timed {
		timed[i].Guard = supervisor.Guard("acme", timed[i], 20*time.Millisecond, false)
	}
	chain := New(timed)
	ctx, stop := chain.WatchRequest(context.Background())
	defer stop()
	ex := NewExchange(httptest.NewRequest("GET", "/x", nil))
	done := make(chan error, 1)
	go func() { done <- chain.RunRequest(ctx, ex) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("RunRequest error = %v, want one that wraps context.DeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("spinning hook still runs 5s after its 20ms deadline")
	}
}
