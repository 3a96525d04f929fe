package pluginhost

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// How a deadline stops a hook, for Risor v1.8.1 (vm/vm.go):
//
// The VM checks an internal halt flag before every instruction. Only a
// watcher goroutine sets it, and VirtualMachine.start launches one per Run or
// Call whose ctx.Done() is non-nil. The watcher waits on that channel for as
// long as it stays open, even after the call returned, and a pooled VM would
// then be halted in the middle of a later request. start also clears the flag
// with a plain write, which races with a late watcher.
//
// So each VM has exactly one watcher: the one that vm.Run starts while it runs
// the plugin's top-level code, parked on the VM's haltSignal. Hook calls pass
// a callContext whose Done returns nil, so vm.Call starts no watcher. When the
// caller's context ends during a call, the haltSignal fires, the watcher sets
// the flag, and the VM is never used again. The deadline is armed inside
// Done, which start calls right after it clears the flag, so the flag cannot
// be cleared after the watcher set it. A VM that calls its hooks directly
// (directcall.go) skips start: invoke calls Done itself, and nothing
// clears the flag.
//
// The caller's context is followed with context.AfterFunc, or, for calls
// under WatchHooks, through one registration shared by a series of calls.
//
// A binding's timeout needs no context of its own: each VM keeps one
// deadlineTimer, whose timer fires the haltSignal like the caller's context
// does, but only for the call that is still running past its deadline. A
// VM whose call the timer halted is retired.

// errHalted is the fallback reason for a halted VM whose caller's context
// has not ended. Only retiring a VM while it runs could cause that, and the
// host never does.
var errHalted = errors.New("plugin VM was halted")

// haltSignal stops one VM for good.
type haltSignal struct {
	ch    chan struct{}
	once  sync.Once
	fired atomic.Bool

	// expired records that the binding's timeout, not the caller's
	// context, ended the call.
	expired atomic.Bool
}

func newHaltSignal() *haltSignal {
	return &haltSignal{ch: make(chan struct{})}
}

// fire wakes the VM's watcher, which halts the VM. Later calls do nothing.
func (s *haltSignal) fire() {
	s.once.Do(func() {
		s.fired.Store(true)
		close(s.ch)
	})
}

// expire is fire for a call whose binding timeout passed.
func (s *haltSignal) expire() {
	s.expired.Store(true)
	s.fire()
}

// callContext is the context.Context passed to one vm.Run or vm.Call. Values
// come from the caller's context, and the deadline is the earlier of the
// caller's and the binding's timeout. Cancellation reaches the VM only
// through the VM's haltSignal.
//
// A preparedVM reuses one callContext for all its hook calls, which reset
// it first. That is safe because a VM runs one call at a time, only the
// VM's goroutine reads the callContext, and no script value outlives the
// call: top-level variables hold only functions and constants.
type callContext struct {
	parent context.Context
	halt   *haltSignal

	// done is the haltSignal's channel for vm.Run, which starts the VM's
	// watcher, and nil for vm.Call, which must not start another one.
	done <-chan struct{}

	// timeout is the binding's limit for this call, zero for none, and
	// deadline is when it ends: timeout after start, or after arm when
	// start is zero. timer is kept across the calls of one VM and
	// enforces the deadline of each call that has one.
	timeout  time.Duration
	start    time.Time
	deadline time.Time
	timer    *deadlineTimer

	// armed records that Done armed this call. watch follows the caller's
	// context when the caller set one up with WatchHooks, and stopParent
	// otherwise.
	armed      atomic.Bool
	watch      *hookWatch
	stopParent func() bool

	// direct runs the VM's hook calls without vm.Call's setup once a
	// host method has recorded it, and reset keeps it.
	direct *directCall
}

func newRunContext(parent context.Context, halt *haltSignal) *callContext {
	return &callContext{parent: parent, halt: halt, done: halt.ch}
}

// newCallContext returns the callContext that a VM with halt reuses for
// its hook calls.
func newCallContext(halt *haltSignal) *callContext {
	return &callContext{halt: halt, timer: newDeadlineTimer(halt)}
}

// reset prepares c for a vm.Call under parent, with an extra limit of
// timeout after start when timeout is positive. It keeps the VM's
// haltSignal and timer.
func (c *callContext) reset(parent context.Context, start time.Time, timeout time.Duration) {
	*c = callContext{parent: parent, halt: c.halt, timeout: timeout, start: start, timer: c.timer, direct: c.direct}
}

// Done arms the deadline on its first call and returns the channel described
// at callContext.done.
//
// NOTE: for vm.Call, Done stays nil while Err turns non-nil once the VM was
// halted. This bends the context.Context contract on purpose, because the VM
// returns ctx.Err() when it stops on its halt flag.
func (c *callContext) Done() <-chan struct{} {
	if c.armed.CompareAndSwap(false, true) {
		c.arm()
	}
	return c.done
}

// arm starts the binding's timer and follows the caller's context. Both fire
// the VM's haltSignal, which retires the VM.
func (c *callContext) arm() {
	if c.timeout > 0 {
		now := c.start
		if now.IsZero() {
			now = time.Now()
		}
		c.deadline = now.Add(c.timeout)
		c.timer.start(now, c.deadline)
	}
	if c.parent.Done() == nil {
		return
	}
	if watch := watchOf(c.parent); watch != nil && watch.enter(c.halt) {
		c.watch = watch
		return
	}
	c.stopParent = context.AfterFunc(c.parent, c.halt.fire)
}

// disarm removes the deadline and reports whether the VM may run again. It
// must be called once the Run or Call has returned. It returns false once
// the deadline timer decided to halt the call, which may be before the
// haltSignal fired, so Err can still return nil then.
func (c *callContext) disarm() bool {
	if !c.armed.Load() {
		return !c.halt.fired.Load()
	}

	reusable := true
	if c.watch != nil {
		c.watch.leave()
	}
	if c.stopParent != nil && !c.stopParent() {
		reusable = false
	}
	if c.timeout > 0 && !c.timer.finish() {
		reusable = false
	}
	return reusable && !c.halt.fired.Load()
}

// Err returns nil until the VM was halted, then haltCause.
func (c *callContext) Err() error {
	if !c.halt.fired.Load() {
		return nil
	}
	return c.haltCause()
}

// haltCause returns why the VM was halted or is about to be: the caller's
// error, context.DeadlineExceeded when the binding's timeout passed, or
// errHalted when the VM was retired.
func (c *callContext) haltCause() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if c.halt.expired.Load() {
		return context.DeadlineExceeded
	}
	return errHalted
}

// Deadline returns the earlier of the caller's deadline and the binding's.
func (c *callContext) Deadline() (time.Time, bool) {
	deadline, ok := c.parent.Deadline()
	if c.timeout > 0 && c.armed.Load() && (!ok || c.deadline.Before(deadline)) {
		return c.deadline, true
	}
	return deadline, ok
}

// Value returns the caller's value for key.
func (c *callContext) Value(key any) any {
	return c.parent.Value(key)
}
