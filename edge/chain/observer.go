package chain

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// HookCall describes one guarded hook call, for a HookObserver.
type HookCall struct {
	Tenant string
	Step   Step
	Phase  string
	// Started is when the call began, quarantine check and tenant slot
	// wait included.
	Started time.Time
	Elapsed time.Duration
	// Err is the call's error, nil when it succeeded.
	Err error
	// Cause classifies Err: "timeout", "quarantined", "capacity" or "error". It is
	// empty when Err is nil or when the request's context ended first,
	// because then the plugin is not at fault.
	Cause string

	// Memo belongs to the call's guard and phase. An observer may store in
	// it what it derives from the call's plugin and phase, such as a
	// resolved metric series, and load it on the binding's later calls in
	// that phase instead of deriving it again. It is nil for a phase that
	// pluginhost does not define.
	Memo *atomic.Value
}

// HookObserver receives every guarded hook call after it returns. ctx is
// the context the hook ran under. It runs on the request path, so it must
// be fast and must not keep call.Step.Instance.
type HookObserver func(ctx context.Context, call HookCall)

// SetObserver makes every guard that s returns from now on report its hook
// calls to observe. Call it before the first Guard.
func (s *Supervisor) SetObserver(observe HookObserver) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.observe = observe
}

// observeCall reports a hook call to the guard's observer, if any. slot is
// the phase's index in Chain.phases. A nil guard reports nothing.
func (g *Guard) observeCall(ctx context.Context, step Step, phase string, slot int, started time.Time, elapsed time.Duration, err error) {
	if g == nil || g.observe == nil {
		return
	}

	call := HookCall{Tenant: g.tenant, Step: step, Phase: phase, Started: started, Elapsed: elapsed, Err: err}
	if slot >= 0 {
		call.Memo = &g.memos[slot]
	}
	if err != nil && ctx.Err() == nil {
		call.Cause = hookCause(err)
	}
	g.observe(ctx, call)
}

// hookCause classifies a hook error for metrics.
func hookCause(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, errQuarantined):
		return "quarantined"
	case errors.Is(err, ErrCapacity):
		return "capacity"
	default:
		return "error"
	}
}
