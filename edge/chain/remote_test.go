package chain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

func TestOutcomeErrorOfMissedDeadline(t *testing.T) {
	message := `hook "access" of plugin "spin": context deadline exceeded`
	err := outcomeError(worker.Step{}, worker.Outcome{Ran: true, Err: message, Deadline: true})

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v is not context.DeadlineExceeded", err)
	}
	if err.Error() != message {
		t.Errorf("error = %q, want the worker's message %q", err, message)
	}
	if n := strings.Count(err.Error(), "deadline exceeded"); n != 1 {
		t.Errorf("error %q says the deadline passed %d times, want once", err, n)
	}
}

func TestOutcomeErrorOfFailure(t *testing.T) {
	err := outcomeError(worker.Step{}, worker.Outcome{Ran: true, Err: "boom"})
	if err == nil || err.Error() != "boom" || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want boom without a deadline", err)
	}
	if err := outcomeError(worker.Step{Quarantined: true}, worker.Outcome{Ran: true, Err: "x"}); !errors.Is(err, errQuarantined) {
		t.Errorf("quarantined step's error = %v, want errQuarantined", err)
	}
	if err := outcomeError(worker.Step{}, worker.Outcome{Ran: true}); err != nil {
		t.Errorf("successful step's error = %v, want nil", err)
	}
}

// timedBatch returns outcomes that ran and took the given times.
type timedBatch struct {
	elapsed []time.Duration
}

func (b *timedBatch) RunBatch(_ context.Context, _ pluginhost.Phase, steps []worker.Step, _ *pluginhost.Exchange) ([]worker.Outcome, error) {
	outcomes := make([]worker.Outcome, len(steps))
	for i := range outcomes {
		outcomes[i] = worker.Outcome{Ran: true, Elapsed: b.elapsed[i]}
	}
	return outcomes, nil
}

// timedRemote is step index of a timedBatch.
type timedRemote struct {
	batch *timedBatch
	index int
}

func (r timedRemote) Has(phase pluginhost.Phase) bool { return phase == pluginhost.PhaseAccess }

func (r timedRemote) Batch() Batch { return r.batch }

func (r timedRemote) Index() int { return r.index }

// TestRemoteStepsReportOwnTime checks that each step of a worker call
// reports the time the worker measured for it, and that the step's call
// starts where the one before it ended.
func TestRemoteStepsReportOwnTime(t *testing.T) {
	supervisor := NewSupervisor(nil)
	var calls []HookCall
	supervisor.SetObserver(func(_ context.Context, call HookCall) { calls = append(calls, call) })

	batch := &timedBatch{elapsed: []time.Duration{3 * time.Millisecond, 5 * time.Millisecond}}
	var steps []Step
	for i := range batch.elapsed {
		s := Step{Binding: fmt.Sprintf("b%d", i), Plugin: "remote", Version: "1.0.0", Remote: timedRemote{batch: batch, index: i}}
		s.Guard = supervisor.Guard("acme", s, time.Second, false)
		steps = append(steps, s)
	}

	ex := &pluginhost.Exchange{Request: pluginhost.Request{Path: "/"}}
	if err := New(steps).Run(context.Background(), pluginhost.PhaseAccess, ex); err != nil {
		t.Fatal(err)
	}

	if len(calls) != len(batch.elapsed) {
		t.Fatalf("observed %d hook calls, want %d", len(calls), len(batch.elapsed))
	}
	for i, call := range calls {
		if call.Elapsed != batch.elapsed[i] {
			t.Errorf("step %d elapsed = %s, want the worker's %s", i, call.Elapsed, batch.elapsed[i])
		}
	}
	if got := calls[1].Started.Sub(calls[0].Started); got != batch.elapsed[0] {
		t.Errorf("second step started %s after the first, want %s", got, batch.elapsed[0])
	}
}
