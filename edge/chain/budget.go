package chain

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Borrowing limits of a tenantBudget.
const (
	// borrowMaxCall is the longest average hook call of a tenant that may
	// borrow CPUs.
	borrowMaxCall = time.Millisecond
	// borrowBan is how long a hook call that ran out of time stops its
	// tenant from borrowing.
	borrowBan = 10 * time.Second
)

// tenantBudget bounds the CPUs that one tenant's hooks use. A phase runs
// on one of the tenant's slots, which cover half the CPUs, so a tenant
// whose hooks spin always leaves the other half to other tenants. When the
// tenant's slots are taken, a phase may borrow an idle CPU instead of
// waiting: while fewer phases of all tenants run than there are CPUs, and
// while the tenant's hook calls are quick and none ran out of time lately.
// A lone tenant with light plugins thus uses every CPU, and one whose hooks
// turn slow falls back to its own slots within a few calls.
type tenantBudget struct {
	slots      chan struct{}
	supervisor *Supervisor

	// callNanos is a moving average of the tenant's hook call times, and
	// bannedUntil the Unix nanosecond time before which it may not borrow.
	// Both are heuristics, updated without locks.
	callNanos   atomic.Int64
	bannedUntil atomic.Int64
}

// recordCall adds a guarded hook call to its tenant's budget. A call that
// waited for a slot adds no time, since its time was not all the hook's.
func (g *Guard) recordCall(elapsed time.Duration, waited bool, err error) {
	if g == nil {
		return
	}
	timedOut := errors.Is(err, context.DeadlineExceeded)
	if (waited && !timedOut) || errors.Is(err, errQuarantined) {
		return
	}
	g.budget.record(elapsed, timedOut)
}

// record adds one hook call to the tenant's average, and bans borrowing
// after a call that ran out of time.
func (b *tenantBudget) record(elapsed time.Duration, timedOut bool) {
	average := b.callNanos.Load()
	b.callNanos.Store(average + (int64(elapsed)-average)/8)
	if timedOut {
		b.bannedUntil.Store(time.Now().Add(borrowBan).UnixNano())
	}
}

// borrow takes an idle CPU for one phase, and reports whether it did.
func (b *tenantBudget) borrow(now time.Time) bool {
	if now.UnixNano() < b.bannedUntil.Load() || b.callNanos.Load() > int64(borrowMaxCall) {
		return false
	}
	running := &b.supervisor.running
	for {
		count := running.Load()
		if count >= b.supervisor.cpus {
			return false
		}
		if running.CompareAndSwap(count, count+1) {
			return true
		}
	}
}

// tenantSlot is the tenant hook slot that one phase run holds: one of the
// tenant's own, or a borrowed CPU. Consecutive steps with the same budget,
// which is every step of a chain because a chain serves one tenant, share
// one slot, so a phase of n hooks takes one slot instead of n. The zero
// value holds no slot.
type tenantSlot struct {
	budget   *tenantBudget
	borrowed bool
}

// acquire holds a slot of g's tenant, waiting until ctx ends, and reports
// whether it waited. It keeps the slot it holds when that slot is of the
// same budget.
func (s *tenantSlot) acquire(ctx context.Context, g *Guard, now time.Time) (waited bool, err error) {
	if s.budget == g.budget {
		return false, nil
	}
	s.release()

	budget := g.budget
	select {
	case budget.slots <- struct{}{}:
		s.hold(budget, false)
		return false, nil
	default:
	}
	if budget.borrow(now) {
		s.budget, s.borrowed = budget, true
		return false, nil
	}
	select {
	case budget.slots <- struct{}{}:
		s.hold(budget, false)
		return true, nil
	case <-ctx.Done():
		return true, fmt.Errorf("wait for a hook slot of tenant %q: %w", g.tenant, ctx.Err())
	}
}

// hold records a slot of budget taken from its channel.
func (s *tenantSlot) hold(budget *tenantBudget, borrowed bool) {
	budget.supervisor.running.Add(1)
	s.budget, s.borrowed = budget, borrowed
}

// release gives the slot back, if one is held.
func (s *tenantSlot) release() {
	if s.budget == nil {
		return
	}
	if !s.borrowed {
		<-s.budget.slots
	}
	s.budget.supervisor.running.Add(-1)
	s.budget, s.borrowed = nil, false
}
