package chain

import (
	"context"
	"errors"
	"strings"
	"testing"

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
