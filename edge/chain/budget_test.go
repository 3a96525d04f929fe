package chain

import (
	"context"
	"errors"
	"testing"
	"time"
)

// budgetSupervisor returns a Supervisor with one slot per tenant on a
// machine of two CPUs.
func budgetSupervisor() *Supervisor {
	s := NewSupervisor(nil)
	s.slotsPerTenant, s.cpus = 1, 2
	return s
}

// acquireWithin tries to take a slot for at most wait.
func acquireWithin(g *Guard, wait time.Duration) (*tenantSlot, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	slot := &tenantSlot{}
	waited, err := slot.acquire(ctx, g, time.Now())
	return slot, waited, err
}

func TestBudgetLendsIdleCPUs(t *testing.T) {
	s := budgetSupervisor()
	g := s.Guard("lone", Step{Binding: "b", Plugin: "p", Version: "1.0.0"}, time.Second, false)

	own, _, err := acquireWithin(g, time.Second)
	if err != nil || own.borrowed {
		t.Fatalf("first phase: slot %+v, error %v; want the tenant's own slot", own, err)
	}
	lent, waited, err := acquireWithin(g, time.Second)
	if err != nil || waited || !lent.borrowed {
		t.Fatalf("second phase: slot %+v, waited %t, error %v; want a borrowed CPU at once", lent, waited, err)
	}
	if _, _, err := acquireWithin(g, 50*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third phase with both CPUs busy: error %v, want it to wait until its context ends", err)
	}

	lent.release()
	own.release()
	if running := s.running.Load(); running != 0 {
		t.Errorf("running = %d after every slot was released, want 0", running)
	}
}

func TestBudgetStopsLendingToSlowTenants(t *testing.T) {
	tests := []struct {
		name   string
		record func(b *tenantBudget)
	}{
		{"timed out", func(b *tenantBudget) { b.record(time.Millisecond, true) }},
		{"slow calls", func(b *tenantBudget) {
			for range 20 {
				b.record(5*time.Millisecond, false)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := budgetSupervisor()
			g := s.Guard("slow", Step{Binding: "b", Plugin: "p", Version: "1.0.0"}, time.Second, false)
			tt.record(g.budget)

			own, _, err := acquireWithin(g, time.Second)
			if err != nil {
				t.Fatalf("first phase: %v", err)
			}
			defer own.release()
			if _, _, err := acquireWithin(g, 50*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("second phase: error %v, want it to wait for the tenant's only slot", err)
			}

			// Another tenant still gets a slot of its own.
			other := s.Guard("other", Step{Binding: "b", Plugin: "p", Version: "1.0.0"}, time.Second, false)
			slot, waited, err := acquireWithin(other, time.Second)
			if err != nil || waited || slot.borrowed {
				t.Errorf("other tenant: slot %+v, waited %t, error %v; want its own slot at once", slot, waited, err)
			}
			slot.release()
		})
	}
}
