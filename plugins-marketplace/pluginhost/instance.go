package pluginhost

import (
	"context"
	"errors"
	"fmt"

	"github.com/risor-io/risor/object"
)

// Instance is a plugin bound to one config. Its VMs serve only this binding,
// so top-level variables that a hook changes never reach another binding.
type Instance struct {
	plugin *Plugin

	// config is never handed to a script. Each call gets a deep copy.
	config *object.Map

	// caller names the binding in host calls. RequestID is set per call.
	caller Caller

	pool vmPool
}

// BindOptions are the binding's ids and permissions that host calls carry.
type BindOptions struct {
	Tenant  string
	Binding string
	// AllowHosts lists the hosts that ctx.http may reach, as "host" or
	// "host:port". Empty allows none.
	AllowHosts []string
}

// Plugin returns the plugin that this instance binds.
func (i *Instance) Plugin() *Plugin {
	return i.plugin
}

// Run calls the instance's hook for phase on ex. A missing hook is a no-op
// that returns nil. A hook that calls ctx.exit sets ex.Exit, and Run returns
// nil. An error that the hook raises, an unknown phase, and the end of ctx
// are returned as errors, and ctx.Err() is wrapped with %w. Run is safe for
// concurrent use, with one Exchange per goroutine.
func (i *Instance) Run(ctx context.Context, phase Phase, ex *Exchange) error {
	idx, err := phaseIndex(phase)
	if err != nil {
		return i.runError(phase, err)
	}
	if !i.plugin.hasHook[idx] {
		return nil
	}
	if ex == nil {
		return i.runError(phase, errors.New("exchange is nil"))
	}
	if err := ctx.Err(); err != nil {
		return i.runError(phase, err)
	}

	// Preparing a VM runs the top-level code, which Compile proved to end
	// within mainRunTimeout. It does not count against the hook's
	// deadline, so a pool that must grow under load does not fail hooks.
	pvm, err := i.pool.get(context.WithoutCancel(ctx))
	if err != nil {
		return i.runError(phase, fmt.Errorf("prepare VM: %w", err))
	}

	caller := i.caller
	caller.RequestID = ex.RequestID
	host := newHostObjects(ctx, ex, phase, caller)
	args := []object.Object{&host.ctx, copyConfig(i.config)}
	reusable, err := pvm.call(ctx, idx, args)
	if varsErr := host.storeVars(); varsErr != nil && err == nil {
		err = fmt.Errorf("ctx.vars: %w", varsErr)
	}
	host.detach()
	i.pool.put(pvm, reusable)

	if err != nil && host.exited && ctx.Err() == nil {
		// ctx.exit raised exitSignal to stop the hook. Some Risor builtins,
		// such as list.each, pass it on as a plain error string, so the
		// exited flag is what counts.
		return nil
	}
	if err != nil {
		return i.runError(phase, err)
	}
	return nil
}

func (i *Instance) runError(phase Phase, err error) error {
	return fmt.Errorf("plugin %q version %q: %s hook: %w", i.plugin.name, i.plugin.version, phase, err)
}
