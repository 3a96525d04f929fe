package pluginhost

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// clockStart is the origin of the monotonic nanosecond counts that
// deadlineTimer compares.
var clockStart = time.Now()

// sinceStart returns the monotonic time since clockStart of t.
func sinceStart(t time.Time) int64 {
	return int64(t.Sub(clockStart))
}

// expiredCall is the state of a deadlineTimer that halted its call.
const expiredCall = math.MaxUint64

// deadlineTimer enforces the binding timeouts of one VM's hook calls with
// a single timer that is not reset per call. A call records its deadline
// and marks itself running; the timer is started only when it is idle or
// due after that deadline. When the timer fires it halts the call that is
// still running past its deadline, re-arms for a running call whose
// deadline lies ahead, and rests while the VM is idle. Under load a VM thus
// touches the runtime's timer about once per timeout instead of twice per
// call.
//
// state is the call number shifted left by one, with the low bit set while
// that call runs, or expiredCall once the timer halted a call. finish and
// fire both compare-and-swap it from the running call's value, so only one
// of them wins for each call, and a firing that read an earlier call's
// state cannot halt a later call.
type deadlineTimer struct {
	halt *haltSignal

	state    atomic.Uint64
	deadline atomic.Int64 // sinceStart of the running call's deadline

	// calls counts the timed calls. Only the VM's goroutine uses it.
	calls uint64

	mu    sync.Mutex
	timer *time.Timer
	// due is the sinceStart time the timer fires at, or zero while it
	// rests.
	due int64
}

func newDeadlineTimer(halt *haltSignal) *deadlineTimer {
	return &deadlineTimer{halt: halt}
}

// start marks a call running until deadline, a time after now.
func (d *deadlineTimer) start(now, deadline time.Time) {
	d.calls++
	end := sinceStart(deadline)
	d.deadline.Store(end)
	d.state.Store(d.calls<<1 | 1)

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.due != 0 && d.due <= end {
		return
	}
	d.due = end
	wait := deadline.Sub(now)
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.fire)
		return
	}
	d.timer.Reset(wait)
}

// finish ends the running call. It returns false when the timer halted
// the call, and then the VM must not run again.
func (d *deadlineTimer) finish() bool {
	running := d.calls<<1 | 1
	return d.state.CompareAndSwap(running, running&^1)
}

// fire is the timer's function.
func (d *deadlineTimer) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()

	d.due = 0
	state := d.state.Load()
	if state&1 == 0 || state == expiredCall {
		return
	}

	now := sinceStart(time.Now())
	end := d.deadline.Load()
	if now < end {
		d.due = end
		d.timer.Reset(time.Duration(end - now))
		return
	}
	if d.state.CompareAndSwap(state, expiredCall) {
		d.halt.expire()
	}
}
