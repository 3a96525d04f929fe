package pluginhost

import (
	"context"
	"errors"
	"testing"
	"time"
)

// directSource reads a header through a host method, calls back into the
// script through a builtin (list.map), and loops forever for X-Mode loop.
const directSource = `
func access(ctx, conf) {
  if ctx.req.header("X-Mode") == "loop" {
    for { }
  }
  doubled := [1, 2, 3].map(func(x) { return x * 2 })
  ctx.req.set_header("X-Out", string(doubled[2]))
}`

// newDirectVM returns an instance of source and a prepared VM of it that
// is not in the instance's pool, so the test controls every call on it.
func newDirectVM(t *testing.T, source string) (*Instance, *preparedVM) {
	t.Helper()
	instance := mustBind(t, source, `{}`)
	pvm, err := newPreparedVM(context.Background(), instance.plugin)
	if err != nil {
		t.Fatalf("newPreparedVM() error = %v", err)
	}
	t.Cleanup(pvm.retire)
	return instance, pvm
}

// runDirect runs the access hook on pvm with X-Mode set to mode.
func runDirect(ctx context.Context, instance *Instance, pvm *preparedVM, mode string, timeout time.Duration) (*Exchange, bool, error) {
	ex := newExchange()
	ex.Request.Header.Set("X-Mode", mode)
	idx, _ := phaseIndex(PhaseAccess)
	reusable, _, err := instance.runOn(ctx, pvm, time.Time{}, timeout, idx, ex)
	return ex, reusable, err
}

func TestDirectCallLearnedFromHostMethod(t *testing.T) {
	instance, pvm := newDirectVM(t, directSource)
	if pvm.callCtx.direct != nil {
		t.Fatal("a new VM has a direct call before any hook ran")
	}

	for call := range 3 {
		ex, reusable, err := runDirect(context.Background(), instance, pvm, "", 0)
		if err != nil || !reusable {
			t.Fatalf("call %d: error = %v, reusable = %v, want nil and true", call, err, reusable)
		}
		if got := ex.Request.Header.Get("X-Out"); got != "6" {
			t.Fatalf("call %d: X-Out = %q, want %q", call, got, "6")
		}
		if pvm.callCtx.direct == nil {
			t.Fatalf("call %d: the VM did not learn its direct call from the host methods", call)
		}
	}
}

func TestDirectCallNotLearnedWithoutHostMethod(t *testing.T) {
	instance, pvm := newDirectVM(t, `func access(ctx, conf) { x := [1].map(func(v) { return v }) }`)
	if _, _, err := runDirect(context.Background(), instance, pvm, "", 0); err != nil {
		t.Fatalf("run error = %v", err)
	}
	if pvm.callCtx.direct != nil {
		t.Error("the VM learned a direct call although the hook called no host method")
	}
}

func TestDirectCallStopsEndlessHook(t *testing.T) {
	tests := []struct {
		name    string
		ctx     func() (context.Context, context.CancelFunc)
		timeout time.Duration
		wantErr error
	}{
		{"binding timeout", func() (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}, 20 * time.Millisecond, context.DeadlineExceeded},
		{"caller's deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, 0, context.DeadlineExceeded},
		{"caller cancels under WatchHooks", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			watched, stop := WatchHooks(ctx)
			time.AfterFunc(20*time.Millisecond, cancel)
			return watched, func() { stop(); cancel() }
		}, 0, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			instance, pvm := newDirectVM(t, directSource)
			if _, _, err := runDirect(context.Background(), instance, pvm, "", 0); err != nil || pvm.callCtx.direct == nil {
				t.Fatalf("first call: error = %v, direct call learned = %v", err, pvm.callCtx.direct != nil)
			}

			ctx, cancel := tt.ctx()
			defer cancel()
			began := time.Now()
			_, reusable, err := runDirect(ctx, instance, pvm, "loop", tt.timeout)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("endless call error = %v, want %v", err, tt.wantErr)
			}
			if reusable {
				t.Error("a halted VM is reported reusable")
			}
			if took := time.Since(began); took > 2*time.Second {
				t.Errorf("the endless call ended after %v, want about 20ms", took)
			}
		})
	}
}
