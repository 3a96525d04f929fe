package chain

import (
	"errors"
	"testing"
	"time"
)

// TestQuarantineNotRenewedBySkippedCalls fails a binding until it is
// quarantined, then reports the calls that the quarantine skips. They
// must neither count as failures nor move the quarantine's end.
func TestQuarantineNotRenewedBySkippedCalls(t *testing.T) {
	step := Step{Binding: "b1", Plugin: "p", Version: "1.0.0"}
	guard := NewSupervisor(nil).Guard("acme", step, time.Second, false)

	for range QuarantineAfter {
		guard.report(step, "access", "req", errors.New("hook failed"))
	}
	until := guard.health.quarantinedUntil.Load()
	if until == 0 {
		t.Fatalf("binding not quarantined after %d failures", QuarantineAfter)
	}

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
	step := Step{Binding: "b1", Plugin: "p", Version: "1.0.0"}
	guard := NewSupervisor(nil).Guard("acme", step, time.Second, false)

	for range QuarantineAfter {
		guard.report(step, "access", "req", errors.New("hook failed"))
	}
	until := guard.health.quarantinedUntil.Load()
	if until == 0 {
		t.Fatalf("binding not quarantined after %d failures", QuarantineAfter)
	}

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
