package sandbox

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// queueCheck starts a goroutine that acquires q's slot for tenant, appends
// label to order once it holds the slot, and then waits for its release
// signal. It returns after the check is queued.
func queueCheck(t *testing.T, q *checkQueue, tenant, label string, order *lockedLabels) chan<- struct{} {
	t.Helper()
	release := make(chan struct{})
	queued := q.waitingCount()
	go func() {
		if err := q.acquire(context.Background(), tenant); err != nil {
			t.Errorf("acquire(%s) error = %v", label, err)
			return
		}
		order.add(label)
		<-release
		q.release()
	}()
	waitFor(t, "check "+label+" to queue", func() bool { return q.waitingCount() == queued+1 })
	return release
}

// lockedLabels records labels from several goroutines.
type lockedLabels struct {
	mu     sync.Mutex
	labels []string
}

func (l *lockedLabels) add(label string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.labels = append(l.labels, label)
}

func (l *lockedLabels) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.labels)
}

// waitingCount returns the number of checks waiting for the slot.
func (q *checkQueue) waitingCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	count := 0
	for _, waiters := range q.waiting {
		count += len(waiters)
	}
	return count
}

// TestCheckQueueTakesTurnsByTenant queues three checks of one tenant and
// then one of another while the slot is held, and checks that the second
// tenant's check runs after the first tenant's first, not after all three.
func TestCheckQueueTakesTurnsByTenant(t *testing.T) {
	q := newCheckQueue()
	if err := q.acquire(context.Background(), "holder"); err != nil {
		t.Fatalf("acquire of the free slot error = %v", err)
	}

	order := &lockedLabels{}
	releases := map[string]chan<- struct{}{}
	for _, label := range []string{"a1", "a2", "a3"} {
		releases[label] = queueCheck(t, q, "attacker", label, order)
	}
	releases["v1"] = queueCheck(t, q, "victim", "v1", order)

	q.release()
	for i := range len(releases) {
		waitFor(t, "the next check to run", func() bool { return len(order.snapshot()) == i+1 })
		releases[order.snapshot()[i]] <- struct{}{}
	}

	want := []string{"a1", "v1", "a2", "a3"}
	if got := order.snapshot(); !slices.Equal(got, want) {
		t.Errorf("checks ran in order %v, want %v", got, want)
	}
	waitFor(t, "the slot to be free after every check released it", func() bool { return !q.held() })
}

// TestCheckQueueCanceledWaitLeavesQueue checks that a check whose context
// ends while it waits returns the context's error and does not take a
// later turn.
func TestCheckQueueCanceledWaitLeavesQueue(t *testing.T) {
	q := newCheckQueue()
	if err := q.acquire(context.Background(), "holder"); err != nil {
		t.Fatalf("acquire of the free slot error = %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := q.acquire(ctx, "victim")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("acquire with an ended context error = %v, want %v", err, context.DeadlineExceeded)
	}
	if n := q.waitingCount(); n != 0 {
		t.Errorf("%d checks still waiting after the wait ended, want 0", n)
	}

	q.release()
	if q.held() {
		t.Error("slot held after its only holder released it, want free")
	}
	if err := q.acquire(context.Background(), "next"); err != nil {
		t.Errorf("acquire after the release error = %v", err)
	}
}
