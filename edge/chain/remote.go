package chain

import (
	"context"
	"errors"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// Remote is a step whose hook runs outside the edge process, in a plugin
// worker (the sandboxed tier). Its Step has no Instance.
type Remote interface {
	// Has reports whether the step's plugin has a hook for phase.
	Has(phase pluginhost.Phase) bool
	// Batch returns the worker binding set that serves the step.
	// Consecutive steps of a phase with the same Batch run in one call.
	Batch() Batch
	// Index returns the step's position in its Batch's binding set.
	Index() int
}

// Batch runs the hooks of several steps of one phase in one round trip to
// a worker process.
type Batch interface {
	// RunBatch runs steps, in order, on ex and returns one outcome per
	// step. The worker applies each step's timeout and on_error rule, and
	// ex holds the changes of the steps that ran. An error means no step
	// ran, for example because the worker died or missed its deadline,
	// and then ex is unchanged.
	RunBatch(ctx context.Context, phase pluginhost.Phase, steps []worker.Step, ex *pluginhost.Exchange) ([]worker.Outcome, error)
}

// has reports whether the step has a hook for phase.
func (s *Step) has(phase pluginhost.Phase) bool {
	if s.Remote != nil {
		return s.Remote.Has(phase)
	}
	return s.Instance.Plugin().Has(phase)
}

// runsVM reports whether the step runs its hook for phase in Risor's VM in
// the edge process: an in-process step whose hook is not static.
func (s *Step) runsVM(phase pluginhost.Phase) bool {
	if s.Remote != nil || !s.has(phase) {
		return false
	}
	_, static := s.Instance.StaticChanges(phase)
	return !static
}

// runRemote runs the leading steps of steps that share the first step's
// Batch in one call, then reports each outcome to its guard as run does for
// in-process steps. It returns how many steps it consumed, and stop when
// the phase ends here: after an exit, or with the *Error of a step that
// failed closed.
func runRemote(ctx context.Context, phase pluginhost.Phase, steps []Step, ex *pluginhost.Exchange, ran func(step Step, ok bool)) (consumed int, stop bool, err error) {
	batch := steps[0].Remote.Batch()
	consumed = 1
	for consumed < len(steps) && steps[consumed].Remote != nil && steps[consumed].Remote.Batch() == batch {
		consumed++
	}
	steps = steps[:consumed]

	started := time.Now()
	calls := make([]worker.Step, len(steps))
	for i, step := range steps {
		calls[i] = worker.Step{Index: step.Remote.Index()}
		if g := step.Guard; g != nil {
			calls[i].Timeout = g.timeout
			calls[i].FailOpen = g.failOpen
			calls[i].Quarantined = g.health.quarantined(started)
		}
	}
	outcomes, batchErr := batch.RunBatch(ctx, phase, calls, ex)
	// A step that the worker ran reports its own time, and its span
	// starts where the step before it ended. Without outcomes, each step
	// reports the whole call.
	elapsed := time.Since(started)
	stepStarted := started

	for i, step := range steps {
		stepErr := batchErr
		if batchErr == nil {
			if !outcomes[i].Ran {
				return consumed, true, nil
			}
			stepErr = outcomeError(calls[i], outcomes[i])
			if phase == pluginhost.PhaseHeaderFilter {
				ex.Response.BufferBody = outcomes[i].BufferBody
			}
			elapsed = outcomes[i].Elapsed
		}

		step.Guard.observeCall(ctx, step, string(phase), phaseSlot(phase), stepStarted, elapsed, stepErr)
		stepStarted = stepStarted.Add(elapsed)
		var v verdict
		if stepErr != nil && ctx.Err() == nil && step.Guard != nil {
			v = step.Guard.report(step, string(phase), ex.RequestID, stepErr)
		}
		if v.failOpen {
			if ran != nil {
				ran(step, false)
			}
			continue
		}
		if stepErr != nil {
			return consumed, true, &Error{Step: step, Phase: phase, Err: stepErr, Suppressed: v.suppressed}
		}
		if step.Guard != nil {
			step.Guard.report(step, string(phase), ex.RequestID, nil)
		}
		if ran != nil {
			ran(step, true)
		}
		if ex.Exit != nil {
			return consumed, true, nil
		}
	}
	return consumed, false, nil
}

// outcomeError returns the error of one step's outcome, nil on success. A
// missed deadline wraps context.DeadlineExceeded and a quarantined step is
// errQuarantined, as for in-process steps.
func outcomeError(call worker.Step, outcome worker.Outcome) error {
	switch {
	case outcome.Err == "":
		return nil
	case call.Quarantined:
		return errQuarantined
	case outcome.Deadline:
		return remoteDeadlineError(outcome.Err)
	}
	return errors.New(outcome.Err)
}

// remoteDeadlineError is the error of a step whose hook missed its deadline
// in a worker. Its text is the worker's message, which names the deadline
// already, and it matches context.DeadlineExceeded.
type remoteDeadlineError string

func (e remoteDeadlineError) Error() string { return string(e) }

func (e remoteDeadlineError) Unwrap() error { return context.DeadlineExceeded }
