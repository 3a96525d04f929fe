package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/risor-io/risor/object"
	"github.com/risor-io/risor/vm"
)

// mainRunTimeout bounds the plugin's top-level code, which only needs to
// define functions and constants. It stops a top-level endless loop, both at
// Compile and when a pool creates a VM.
const mainRunTimeout = time.Second

// preparedVM is a Risor VM that already ran the plugin's top-level code. A
// Risor VM runs one call at a time, so a preparedVM has one user at a time.
type preparedVM struct {
	machine *vm.VirtualMachine
	halt    *haltSignal

	// callCtx and host are reset for each hook call. See callContext and
	// hostObjects for why reuse is safe. They are separate allocations that
	// do not point back to the preparedVM. The Risor VM keeps the last
	// call's arguments on its stack, and its watcher goroutine keeps the VM
	// alive. A pointer from there to the preparedVM would stop the cleanup
	// that retires it.
	callCtx *callContext
	host    *hostObjects

	// conf is this VM's deep copy of its Instance's config, nil until a
	// hook first reads it, and confLent is true while a call holds it. See
	// Instance.configFor.
	conf     object.Object
	confLent bool

	// hooks contains this VM's function for each phase, indexed like
	// phaseOrder, or nil. Functions are looked up per VM because a function
	// may close over the globals of the VM that created it.
	hooks [phaseCount]*object.Function
}

// newPreparedVM creates a VM for p and runs p's top-level code on it.
func newPreparedVM(ctx context.Context, p *Plugin) (*preparedVM, error) {
	ctx, cancel := context.WithTimeout(ctx, mainRunTimeout)
	defer cancel()

	pvm := &preparedVM{machine: newSandboxVM(p.code), halt: newHaltSignal()}
	pvm.callCtx = newCallContext(pvm.halt)
	pvm.host = &hostObjects{vmCall: pvm.callCtx}
	pvm.host.wire()

	// The watcher goroutine keeps the VM alive until its haltSignal fires, so fire
	// it once the preparedVM is garbage, for example after sync.Pool dropped
	// it.
	runtime.AddCleanup(pvm, (*haltSignal).fire, pvm.halt)

	runCtx := newRunContext(ctx, pvm.halt)
	err := pvm.machine.Run(runCtx)
	if !runCtx.disarm() && err == nil {
		// The deadline passed right after the code finished, and the VM
		// is halted now or soon.
		err = runCtx.haltCause()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		pvm.retire()
		return nil, fmt.Errorf("run top-level code: it ran longer than %s: keep the top level to functions and constants, and do the work in the hooks: %w", mainRunTimeout, err)
	}
	if err != nil {
		pvm.retire()
		// Risor reports a Go runtime error, such as a division by zero, as
		// a recovered panic. The word "panic" would read like a host crash.
		return nil, &topLevelError{message: strings.TrimPrefix(err.Error(), "panic: "), ip: pvm.machine.GetIP()}
	}

	hooks, err := lookupHooks(pvm.machine)
	if err != nil {
		pvm.retire()
		return nil, err
	}
	pvm.hooks = hooks
	return pvm, nil
}

// call runs the hook at phase index idx under ctx and, when timeout is
// positive, at most until start plus timeout, or from now when start is
// zero. reusable is false when the VM must not run again: it was halted,
// or Risor recovered a panic inside it.
func (pvm *preparedVM) call(ctx context.Context, start time.Time, timeout time.Duration, idx int, args []object.Object) (reusable bool, err error) {
	callCtx := pvm.callCtx
	callCtx.reset(ctx, start, timeout)
	panicked, err := pvm.invoke(pvm.hooks[idx], args)

	reusable = callCtx.disarm()
	// Drop the caller's context, so an idle VM does not keep a request alive.
	callCtx.parent = context.Background()
	if panicked {
		// The VM's stacks may be inconsistent after a recovered panic.
		reusable = false
	}
	return reusable, err
}

// retire stops the VM's watcher goroutine. The VM must not run again.
func (pvm *preparedVM) retire() {
	pvm.halt.fire()
}

// lookupHooks returns the phase functions that the top-level code defined.
func lookupHooks(machine *vm.VirtualMachine) ([phaseCount]*object.Function, error) {
	var hooks [phaseCount]*object.Function
	for i, ph := range phaseOrder {
		value, err := machine.Get(string(ph))
		if errors.Is(err, vm.ErrGlobalNotFound) {
			continue
		}
		if err != nil {
			return hooks, fmt.Errorf("look up %q: %w", ph, err)
		}

		fn, err := hookFunction(ph, value)
		if err != nil {
			return hooks, err
		}
		hooks[i] = fn
	}
	return hooks, nil
}

// hookFunction checks that value is a function that accepts (ctx, conf).
func hookFunction(ph Phase, value object.Object) (*object.Function, error) {
	fn, ok := value.(*object.Function)
	if !ok {
		return nil, fmt.Errorf("%q must be a function taking (ctx, conf), but it is a %s", ph, value.Type())
	}

	params := len(fn.Parameters())
	if params < 2 || fn.RequiredArgsCount() > 2 {
		return nil, fmt.Errorf("function %q has %d parameter(s), want 2: declare it as %s(ctx, conf)", ph, params, ph)
	}
	return fn, nil
}

// vmPool keeps prepared VMs of one Instance for reuse across requests.
type vmPool struct {
	plugin *Plugin
	idle   sync.Pool
}

// get returns an idle VM, or creates one and reports created. Creating a
// VM runs the top-level code, which Compile proved to end within
// mainRunTimeout, so it keeps ctx's values but not its deadline: a pool
// that must grow under load does not fail hooks.
func (pool *vmPool) get(ctx context.Context) (pvm *preparedVM, created bool, err error) {
	if idle, ok := pool.idle.Get().(*preparedVM); ok {
		return idle, false, nil
	}
	pvm, err = newPreparedVM(context.WithoutCancel(ctx), pool.plugin)
	return pvm, true, err
}

// put returns pvm to the pool when reusable, and retires it otherwise.
func (pool *vmPool) put(pvm *preparedVM, reusable bool) {
	if !reusable {
		pvm.retire()
		return
	}
	pool.idle.Put(pvm)
}
