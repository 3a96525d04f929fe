package sync

import (
	"crypto/rand"
	"encoding/hex"
	gosync "sync"
	"time"
)

// conflictLogEvery bounds how often an agent logs a node id conflict.
const conflictLogEvery = time.Minute

// newInstance returns a random id for this edge process, which heartbeats
// carry so that the portal can tell two processes with one node id apart.
func newInstance() string {
	var id [8]byte
	// Since Go 1.24 crypto/rand.Read never returns an error.
	_, _ = rand.Read(id[:])
	return hex.EncodeToString(id[:])
}

// conflictLog limits the log of a node id conflict to one line per
// conflictLogEvery.
type conflictLog struct {
	mu     gosync.Mutex
	logged time.Time
}

// due reports whether a conflict seen at now should be logged, and if so
// records it.
func (l *conflictLog) due(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()

	if !l.logged.IsZero() && now.Sub(l.logged) < conflictLogEvery {
		return false
	}
	l.logged = now
	return true
}
