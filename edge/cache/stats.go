package cache

import (
	"portcullis.dev/edge/metrics"
)

// Stats returns the L1 entry count, the cost they are charged and the
// number of evictions so far. Entries and cost count tenants that do not
// exist too, since the Store remembers them for MissingTTL. Ristretto
// applies Set calls from a buffer, so a Set shows here a moment later.
func (s *Store) Stats() metrics.L1Stats {
	counters := s.l1.Metrics
	return metrics.L1Stats{
		Entries:   int64(counters.KeysAdded() - counters.KeysEvicted()),
		Cost:      int64(counters.CostAdded() - counters.CostEvicted()),
		MaxCost:   s.opts.MaxCost,
		Evictions: s.evictions.Load(),
	}
}

// Held returns the revision of each tenant runtime in L1. It
// reads the entries without counting hits or touching the admission policy,
// so calling it often does not change what L1 keeps.
func (s *Store) Held() map[string]int64 {
	held := map[string]int64{}
	s.l1.IterValues(func(h *holder) bool {
		if rt := h.current.Load(); rt != nil {
			held[h.tenant] = rt.Revision
		}
		return false
	})
	return held
}
