package pluginhost

import (
	"context"
	"fmt"
	"strings"

	"github.com/risor-io/risor/object"
	risoros "github.com/risor-io/risor/os"
)

// directCall runs a VM's hook calls without the setup of vm.Call, which in
// Risor v1.8.1 locks the VM twice and wraps the context in two new values
// per call. Its call function is the one Risor passes to builtins through
// the context (object.GetCallFunc), and its context is built once per VM.
// A preparedVM runs one call at a time and never runs again once halted,
// so vm.Call's running mark adds nothing.
type directCall struct {
	call object.CallFunc
	ctx  context.Context
}

// learn records the call function and OS of the VM that runs the current
// call, from the context that Risor gave a host method. It does nothing
// once recorded, or when ctx lacks either.
func (c *callContext) learn(ctx context.Context) {
	if c.direct != nil {
		return
	}
	call, ok := object.GetCallFunc(ctx)
	if !ok {
		return
	}
	vmOS, ok := risoros.GetOS(ctx)
	if !ok {
		return
	}

	// The context refers to c, whose fields each call resets, so it serves
	// every later call of the VM.
	ctx = object.WithCallFunc(risoros.WithOS(c, vmOS), call)
	c.direct = &directCall{call: call, ctx: ctx}
}

// invoke runs fn with args on pvm and reports whether the VM recovered
// from a panic, after which it must not run again. It uses vm.Call until
// the VM's directCall is known.
func (pvm *preparedVM) invoke(fn *object.Function, args []object.Object) (panicked bool, err error) {
	c := pvm.callCtx
	if c.direct == nil {
		_, err = pvm.machine.Call(c, fn, args)
		// vm.Call turns a recovered panic into an error with this prefix.
		return err != nil && strings.HasPrefix(err.Error(), "panic: "), err
	}

	// vm.Call arms the deadline by asking for Done, so invoke does too.
	c.Done()
	defer func() {
		if r := recover(); r != nil {
			panicked, err = true, fmt.Errorf("panic: %v", r)
		}
	}()
	_, err = c.direct.call(c.direct.ctx, fn, args)
	return false, err
}
