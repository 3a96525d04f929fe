package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portcullis.dev/edge/chain"
)

// How tenants share a full pool. docs/sandbox.md ("Sharing the workers")
// describes the policy and its limits.
const (
	// preemptCooldown is how long a tenant whose worker the pool preempted
	// may take only a free place or a worker idle for PreemptAfter. Slow
	// tenants therefore cannot preempt each other in turn, starting a
	// process for each of their calls.
	preemptCooldown = 10 * time.Second
	// roomPollInterval is how often a call that waits for a worker checks
	// the pool again.
	roomPollInterval = 5 * time.Millisecond
	// minIdleToStop is how long a worker must have been without calls
	// before rule 3 of chooseEviction may stop it. A worker that has just
	// started, and is still loading its tenant's bindings, or one between
	// two quick calls of a steady tenant, is not taken.
	minIdleToStop = 20 * time.Millisecond
	// slowCallShare is the fraction of PreemptAfter above which a worker's
	// average hook call counts as slow for ruleBusy.
	slowCallShare = 10
	// loadWorkerWait bounds how long a Load waits for a worker when the
	// pool is full. A Load has no hook deadline to bound it, and the edge
	// builds the tenant's runtime meanwhile.
	loadWorkerWait = 2 * time.Second
)

// errPoolFull is reserve's error when every place is taken and no worker
// may be stopped for the tenant. Callers wait and try again, and then
// return a *capacityError.
var errPoolFull = errors.New("every plugin worker is busy and none may be stopped for this tenant now")

// capacityError is the error of a call that failed for want of a worker:
// none could be had, or the pool stopped the worker that ran it. It
// matches chain.ErrCapacity, so the binding's guard does not count it as
// the binding's failure, and errWorkerGone when the pool stopped the
// worker.
type capacityError struct {
	msg     string
	stopped bool
}

func (e *capacityError) Error() string {
	return e.msg
}

func (e *capacityError) Is(target error) bool {
	return target == chain.ErrCapacity || (e.stopped && target == errWorkerGone)
}

// eviction is a worker that reserve stops to make room, and why.
type eviction struct {
	worker *workerConn
	// rule names the rule of chooseEviction that chose the worker, and age
	// is its idle time or the run time of its oldest call.
	rule string
	age  time.Duration
	// preempted is set when the worker had calls in flight.
	preempted bool
}

// Rules of chooseEviction, as logged.
const (
	ruleIdle      = "idle"
	ruleSlowCall  = "slow call"
	ruleLeastUsed = "least recently used"
	ruleBusy      = "busy with slow calls"
)

// chooseEviction picks the worker that a full pool stops so that requester
// can start one, and reports false when no worker may be stopped. In order
// it takes:
//
//  1. the least recently used worker without calls, when it has been idle
//     for longer than PreemptAfter;
//  2. the worker whose oldest call in flight has run the longest, when that
//     is longer than PreemptAfter, so a tenant whose calls are slow makes
//     room before one whose calls are quick;
//  3. the least recently used worker without calls, when it has been idle
//     for minIdleToStop;
//  4. the worker that has had calls in flight without a break for the
//     longest, when that is longer than PreemptAfter and its calls take
//     more than a tenth of PreemptAfter on average. So tenants whose calls
//     each end just before PreemptAfter cannot keep every worker.
//
// A requester whose own worker was preempted within preemptCooldown gets
// only the first. p.mu is held.
func (p *Pool) chooseEviction(requester *tenant, now int64) (eviction, bool) {
	limit := p.cfg.PreemptAfter
	var idle, busy, hog *workerConn
	var idleFor, busyFor, hogFor time.Duration
	for w := range p.workers {
		if w.stopping.Load() {
			continue
		}
		if age, ok := w.oldestCall(now); ok {
			if busy == nil || age > busyFor {
				busy, busyFor = w, age
			}
			if since := w.busySince.Load(); since != 0 && time.Duration(w.callAverage.Load()) > limit/slowCallShare {
				if span := time.Duration(now - since); hog == nil || span > hogFor {
					hog, hogFor = w, span
				}
			}
			continue
		}
		if w.claims.Load() > 0 {
			// A call got the worker and is about to send.
			continue
		}
		if since := time.Duration(now - w.lastUsed.Load()); idle == nil || since > idleFor {
			idle, idleFor = w, since
		}
	}

	mayDisplace := !requester.inPreemptCooldown(now)
	switch {
	case idle != nil && idleFor > limit:
		return eviction{worker: idle, rule: ruleIdle, age: idleFor}, true
	case busy != nil && busyFor > limit && mayDisplace:
		return eviction{worker: busy, rule: ruleSlowCall, age: busyFor, preempted: true}, true
	case idle != nil && idleFor >= minIdleToStop && mayDisplace:
		return eviction{worker: idle, rule: ruleLeastUsed, age: idleFor}, true
	case hog != nil && hogFor > limit && mayDisplace:
		return eviction{worker: hog, rule: ruleBusy, age: hogFor, preempted: true}, true
	}
	return eviction{}, false
}

// stopReason completes "plugin worker of tenant X was stopped" in the
// error of the calls that the eviction ends.
func (e eviction) stopReason(requester string) string {
	switch {
	case e.rule == ruleBusy:
		return fmt.Sprintf("to make room for tenant %q, because it had run slow calls without a break for %s", requester, e.age.Round(time.Millisecond))
	case e.preempted:
		return fmt.Sprintf("to make room for tenant %q, because its oldest call had run for %s", requester, e.age.Round(time.Millisecond))
	}
	return fmt.Sprintf("to make room for tenant %q", requester)
}

// inPreemptCooldown reports whether the pool preempted the tenant's worker
// within preemptCooldown before now.
func (t *tenant) inPreemptCooldown(now int64) bool {
	at := t.preemptedAt.Load()
	return at != 0 && now-at < int64(preemptCooldown)
}

// waitForRoom calls start every roomPollInterval until it returns
// something other than errPoolFull, for up to maxWait and while ctx lasts.
// When the wait ends without a worker it returns a *capacityError.
func (p *Pool) waitForRoom(ctx context.Context, tenantName string, maxWait time.Duration, start func() (*workerConn, error)) (*workerConn, error) {
	deadline := time.Now().Add(maxWait)
	for {
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return nil, &capacityError{msg: fmt.Sprintf("all %d plugin workers are busy and none could be stopped for tenant %q within %s: raise the worker limit (--plugin-workers)",
				p.cfg.MaxWorkers, tenantName, maxWait)}
		}

		timer := time.NewTimer(min(roomPollInterval, remaining))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("wait for a plugin worker for tenant %q: %w", tenantName, ctx.Err())
		case <-p.done:
			timer.Stop()
			return nil, errors.New("plugin worker pool is closed")
		}

		w, err := start()
		if !errors.Is(err, errPoolFull) {
			return w, err
		}
	}
}
