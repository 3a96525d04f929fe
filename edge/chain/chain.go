package chain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// Step is one bound plugin in a chain, with the ids that logs and errors
// name.
type Step struct {
	Binding  string
	Plugin   string
	Version  string
	Instance *pluginhost.Instance

	// Remote, when set, runs the step in a plugin worker process instead
	// of Instance (the sandboxed tier).
	Remote Remote

	// Guard applies the binding's deadline, failure policy and tenant
	// budget. Nil runs the hook under the request's context only and fails
	// closed.
	Guard *Guard
}

// Chain is the ordered list of plugin instances that apply to one route. It
// is immutable and safe for concurrent use.
type Chain struct {
	steps []Step

	// phases contains, for each phase in pluginhost.Phases order, the steps
	// that have a hook for it, so a phase without hooks costs one lookup.
	phases [phaseCount][]Step
	names  string

	// vmPhases records, for each phase, whether a step runs its hook in
	// Risor's VM in the edge process. Such calls can share one watch of
	// the request's context (WatchRequest). Static hooks run no VM, and
	// when one falls back to the VM, its call watches the context itself.
	vmPhases [phaseCount]bool
}

// phaseCount is the number of phases in pluginhost.Phases.
const phaseCount = 6

// phaseSlot returns the index of phase in Chain.phases, or -1 for a phase
// that pluginhost does not define.
func phaseSlot(phase pluginhost.Phase) int {
	switch phase {
	case pluginhost.PhaseRewrite:
		return 0
	case pluginhost.PhaseAccess:
		return 1
	case pluginhost.PhaseBeforeProxy:
		return 2
	case pluginhost.PhaseHeaderFilter:
		return 3
	case pluginhost.PhaseBodyFilter:
		return 4
	case pluginhost.PhaseLog:
		return 5
	}
	return -1
}

// RequestPhases are the phases that run before the request goes upstream,
// in run order.
var RequestPhases = []pluginhost.Phase{pluginhost.PhaseRewrite, pluginhost.PhaseAccess, pluginhost.PhaseBeforeProxy}

// New returns a chain that runs steps in the given order.
func New(steps []Step) *Chain {
	c := &Chain{steps: steps}
	names := make([]string, 0, len(steps))
	for _, step := range steps {
		names = append(names, step.Plugin+"@"+step.Version)
	}
	c.names = strings.Join(names, ",")
	for _, phase := range pluginhost.Phases {
		slot := phaseSlot(phase)
		for _, step := range steps {
			if step.has(phase) {
				c.phases[slot] = append(c.phases[slot], step)
				c.vmPhases[slot] = c.vmPhases[slot] || step.runsVM(phase)
			}
		}
	}
	return c
}

// stepsOf returns the steps with a hook for phase, in run order.
func (c *Chain) stepsOf(phase pluginhost.Phase) []Step {
	slot := phaseSlot(phase)
	if slot < 0 {
		return nil
	}
	return c.phases[slot]
}

// Steps returns the chain's steps in run order. Callers must not modify the
// returned slice.
func (c *Chain) Steps() []Step {
	return c.steps
}

// Names returns the chain's plugin versions in run order, as
// "name@version" joined with commas.
func (c *Chain) Names() string {
	return c.names
}

// Has reports whether any step of the chain runs in phase.
func (c *Chain) Has(phase pluginhost.Phase) bool {
	return len(c.stepsOf(phase)) > 0
}

// WatchRequest returns the context to run all of one request's phases
// under, and a stop function to call once they are done. Its hook calls
// follow the request's cancellation through one registration instead of
// one per phase (see pluginhost.WatchHooks). A chain whose hooks all run in
// workers or are static returns ctx, because none of them runs in the
// edge's VM.
func (c *Chain) WatchRequest(ctx context.Context) (context.Context, func() bool) {
	if !slices.Contains(c.vmPhases[:], true) {
		return ctx, stopNothing
	}
	return pluginhost.WatchHooks(ctx)
}

func stopNothing() bool {
	return false
}

// RunRequest runs the request phases in order. It stops after the first step
// that sets ex.Exit, and returns an *Error when a step fails or sets an
// invalid exit.
func (c *Chain) RunRequest(ctx context.Context, ex *pluginhost.Exchange) error {
	for _, phase := range RequestPhases {
		if err := c.Run(ctx, phase, ex); err != nil || ex.Exit != nil {
			return err
		}
	}
	return nil
}

// Run runs the steps of one phase in order. It stops after the first step
// that sets ex.Exit, and returns an *Error when a step fails or sets an
// invalid exit.
func (c *Chain) Run(ctx context.Context, phase pluginhost.Phase, ex *pluginhost.Exchange) error {
	return c.run(ctx, phase, c.stepsOf(phase), ex, nil)
}

// run runs steps of one phase as Run describes. ran, when not nil, is
// called after each step that succeeded (ok) or was skipped by its fail-open
// policy (not ok).
func (c *Chain) run(ctx context.Context, phase pluginhost.Phase, steps []Step, ex *pluginhost.Exchange, ran func(step Step, ok bool)) error {
	if len(steps) == 0 {
		return nil
	}
	slotIndex := phaseSlot(phase)
	if slotIndex >= 0 && c.vmPhases[slotIndex] && len(steps) > 1 {
		// The steps run one after another, so they can share one
		// registration with the request's context, unless the caller
		// shares one already (WatchRequest). A single step is cheaper
		// with its own. Steps in workers follow the context in
		// runRemote, and static hooks run no VM, so neither needs a watch.
		var stopWatch func() bool
		ctx, stopWatch = pluginhost.WatchHooks(ctx)
		defer stopWatch()
	}

	var slot tenantSlot
	defer slot.release()

	// Each step starts when the one before it ended, which saves a clock
	// read per hook.
	started := time.Now()
	for i := 0; i < len(steps); i++ {
		step := steps[i]
		if step.Remote != nil {
			consumed, stop, err := runRemote(ctx, phase, steps[i:], ex, ran)
			if stop {
				return err
			}
			i += consumed - 1
			started = time.Now()
			continue
		}

		exitBefore := ex.Exit
		callStarted := started
		waited, err := runStep(ctx, &slot, step, phase, ex, callStarted)
		started = time.Now()
		elapsed := started.Sub(callStarted)
		step.Guard.recordCall(elapsed, waited, err)
		step.Guard.observeCall(ctx, step, string(phase), slotIndex, callStarted, elapsed, err)
		var v verdict
		if err != nil && ctx.Err() == nil && step.Guard != nil {
			v = step.Guard.report(step, string(phase), ex.RequestID, err)
		}
		if v.failOpen {
			// Fail open: the plugin is skipped, and so is an exit it set.
			ex.Exit = exitBefore
			if ran != nil {
				ran(step, false)
			}
			continue
		}
		if err != nil {
			return &Error{Step: step, Phase: phase, Err: err, Suppressed: v.suppressed}
		}
		if step.Guard != nil {
			step.Guard.report(step, string(phase), ex.RequestID, nil)
		}
		if ran != nil {
			ran(step, true)
		}
		if ex.Exit != nil {
			return nil
		}
	}
	return nil
}

// runStep calls one hook, under the step's guard when it has one, and
// checks what the hook left in ex. slot keeps the tenant's hook slot from
// one guarded step to the next of the same phase.
//
// waited reports that the step waited for a tenant slot, so that its time
// is not all the hook's.
func runStep(ctx context.Context, slot *tenantSlot, step Step, phase pluginhost.Phase, ex *pluginhost.Exchange, now time.Time) (waited bool, err error) {
	if step.Guard == nil {
		if err := step.Instance.Run(ctx, phase, ex); err != nil {
			return false, err
		}
		return false, checkExchange(phase, ex)
	}

	if step.Guard.health.quarantined(now) {
		return false, errQuarantined
	}
	// The wait for a tenant slot is bounded by the request, not by the
	// hook's deadline, so a busy tenant queues instead of failing.
	waited, err = slot.acquire(ctx, step.Guard, now)
	if err != nil {
		return waited, err
	}
	// The hook's deadline counts from now, which saves a clock read,
	// unless the wait for a slot made now stale.
	start := now
	if waited {
		start = time.Time{}
	}
	if err := step.Instance.RunWithTimeoutFrom(ctx, start, step.Guard.timeout, phase, ex); err != nil {
		return waited, err
	}
	return waited, checkExchange(phase, ex)
}

// checkExchange rejects what a step may not set, with the rules that
// workers apply too (pluginhost.CheckExchange).
func checkExchange(phase pluginhost.Phase, ex *pluginhost.Exchange) error {
	return pluginhost.CheckExchange(phase, ex)
}

// Error is a failure of one plugin step. The edge fails closed on it.
type Error struct {
	Step  Step
	Phase pluginhost.Phase
	Err   error
	// Suppressed is set when the binding's guard left this failure out of
	// the log because it logged another one of the binding within the
	// last second.
	Suppressed bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("plugin %q version %q (binding %q) failed in phase %q: %v", e.Step.Plugin, e.Step.Version, e.Step.Binding, e.Phase, e.Err)
}

func (e *Error) Unwrap() error {
	return e.Err
}
