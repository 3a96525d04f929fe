package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// errQuarantined is the outcome of a step that the edge marked quarantined.
var errQuarantined = errors.New("binding is quarantined")

// run runs the steps of c on its exchange, as the edge's chain runs
// in-process steps: in order, stopping after an exit or after a step that
// fails closed, and undoing the exit of a step that fails open.
func (s *server) run(ctx context.Context, id uint64, set *loadedSet, c *Call, ic *inlineCall) *Result {
	result := &Result{Steps: make([]Outcome, len(c.Steps)), base: c.sent}
	ex := &pluginhost.Exchange{Host: &remoteHost{server: s, call: id, ctx: ctx, inline: ic}}
	c.Exchange.Apply(ex)
	defer func() { result.Exchange = ToWire(ex) }()

	if set == nil {
		for i := range c.Steps {
			result.Steps[i] = Outcome{Ran: true, Err: fmt.Sprintf("binding set %d is not loaded", c.Set)}
			if !c.Steps[i].FailOpen {
				break
			}
		}
		return result
	}

	if len(c.Steps) > 1 {
		var stop func() bool
		ctx, stop = pluginhost.WatchHooks(ctx)
		defer stop()
	}
	// Each step starts when the one before it ended, which saves a clock
	// read per step.
	started := time.Now()
	for i, step := range c.Steps {
		exitBefore := ex.Exit
		err := runStep(ctx, set, step, c.Phase, ex)
		ended := time.Now()

		outcome := &result.Steps[i]
		outcome.Ran = true
		outcome.Elapsed = ended.Sub(started)
		started = ended
		if c.Phase == pluginhost.PhaseHeaderFilter {
			outcome.BufferBody = ex.Response.BufferBody
			ex.Response.BufferBody = false
		}
		if err != nil {
			outcome.Err = err.Error()
			outcome.Deadline = errors.Is(err, context.DeadlineExceeded)
			if step.FailOpen && ctx.Err() == nil {
				ex.Exit = exitBefore
				continue
			}
			return result
		}
		if ex.Exit != nil {
			return result
		}
	}
	return result
}

func runStep(ctx context.Context, set *loadedSet, step Step, phase pluginhost.Phase, ex *pluginhost.Exchange) error {
	if step.Quarantined {
		return errQuarantined
	}
	if step.Index < 0 || step.Index >= len(set.instances) {
		return fmt.Errorf("binding index %d is out of range: the set has %d bindings", step.Index, len(set.instances))
	}

	if err := set.instances[step.Index].RunWithTimeout(ctx, step.Timeout, phase, ex); err != nil {
		return err
	}
	return pluginhost.CheckExchange(phase, ex)
}
