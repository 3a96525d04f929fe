package pluginhost

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

// startCall starts a call on d with timeout.
func startCall(d *deadlineTimer, timeout time.Duration) {
	now := time.Now()
	d.start(now, now.Add(timeout))
}

func TestDeadlineTimerHaltsOverrunningCall(t *testing.T) {
	halt := newHaltSignal()
	d := newDeadlineTimer(halt)

	startCall(d, 20*time.Millisecond)
	select {
	case <-halt.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("a call running past its 20 ms deadline was not halted within 5 s")
	}
	if !halt.expired.Load() {
		t.Error("halt fired without marking the deadline as its cause")
	}
	if d.finish() {
		t.Error("finish() = true for a halted call, want false so the VM retires")
	}
}

func TestDeadlineTimerSparesCallsThatEndInTime(t *testing.T) {
	halt := newHaltSignal()
	d := newDeadlineTimer(halt)

	// Each call runs for about 2 ms of a 200 ms timeout. So the timer
	// mostly fires while a later call runs, at the deadline of a call that
	// ended long ago, and it must halt none of them.
	stop := time.Now().Add(time.Second)
	calls := 0
	for time.Now().Before(stop) {
		startCall(d, 200*time.Millisecond)
		time.Sleep(2 * time.Millisecond)
		if !d.finish() {
			t.Fatalf("call %d, which ran for about 2 ms, was halted", calls)
		}
		calls++
	}
	time.Sleep(20 * time.Millisecond)
	if halt.fired.Load() {
		t.Fatalf("the VM was halted after %d calls that all ended in time", calls)
	}
}

func TestDeadlineTimerEarlierDeadlineAfterLaterOne(t *testing.T) {
	halt := newHaltSignal()
	d := newDeadlineTimer(halt)

	// The first call leaves the timer due in an hour; the second call's
	// deadline is 20 ms away and must still be kept.
	startCall(d, time.Hour)
	if !d.finish() {
		t.Fatal("first call was halted")
	}
	startCall(d, 20*time.Millisecond)
	select {
	case <-halt.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("the second call ran 5 s past its 20 ms deadline; the timer kept the first call's deadline")
	}
}

// deadlineHost records the deadline of the context that ctx.limit passes
// on and the caller of ctx.log. Other Host methods are not implemented.
type deadlineHost struct {
	Host

	deadline    time.Time
	hasDeadline bool
	caller      Caller
}

func (h *deadlineHost) Limit(ctx context.Context, backend, key string, limit int64, window time.Duration) (LimitResult, error) {
	h.deadline, h.hasDeadline = ctx.Deadline()
	return LimitResult{Allowed: true, Limit: limit, Remaining: limit - 1}, nil
}

func (h *deadlineHost) Log(caller Caller, level slog.Level, message string, fields map[string]any) {
	h.caller = caller
}

// deadlineSource makes one host call that waits, which receives the
// hook's deadline, and logs one line, which receives the caller.
const deadlineSource = `
func access(ctx, conf) {
  ctx.limit.local("k", 10, 60)
  ctx.log.info("called")
}`

func TestRunWithTimeoutFromCountsFromStart(t *testing.T) {
	instance := mustBind(t, deadlineSource, "")

	// A call that creates its VM counts from its own clock reading, and
	// the race detector makes sync.Pool drop a quarter of the VMs put
	// back, so the check may take a few calls to meet a pooled VM.
	var deadlines []time.Duration
	for range 10 {
		host := &deadlineHost{}
		ex := newExchange()
		ex.Host = host
		start := time.Now().Add(-time.Minute)
		if err := instance.RunWithTimeoutFrom(context.Background(), start, time.Hour, PhaseAccess, ex); err != nil {
			t.Fatalf("RunWithTimeoutFrom() error = %v", err)
		}
		if !host.hasDeadline {
			t.Fatal("ctx.limit got no deadline, want start plus the timeout")
		}
		if host.deadline.Equal(start.Add(time.Hour)) {
			return
		}
		deadlines = append(deadlines, host.deadline.Sub(start))
	}
	t.Errorf("deadlines after start = %v, want one of them to be exactly 1h", deadlines)
}

func TestRunWithTimeoutFromNewVM(t *testing.T) {
	// A new Instance has no idle VM, so the call creates one, and that
	// must not count against the hook's timeout: a start far in the past
	// would otherwise leave a deadline that passed already.
	instance := mustBind(t, deadlineSource, "")
	host := &deadlineHost{}
	ex := newExchange()
	ex.Host = host

	before := time.Now()
	start := before.Add(-time.Hour)
	if err := instance.RunWithTimeoutFrom(context.Background(), start, time.Minute, PhaseAccess, ex); err != nil {
		t.Fatalf("RunWithTimeoutFrom() error = %v", err)
	}

	if !host.hasDeadline {
		t.Fatal("ctx.limit got no deadline, want one minute after the call started")
	}
	if !host.deadline.After(before) {
		t.Errorf("deadline = %v, which is before the call (%v): the VM's creation counted against the timeout", host.deadline, before)
	}
}

func TestRunPassesCallerWithRequestID(t *testing.T) {
	p := mustCompile(t, deadlineSource)
	instance, err := p.BindWith(nil, BindOptions{Tenant: "acme", Binding: "b-1", AllowHosts: []string{"api.example.com"}})
	if err != nil {
		t.Fatalf("BindWith() error = %v", err)
	}

	for _, requestID := range []string{"req-1", "req-2"} {
		host := &deadlineHost{}
		ex := newExchange()
		ex.Host = host
		ex.RequestID = requestID
		mustRun(t, instance, PhaseAccess, ex)

		want := Caller{Tenant: "acme", Binding: "b-1", Plugin: "test", Version: "1.0.0", RequestID: requestID, AllowHosts: []string{"api.example.com"}}
		if !reflect.DeepEqual(host.caller, want) {
			t.Errorf("ctx.log caller = %+v, want %+v", host.caller, want)
		}
	}
}
