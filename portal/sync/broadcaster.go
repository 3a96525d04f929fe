// Package sync wakes the portal's change feed readers when a change event
// commits: in-process for writes through this replica, by PostgreSQL
// LISTEN/NOTIFY for writes through other replicas, and by a short poll of
// the feed head as a fallback when neither reaches it.
package sync

import (
	gosync "sync"
)

// Broadcaster wakes every waiter at once. The zero value is not usable: call
// NewBroadcaster.
type Broadcaster struct {
	mu     gosync.Mutex
	wake   chan struct{}
	closed bool
}

// NewBroadcaster returns an open Broadcaster.
func NewBroadcaster() *Broadcaster {
	return &Broadcaster{wake: make(chan struct{})}
}

// Wait returns a channel that closes at the next Notify or at Close. Take
// the channel before reading the feed, so a change that commits between the
// read and the wait still wakes the reader.
func (b *Broadcaster) Wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.wake
}

// Notify wakes every current waiter.
func (b *Broadcaster) Notify() {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.closed {
		return
	}
	close(b.wake)
	b.wake = make(chan struct{})
}

// Close wakes every waiter for the last time; later Wait channels are
// already closed, so streams end.
func (b *Broadcaster) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()

	if b.closed {
		return
	}
	b.closed = true
	close(b.wake)
}

// Closed reports whether Close was called.
func (b *Broadcaster) Closed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()

	return b.closed
}
