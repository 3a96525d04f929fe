package edge

import (
	"portcullis.dev/edge/metrics"
)

// HeldRevisions returns the revision of each tenant runtime in the L1
// cache. Tenants that L1 evicted are not in it.
func (e *Edge) HeldRevisions() map[string]int64 {
	return e.store.Held()
}

// CacheStats returns the L1 entry count, cost and evictions.
func (e *Edge) CacheStats() metrics.L1Stats {
	return e.store.Stats()
}
