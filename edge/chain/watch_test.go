package chain

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// idleRemote is a worker step that the tests never run.
type idleRemote struct{}

func (idleRemote) Has(phase pluginhost.Phase) bool { return phase == pluginhost.PhaseAccess }

func (idleRemote) Batch() Batch { return nil }

func (idleRemote) Index() int { return 0 }

func TestWatchRequestOnlyForInProcessSteps(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	local := New([]Step{step(t, "local", appendSource("rewrite"), `{"mark":"a"}`)})
	watched, stop := local.WatchRequest(ctx)
	defer stop()
	if watched == ctx {
		t.Error("WatchRequest of a chain with an in-process step returned ctx, want a watched context")
	}

	remote := New([]Step{{Binding: "b-remote", Plugin: "remote", Version: "1.0.0", Remote: idleRemote{}}})
	unwatched, stopRemote := remote.WatchRequest(ctx)
	defer stopRemote()
	if unwatched != ctx {
		t.Error("WatchRequest of a chain of worker steps returned a new context, want ctx")
	}

	static := New([]Step{step(t, "static", staticSource, `{"value":"a"}`)})
	unwatched, stopStatic := static.WatchRequest(ctx)
	defer stopStatic()
	if unwatched != ctx {
		t.Error("WatchRequest of a chain of static hooks returned a new context, want ctx")
	}
}

// staticSource is a plugin whose hooks are static: they set headers from
// its config and run without the VM.
const staticSource = `func rewrite(ctx, conf) { ctx.req.set_header("X-Static", conf["value"]) }
func header_filter(ctx, conf) { ctx.resp.set_header("X-Static", conf["value"]) }`

// A static hook that cannot make its changes runs in the VM, which reports
// the error, although the chain took no watch for the request.
func TestStaticFallbackRunsWithoutWatch(t *testing.T) {
	steps := make([]Step, 3)
	for i := range steps {
		// A control character in the value fails the static change.
		steps[i] = step(t, fmt.Sprintf("static-%d", i), staticSource, `{"value":"a\u0001"}`)
	}
	chain := New(steps)
	ctx, stop := chain.WatchRequest(context.Background())
	defer stop()

	ex := NewExchange(httptest.NewRequest("GET", "/x", nil))
	err := chain.RunRequest(ctx, ex)
	if err == nil || !strings.Contains(err.Error(), "control characters are not allowed") {
		t.Fatalf("RunRequest error = %v, want the VM's error for the control character", err)
	}
	if got := ex.Request.Header.Get("X-Static"); got != "" {
		t.Errorf("X-Static = %q after the failed hook, want it unset", got)
	}
}

func TestWatchRequestStopsHookOnCancel(t *testing.T) {
	chain := New([]Step{
		step(t, "first", appendSource("rewrite"), `{"mark":"a"}`),
		step(t, "second", appendSource("rewrite"), `{"mark":"b"}`),
		step(t, "spin", `func access(ctx, conf) { for { } }`, `{}`),
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watched, stop := chain.WatchRequest(ctx)
	defer stop()
	time.AfterFunc(20*time.Millisecond, cancel)

	ex := NewExchange(httptest.NewRequest("GET", "/x", nil))
	err := chain.RunRequest(watched, ex)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("RunRequest error = %v, want one that wraps context.Canceled", err)
	}
	if got := ex.Request.Header.Get("X-Order"); got != "ab" {
		t.Errorf("X-Order = %q, want %q from the rewrite steps before the cancel", got, "ab")
	}
}

func TestObserverMemoPerGuardAndPhase(t *testing.T) {
	source := `func rewrite(ctx, conf) { ctx.req.set_header("X-A", "1") }
func access(ctx, conf) { ctx.req.set_header("X-B", "1") }`
	supervisor := NewSupervisor(nil)
	memos := map[string]*atomic.Value{}
	supervisor.SetObserver(func(_ context.Context, call HookCall) {
		key := call.Step.Plugin + "/" + call.Phase
		if call.Memo == nil {
			t.Errorf("%s: Memo = nil, want the guard's slot of the phase", key)
			return
		}
		if seen, ok := memos[key]; ok && seen != call.Memo {
			t.Errorf("%s: Memo changed between calls, want one per guard and phase", key)
		}
		memos[key] = call.Memo
	})
	steps := []Step{step(t, "one", source, `{}`), step(t, "two", source, `{}`)}
	for i := range steps {
		steps[i].Guard = supervisor.Guard("acme", steps[i], time.Second, false)
	}
	chain := New(steps)

	for range 3 {
		ex := NewExchange(httptest.NewRequest("GET", "/x", nil))
		if err := chain.RunRequest(context.Background(), ex); err != nil {
			t.Fatalf("RunRequest: %v", err)
		}
	}

	if len(memos) != 4 {
		t.Fatalf("observed %d plugin and phase pairs, want 4", len(memos))
	}
	distinct := map[*atomic.Value]bool{}
	for _, memo := range memos {
		distinct[memo] = true
	}
	if len(distinct) != 4 {
		t.Errorf("%d distinct memos for 2 guards in 2 phases, want 4", len(distinct))
	}
}
