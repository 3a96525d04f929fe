package health

import (
	"sync"
	"sync/atomic"
	"time"

	"portcullis.dev/tenants/config"
)

// Target is the health of one target. Its zero state is healthy with no
// request in flight.
type Target struct {
	key Key

	inFlight atomic.Int64
	// activeDown is set by the active checker.
	activeDown atomic.Bool
	// passiveUntil is the end of a passive cool-down in Unix nanoseconds,
	// zero when none.
	passiveUntil atomic.Int64

	mu sync.Mutex
	// failures are the times of recent passive failures, oldest first.
	failures []time.Time
}

// Key returns the target's key.
func (t *Target) Key() Key {
	return t.key
}

// Available reports whether the target is in the rotation at now: the
// active checker has not taken it out and no passive cool-down runs.
func (t *Target) Available(now time.Time) bool {
	return !t.activeDown.Load() && now.UnixNano() >= t.passiveUntil.Load()
}

// ActiveDown reports whether the active checker has taken the target out.
func (t *Target) ActiveDown() bool {
	return t.activeDown.Load()
}

// Load returns the number of requests in flight to the target.
func (t *Target) Load() int64 {
	return t.inFlight.Load()
}

// Begin counts a request to the target; call Done when it ends.
func (t *Target) Begin() {
	t.inFlight.Add(1)
}

// Done ends a request counted by Begin.
func (t *Target) Done() {
	t.inFlight.Add(-1)
}

// ReportFailure records a failed request at now under the passive check,
// and reports whether it started a cool-down. A nil check records nothing.
func (t *Target) ReportFailure(check *config.PassiveCheck, now time.Time) bool {
	if check == nil {
		return false
	}
	maxFailures, window, cooldown := check.Limits()

	t.mu.Lock()
	defer t.mu.Unlock()

	// Drop failures older than the window, then add this one.
	kept := t.failures[:0]
	for _, at := range t.failures {
		if now.Sub(at) < window {
			kept = append(kept, at)
		}
	}
	t.failures = append(kept, now)
	if len(t.failures) < maxFailures {
		return false
	}

	// The cool-down starts afresh, so the target returns with a clean
	// count and is taken out again only by new failures.
	t.failures = t.failures[:0]
	t.passiveUntil.Store(now.Add(cooldown).UnixNano())
	return true
}
