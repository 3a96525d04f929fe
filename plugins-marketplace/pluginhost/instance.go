package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/risor-io/risor/object"
)

// Instance is a plugin bound to one config. Its VMs serve only this binding,
// so top-level variables that a hook changes never reach another binding.
type Instance struct {
	plugin *Plugin

	// config is never handed to a script. A hook that reads conf gets its
	// VM's deep copy, which is made again after a call changed it.
	// configShape is the shape of config, which checkConfig compares the
	// copies with.
	config      *object.Map
	configShape configShape

	// caller names the binding in host calls. RequestID is set per call.
	caller Caller

	pool vmPool

	// static holds the changes of each static hook for config, where
	// isStatic is set (static.go).
	static   [phaseCount][]HeaderChange
	isStatic [phaseCount]bool
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
	return i.RunWithTimeout(ctx, 0, phase, ex)
}

// RunWithTimeout is Run with a deadline of timeout after the hook starts, on
// top of ctx's own. A hook stopped by it returns an error that wraps
// context.DeadlineExceeded. A timeout of zero or less sets no deadline.
//
// It costs less than a context.WithTimeout per call: each VM keeps one
// timer and resets it, see callContext.
func (i *Instance) RunWithTimeout(ctx context.Context, timeout time.Duration, phase Phase, ex *Exchange) error {
	return i.RunWithTimeoutFrom(ctx, time.Time{}, timeout, phase, ex)
}

// RunWithTimeoutFrom is RunWithTimeout with the deadline at start plus
// timeout, where start is a clock reading that the caller took right
// before, instead of a reading of its own. A caller that reads the clock
// around each hook anyway, such as the edge's chain, saves a read per
// call. The VM's timer waits timeout from the call, so it may halt a hook
// past its deadline up to the age of start late. A zero start, or a call
// that had to create a VM first, reads the clock as RunWithTimeout does.
func (i *Instance) RunWithTimeoutFrom(ctx context.Context, start time.Time, timeout time.Duration, phase Phase, ex *Exchange) error {
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
	if i.isStatic[idx] && ApplyHeaderChanges(ex, i.static[idx]) {
		return nil
	}

	pvm, created, err := i.pool.get(ctx)
	if err != nil {
		return i.runError(phase, fmt.Errorf("prepare VM: %w", err))
	}
	if created {
		// Creating the VM took a while, which must not count against
		// the hook's timeout.
		start = time.Time{}
	}

	reusable, exited, err := i.runOn(ctx, pvm, start, timeout, idx, ex)
	i.pool.put(pvm, reusable)

	if err != nil && exited && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
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

// runOn runs the hook at phase index idx on pvm for ex, and reports
// whether pvm may run again and whether the hook called ctx.exit.
func (i *Instance) runOn(ctx context.Context, pvm *preparedVM, start time.Time, timeout time.Duration, idx int, ex *Exchange) (reusable, exited bool, err error) {
	host := pvm.host
	args := host.begin(ctx, timeout, ex, phaseOrder[idx], &i.caller, i.configFor(pvm, idx))
	reusable, err = pvm.call(ctx, start, timeout, idx, args)
	i.checkConfig(pvm)
	if varsErr := host.storeVars(); varsErr != nil && err == nil {
		err = fmt.Errorf("ctx.vars: %w", varsErr)
	}
	exited = host.exited
	host.detach()
	return reusable, exited, err
}

// StaticChanges returns the changes that the hook for phase makes on every
// call, and whether it is a static hook (see ApplyHeaderChanges).
func (i *Instance) StaticChanges(phase Phase) ([]HeaderChange, bool) {
	idx, err := phaseIndex(phase)
	if err != nil || !i.isStatic[idx] {
		return nil, false
	}
	changes := slices.Clone(i.static[idx])
	for j := range changes {
		changes[j].key, changes[j].values = "", nil
	}
	return changes, true
}

// configFor returns the conf argument of the hook at phase index idx on
// pvm: the VM's deep copy of the config, or nil for a hook that cannot
// reach it. Each VM makes its copy once and keeps it for as long as no
// call changes it (see checkConfig), so a hook never receives what an
// earlier call wrote into conf.
func (i *Instance) configFor(pvm *preparedVM, idx int) object.Object {
	if !i.plugin.readsConf[idx] {
		return object.Nil
	}
	if pvm.conf == nil {
		pvm.conf = copyConfig(i.config)
	}
	pvm.confLent = true
	return pvm.conf
}

// checkConfig drops pvm's copy of the config when the call changed it, so
// the next call gets a fresh copy.
func (i *Instance) checkConfig(pvm *preparedVM) {
	if !pvm.confLent {
		return
	}
	pvm.confLent = false
	if !sameConfig(pvm.conf, &i.configShape) {
		pvm.conf = nil
	}
}

func (i *Instance) runError(phase Phase, err error) error {
	return fmt.Errorf("plugin %q version %q: %s hook: %w", i.plugin.name, i.plugin.version, phase, err)
}
