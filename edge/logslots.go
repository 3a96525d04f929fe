package edge

import (
	"log/slog"
	"sync"
	"time"
)

// logSlots counts the log-phase runs in flight, on the whole edge and per
// tenant, and rate-limits the warnings of the log phases it turns away. It
// is safe for concurrent use.
type logSlots struct {
	log *slog.Logger

	mu      sync.Mutex
	running int
	// active counts the tenants with runs in flight.
	active  int
	tenants map[string]*tenantLogSlots
}

// tenantLogSlots is one tenant's state in logSlots. An entry is dropped
// once the tenant has no run in flight and no warning window open.
type tenantLogSlots struct {
	running int
	// windowOpen is set while a warning was logged less than
	// logSkipInterval ago, and skipped counts the skips since then, which
	// the next warning reports.
	windowOpen bool
	skipped    int
	// share is the tenant's share at its last skip, which the warnings
	// report.
	share int
}

func newLogSlots(logger *slog.Logger) *logSlots {
	return &logSlots{log: logger, tenants: map[string]*tenantLogSlots{}}
}

// acquire takes a log slot of tenant and reports whether it got one. It
// does not while maxLogHooks runs are in flight on the edge, or while the
// tenant has its share in flight (fairShare). Then the caller skips the
// log phase, and acquire warns about it, at most once per logSkipInterval
// per tenant.
func (s *logSlots) acquire(tenant, requestID string) bool {
	s.mu.Lock()
	entry := s.tenants[tenant]
	if entry == nil {
		entry = &tenantLogSlots{}
		s.tenants[tenant] = entry
	}
	if s.running < maxLogHooks && entry.running < s.fairShare() {
		s.running++
		entry.running++
		if entry.running == 1 {
			s.active++
		}
		s.mu.Unlock()
		return true
	}

	if entry.windowOpen {
		entry.skipped++
		entry.share = s.fairShare()
		s.mu.Unlock()
		return false
	}
	entry.windowOpen = true
	time.AfterFunc(logSkipInterval, func() { s.closeWindow(tenant) })
	entry.share = s.fairShare()
	running, tenantRunning, share := s.running, entry.running, entry.share
	s.mu.Unlock()

	s.log.Warn("log phase skipped: too many in flight", "tenant", tenant, "request_id", requestID, "skipped", 1,
		"in_flight", running, "tenant_in_flight", tenantRunning, "limit", maxLogHooks, "tenant_limit", share)
	return false
}

// fairShare returns how many log-phase runs one tenant may have in flight
// when it starts another: the edge's slots split evenly between the
// tenants with runs in flight and one more, at least 1 and at most
// maxLogHooksPerTenant. The one more keeps a share free, so a tenant that
// arrives while others are busy finds a slot. A tenant above its share
// keeps its runs and starts new ones only below it. The caller holds s.mu.
func (s *logSlots) fairShare() int {
	return max(1, min(maxLogHooksPerTenant, maxLogHooks/(s.active+1)))
}

// release gives back a slot that acquire took.
func (s *logSlots) release(tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.running--
	entry := s.tenants[tenant]
	entry.running--
	if entry.running == 0 {
		s.active--
	}
	if entry.running == 0 && !entry.windowOpen {
		delete(s.tenants, tenant)
	}
}

// closeWindow ends a tenant's warning window. When log phases were skipped
// in it, it warns with their count and opens the next window.
func (s *logSlots) closeWindow(tenant string) {
	s.mu.Lock()
	entry := s.tenants[tenant]
	skipped := entry.skipped
	if skipped == 0 {
		entry.windowOpen = false
		if entry.running == 0 {
			delete(s.tenants, tenant)
		}
		s.mu.Unlock()
		return
	}
	entry.skipped = 0
	time.AfterFunc(logSkipInterval, func() { s.closeWindow(tenant) })
	running, tenantRunning, share := s.running, entry.running, entry.share
	s.mu.Unlock()

	s.log.Warn("log phase skipped: too many in flight", "tenant", tenant, "skipped", skipped, "interval", logSkipInterval,
		"in_flight", running, "tenant_in_flight", tenantRunning, "limit", maxLogHooks, "tenant_limit", share)
}
