package sandbox

import (
	"context"
	"fmt"
	"slices"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// Set is a tenant's binding set as loaded into its worker: the sandboxed
// bindings of one runtime. It serves their steps as one chain.Batch. When
// no runtime holds the Set any more, the pool unloads it from the worker.
type Set struct {
	tenant   *tenant
	id       uint64
	bindings []binding
}

// binding is the edge's record of a loaded binding: its ids, permissions,
// hooks and the changes of its static hooks.
type binding struct {
	id         string
	plugin     string
	version    string
	allowHosts []string
	hooks      uint8
	static     worker.StaticHooks
}

var _ chain.Batch = (*Set)(nil)

// Step returns the chain.Remote of the binding at index i of the Load.
func (s *Set) Step(i int) chain.Remote {
	return &remoteStep{set: s, index: i}
}

// RunBatch runs steps of one phase in the tenant's worker, starting it when
// none runs, and copies the changes of the hooks into ex. In a full pool it
// waits for a worker for at most the steps' timeouts added up. A call that
// gets no worker in that time, or whose worker the pool stops, fails with
// an error that matches chain.ErrCapacity.
//
// NOTE: a worker that dies fails every step of its calls in flight, so the
// guards of the bindings batched with the one that killed it count a
// failure too.
func (s *Set) RunBatch(ctx context.Context, phase pluginhost.Phase, steps []worker.Step, ex *pluginhost.Exchange) ([]worker.Outcome, error) {
	if outcomes, ok := s.runStatic(ctx, phase, steps, ex); ok {
		return outcomes, nil
	}

	var hooksWait time.Duration
	for _, step := range steps {
		if step.Index < 0 || step.Index >= len(s.bindings) {
			return nil, fmt.Errorf("binding index %d is out of range: the set has %d bindings", step.Index, len(s.bindings))
		}
		if step.Quarantined {
			continue
		}
		if step.Timeout > 0 {
			hooksWait += step.Timeout
		} else {
			hooksWait += stepTimeoutWithoutGuard
			steps = withTimeout(steps, step.Index)
		}
	}

	// A call may wait for a worker as long as its hooks may run, and then
	// it gets its whole deadline.
	w, err := s.tenant.acquire(ctx, hooksWait)
	if err != nil {
		return nil, err
	}
	defer w.release()
	wait := hooksWait + s.tenant.pool.cfg.CallMargin

	call := &worker.Call{Set: s.id, Phase: phase, Steps: steps, Exchange: worker.ToWire(ex)}
	pc := &pendingCall{set: s, ctx: ctx, host: ex.Host, requestID: ex.RequestID, steps: steps}
	reply, err := w.roundTrip(ctx, &worker.Frame{Kind: worker.KindCall, Call: call}, pc, wait)
	if err != nil {
		return nil, err
	}
	if reply.Result == nil || len(reply.Result.Steps) != len(steps) {
		return nil, fmt.Errorf("plugin worker of tenant %q: %w", s.tenant.name, errNoAnswer)
	}
	var ran time.Duration
	for _, outcome := range reply.Result.Steps {
		ran += outcome.Elapsed
	}
	// Calls in flight together run at the same time in the worker and
	// stretch each other's hooks, so a quick tenant under heavy traffic
	// would look slow. Each counts its share of the time.
	w.recordCall(ran / time.Duration(max(pc.sharing, 1)))
	reply.Result.Exchange.Apply(ex)
	return reply.Result.Steps, nil
}

// runStatic makes the changes of steps in ex without the worker, when
// every step is a binding whose hook for phase is static, and reports
// whether it did. The worker computed the changes from the plugin's code
// when it loaded the set, and they pass the checks of set_header and
// pluginhost.CheckExchange here. When a check fails, ex is left as it was
// and the worker runs the steps, which reports the error for the step
// that caused it.
func (s *Set) runStatic(ctx context.Context, phase pluginhost.Phase, steps []worker.Step, ex *pluginhost.Exchange) ([]worker.Outcome, bool) {
	idx := slices.Index(pluginhost.Phases, phase)
	if idx < 0 || len(steps) > maxStaticSteps || ctx.Err() != nil {
		return nil, false
	}
	var buffer [maxStaticSteps][]pluginhost.HeaderChange
	lists := buffer[:0]
	for _, step := range steps {
		if step.Index < 0 || step.Index >= len(s.bindings) || step.Quarantined {
			return nil, false
		}
		static := &s.bindings[step.Index].static
		if static.Mask&(1<<idx) == 0 {
			return nil, false
		}
		lists = append(lists, static.Changes[idx])
	}

	// Header changes cannot make the exchange fail the check, so checking
	// it before them is the same as after each hook.
	if pluginhost.CheckExchange(phase, ex) != nil || !pluginhost.ApplyHeaderChanges(ex, lists...) {
		return nil, false
	}
	outcomes := make([]worker.Outcome, len(steps))
	for i := range outcomes {
		outcomes[i].Ran = true
	}
	return outcomes, true
}

// maxStaticSteps caps the steps of a round trip that runStatic makes in
// the edge. A longer round trip goes to the worker.
const maxStaticSteps = 16

// checkStatic returns hooks without the static hooks when their shape does
// not match the phases, as a faulty worker could send, so runStatic never
// reads past them. It prepares the changes it keeps, so runStatic checks
// each name and value once per load instead of once per request.
func checkStatic(hooks worker.StaticHooks) worker.StaticHooks {
	if hooks.Mask>>len(pluginhost.Phases) != 0 || (hooks.Mask != 0 && len(hooks.Changes) != len(pluginhost.Phases)) {
		return worker.StaticHooks{}
	}
	for _, changes := range hooks.Changes {
		pluginhost.PrepareHeaderChanges(changes)
	}
	return hooks
}

// withTimeout returns steps with stepTimeoutWithoutGuard set on the step
// of binding index that has none, so the worker stops it too.
func withTimeout(steps []worker.Step, index int) []worker.Step {
	out := append([]worker.Step(nil), steps...)
	for i := range out {
		if out[i].Index == index && out[i].Timeout <= 0 {
			out[i].Timeout = stepTimeoutWithoutGuard
		}
	}
	return out
}

// caller returns the pluginhost.Caller of binding id for a host call.
func (s *Set) caller(id, requestID string) (pluginhost.Caller, error) {
	for _, b := range s.bindings {
		if b.id == id {
			return pluginhost.Caller{Tenant: s.tenant.name, Binding: b.id, Plugin: b.plugin, Version: b.version, RequestID: requestID, AllowHosts: b.allowHosts}, nil
		}
	}
	return pluginhost.Caller{}, fmt.Errorf("binding %q is not in the loaded set", id)
}

// remoteStep is one binding of a Set, in the form a chain step uses.
type remoteStep struct {
	set   *Set
	index int
}

var _ chain.Remote = (*remoteStep)(nil)

func (r *remoteStep) Has(phase pluginhost.Phase) bool {
	for i, known := range pluginhost.Phases {
		if known == phase {
			return r.set.bindings[r.index].hooks&(1<<i) != 0
		}
	}
	return false
}

func (r *remoteStep) Batch() chain.Batch {
	return r.set
}

func (r *remoteStep) Index() int {
	return r.index
}
