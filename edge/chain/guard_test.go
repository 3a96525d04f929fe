package chain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestQuarantineNotRenewedBySkippedCalls fails a binding until it is
// quarantined, then reports the calls that the quarantine skips. They
// must neither count as failures nor move the quarantine's end.
func TestQuarantineNotRenewedBySkippedCalls(t *testing.T) {
	step, guard, until := quarantinedGuard(t)

	for range 3 * QuarantineAfter {
		guard.report(step, "access", "req", errQuarantined)
	}
	if got := guard.health.quarantinedUntil.Load(); got != until {
		t.Errorf("quarantine ends at %v after skipped calls, want %v as before", time.Unix(0, got), time.Unix(0, until))
	}
	guard.health.mu.Lock()
	failures := guard.health.failures[phaseSlot("access")]
	guard.health.mu.Unlock()
	if failures != 0 {
		t.Errorf("failures = %d after skipped calls, want 0", failures)
	}
}

// TestQuarantineIgnoresCallsInFlight fails a binding until it is
// quarantined, then reports more failures while the quarantine lasts, as
// the calls that were in flight when it began end. They must not double
// the quarantine.
func TestQuarantineIgnoresCallsInFlight(t *testing.T) {
	step, guard, until := quarantinedGuard(t)

	for range 7 * QuarantineAfter {
		guard.report(step, "access", "req", errors.New("hook failed in flight"))
	}
	if got := guard.health.quarantinedUntil.Load(); got != until {
		t.Errorf("quarantine ends at %v after failures in flight, want %v as before", time.Unix(0, got), time.Unix(0, until))
	}
	guard.health.mu.Lock()
	quarantines := guard.health.quarantines
	guard.health.mu.Unlock()
	if quarantines != 1 {
		t.Errorf("quarantines = %d after failures in flight, want 1", quarantines)
	}
}

// TestQuarantineCountsFailuresPerPhase fails a binding's access hook on
// every request while its rewrite hook succeeds. The successes of rewrite
// must not end the access hook's run of failures, nor reset the back-off.
func TestQuarantineCountsFailuresPerPhase(t *testing.T) {
	step := Step{Binding: "b1", Plugin: "p", Version: "1.0.0"}
	guard := NewSupervisor(nil).Guard("acme", step, time.Second, false)

	for range QuarantineAfter {
		guard.report(step, "rewrite", "req", nil)
		guard.report(step, "access", "req", errors.New("hook failed"))
	}
	if guard.health.quarantinedUntil.Load() == 0 {
		t.Fatalf("binding not quarantined after %d failed access calls between rewrite successes", QuarantineAfter)
	}

	guard.report(step, "rewrite", "req", nil)
	guard.health.mu.Lock()
	quarantines := guard.health.quarantines
	guard.health.mu.Unlock()
	if quarantines != 1 {
		t.Errorf("quarantines = %d after a rewrite success, want 1 so the next one doubles", quarantines)
	}

	guard.report(step, "access", "req", nil)
	guard.health.mu.Lock()
	quarantines = guard.health.quarantines
	guard.health.mu.Unlock()
	if quarantines != 0 {
		t.Errorf("quarantines = %d after an access success, want 0", quarantines)
	}
	if guard.health.failing.Load() {
		t.Error("binding still failing after every phase succeeded")
	}
}

// TestCapacityFailuresNotCounted reports failures that wrap ErrCapacity,
// as a call that got no plugin worker returns. They must take the
// binding's on_error outcome and be logged, but neither quarantine the
// binding nor break a run of its own failures.
func TestCapacityFailuresNotCounted(t *testing.T) {
	logs := &bytes.Buffer{}
	step := Step{Binding: "b1", Plugin: "p", Version: "1.0.0"}
	guard := NewSupervisor(slog.New(slog.NewTextHandler(logs, nil))).Guard("acme", step, time.Second, true)
	capacity := fmt.Errorf("all 4 plugin workers are busy: %w", ErrCapacity)

	for range 3 * QuarantineAfter {
		if v := guard.report(step, "access", "req", capacity); !v.failOpen {
			t.Fatal("verdict of a capacity failure does not fail open, want the binding's on_error open")
		}
	}
	if until := guard.health.quarantinedUntil.Load(); until != 0 {
		t.Errorf("binding quarantined until %v after capacity failures, want no quarantine", time.Unix(0, until))
	}
	guard.health.mu.Lock()
	failures := guard.health.failures[phaseSlot("access")]
	guard.health.mu.Unlock()
	if failures != 0 {
		t.Errorf("failures = %d after capacity failures, want 0", failures)
	}
	if !strings.Contains(logs.String(), "plugin hook failed") || !strings.Contains(logs.String(), "all 4 plugin workers are busy") {
		t.Errorf("capacity failure not logged:\n%s", logs.String())
	}

	for i := range QuarantineAfter {
		guard.report(step, "access", "req", errors.New("hook failed"))
		if i == 0 {
			guard.report(step, "access", "req", capacity)
		}
	}
	if guard.health.quarantinedUntil.Load() == 0 {
		t.Errorf("binding not quarantined after %d own failures with a capacity failure between them", QuarantineAfter)
	}
}

// quarantinedGuard returns a binding's step and guard after QuarantineAfter
// failures of its access hook, and the end of the quarantine they started
// in Unix nanoseconds.
func quarantinedGuard(t *testing.T) (Step, *Guard, int64) {
	t.Helper()
	step := Step{Binding: "b1", Plugin: "p", Version: "1.0.0"}
	guard := NewSupervisor(nil).Guard("acme", step, time.Second, false)

	for range QuarantineAfter {
		guard.report(step, "access", "req", errors.New("hook failed"))
	}
	until := guard.health.quarantinedUntil.Load()
	if until == 0 {
		t.Fatalf("binding not quarantined after %d failures", QuarantineAfter)
	}
	return step, guard, until
}

func TestHookCauseClassifiesFailures(t *testing.T) {
	cases := map[string]error{
		"timeout":     fmt.Errorf("hook stopped: %w", context.DeadlineExceeded),
		"quarantined": errQuarantined,
		"capacity":    fmt.Errorf("all 4 plugin workers are busy: %w", ErrCapacity),
		"error":       errors.New("index out of range"),
	}
	for want, err := range cases {
		if got := hookCause(err); got != want {
			t.Errorf("hookCause(%q) = %q, want %q", err, got, want)
		}
	}
}
