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
	failures := guard.health.failures
	guard.health.mu.Unlock()
	if failures != 0 {
		t.Errorf("failures = %d after skipped calls, want 0", failures)
	}
}
