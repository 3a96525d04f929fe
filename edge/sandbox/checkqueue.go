package sandbox

import (
	"context"
	"slices"
	"sync"
)

// checkQueue grants the pool's one check slot (see Verify) to waiting
// checks one tenant at a time, in turn, and to a tenant's checks in the
// order they arrived. A tenant with many slow checks waiting then delays
// another tenant's check by at most one check of its own, where a
// first-come queue made it wait behind all of them.
type checkQueue struct {
	mu   sync.Mutex
	busy bool
	// waiting holds each tenant's waiting checks, oldest first, and turns
	// the tenants that have any, in the order of their next turn.
	waiting map[string][]*checkWaiter
	turns   []string
}

// checkWaiter is one check waiting for the slot. ready is closed when the
// slot is granted to it.
type checkWaiter struct {
	ready chan struct{}
}

func newCheckQueue() *checkQueue {
	return &checkQueue{waiting: map[string][]*checkWaiter{}}
}

// acquire waits for the slot within ctx. It returns ctx's error when ctx
// ends first, and then holds no slot.
func (q *checkQueue) acquire(ctx context.Context, tenant string) error {
	q.mu.Lock()
	if !q.busy {
		q.busy = true
		q.mu.Unlock()
		return nil
	}
	w := &checkWaiter{ready: make(chan struct{})}
	if len(q.waiting[tenant]) == 0 {
		q.turns = append(q.turns, tenant)
	}
	q.waiting[tenant] = append(q.waiting[tenant], w)
	q.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	select {
	case <-w.ready:
		// The slot came as ctx ended, so it passes to the next check.
		q.grantNext()
	default:
		q.remove(tenant, w)
	}
	return ctx.Err()
}

// release frees the slot that acquire granted.
func (q *checkQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.grantNext()
}

// held reports whether a check holds the slot.
func (q *checkQueue) held() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.busy
}

// grantNext gives the slot to the oldest check of the tenant whose turn
// it is, and moves that tenant to the end of the turns when it has more
// checks waiting. With none waiting the slot becomes free. q.mu is held.
func (q *checkQueue) grantNext() {
	if len(q.turns) == 0 {
		q.busy = false
		return
	}

	tenant := q.turns[0]
	q.turns = q.turns[1:]
	waiters := q.waiting[tenant]
	next := waiters[0]
	if len(waiters) == 1 {
		delete(q.waiting, tenant)
	} else {
		q.waiting[tenant] = waiters[1:]
		q.turns = append(q.turns, tenant)
	}

	q.busy = true
	close(next.ready)
}

// remove takes a waiting check out of the queue. q.mu is held.
func (q *checkQueue) remove(tenant string, w *checkWaiter) {
	waiters := slices.DeleteFunc(q.waiting[tenant], func(other *checkWaiter) bool { return other == w })
	if len(waiters) > 0 {
		q.waiting[tenant] = waiters
		return
	}
	delete(q.waiting, tenant)
	q.turns = slices.DeleteFunc(q.turns, func(other string) bool { return other == tenant })
}
