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
// be cleared after the watcher set it.

// errHalted is the fallback reason for a halted VM whose caller's context
// has not ended. Only retiring a VM while it runs could cause that, and the
// host never does.
var errHalted = errors.New("plugin VM was halted")

// haltSignal stops one VM for good.
type haltSignal struct {
	ch    chan struct{}
	once  sync.Once
	fired atomic.Bool
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

// callContext is the context.Context passed to one vm.Run or vm.Call. Values
// and the deadline come from the caller's context. Cancellation reaches the VM
// only through the VM's haltSignal.
type callContext struct {
	parent context.Context
	halt   *haltSignal

	// done is the haltSignal's channel for vm.Run, which starts the VM's
	// watcher, and nil for vm.Call, which must not start another one.
	done <-chan struct{}

	armOnce sync.Once
	stop    func() bool
}

func newRunContext(parent context.Context, halt *haltSignal) *callContext {
	return &callContext{parent: parent, halt: halt, done: halt.ch}
}

func newCallContext(parent context.Context, halt *haltSignal) *callContext {
	return &callContext{parent: parent, halt: halt}
}

// Done arms the deadline on its first call and returns the channel described
// at callContext.done.
//
// NOTE: for vm.Call, Done stays nil while Err turns non-nil once the VM was
// halted. This bends the context.Context contract on purpose, because the VM
// returns ctx.Err() when it stops on its halt flag.
func (c *callContext) Done() <-chan struct{} {
	c.armOnce.Do(c.arm)
	return c.done
}

func (c *callContext) arm() {
	if c.parent.Done() == nil {
		return
	}
	c.stop = context.AfterFunc(c.parent, c.halt.fire)
}

// disarm removes the deadline and reports whether the VM may run again. It
// must be called once the Run or Call has returned. It returns false as soon
// as the deadline's function started, which may be before the haltSignal
// fired, so Err can still return nil then.
func (c *callContext) disarm() bool {
	if c.stop != nil && !c.stop() {
		return false
	}
	return !c.halt.fired.Load()
}

// Err returns nil until the VM was halted, then haltCause.
func (c *callContext) Err() error {
	if !c.halt.fired.Load() {
		return nil
	}
	return c.haltCause()
}

// haltCause returns why the VM was halted or is about to be: the caller's
// error, or errHalted when the VM was retired.
func (c *callContext) haltCause() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	return errHalted
}

// Deadline returns the caller's deadline.
func (c *callContext) Deadline() (time.Time, bool) {
	return c.parent.Deadline()
}

// Value returns the caller's value for key.
func (c *callContext) Value(key any) any {
	return c.parent.Value(key)
}
