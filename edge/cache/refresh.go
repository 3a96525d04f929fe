package cache

import (
	"errors"

	"portcullis.dev/edge/runtime"
	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/tenants/bundle"
)

// Invalidate records that the tenant changed to revision and, if its runtime
// is cached, refreshes it in a goroutine. Refreshes of one tenant run one at
// a time and never swap to an older revision than the current one. A tenant
// that is not cached is left alone, because its first request loads the
// newest bundle. Invalidate matches bundle.ChangeFunc and does not block.
func (s *Store) Invalidate(tenant string, revision int64) {
	h := s.lookup(tenant)
	if h == nil {
		return
	}

	h.mu.Lock()
	h.notified = max(h.notified, revision)
	start := h.settled && !h.refreshing && h.behind(h.current.Load())
	if start {
		h.refreshing = true
	}
	h.mu.Unlock()

	if start {
		s.startWorker(func() { s.refresh(h) }, h)
	}
}

// addWorker counts one more goroutine that Close waits for, and reports
// false instead once the Store is closed.
func (s *Store) addWorker() bool {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.ctx.Err() != nil {
		return false
	}
	s.workers.Add(1)
	return true
}

// startWorker runs refresh in a goroutine that Close waits for. Once the
// Store is closed it clears the holder's refreshing flag instead.
func (s *Store) startWorker(refresh func(), h *holder) {
	if !s.addWorker() {
		h.mu.Lock()
		h.refreshing = false
		h.mu.Unlock()
		return
	}

	go func() {
		defer s.workers.Done()
		refresh()
	}()
}

// refresh fetches and swaps in bundles until h is at the newest notified
// revision. It gives up after maxAttempts failed fetches in a row, and when
// the new bundle fails to compile, keeping the old runtime in both cases.
// A failed build is recorded for Rejected, except one that Options.Retry
// matches: that one is built again after a back-off, for as long as h is
// cached.
func (s *Store) refresh(h *holder) {
	failures, unjudged := 0, 0
	for {
		h.mu.Lock()
		current := h.current.Load()
		done := !h.behind(current) || failures >= maxAttempts || s.ctx.Err() != nil
		if done {
			h.refreshing = false
		}
		notified := h.notified
		h.mu.Unlock()

		if done {
			if failures >= maxAttempts {
				s.opts.Logger.Error("refresh of tenant gave up; serving the current revision",
					"tenant", h.tenant, "revision", revisionOf(current), "notified_revision", notified)
			}
			return
		}

		b, err := s.fetchBundle(h.tenant, "refresh")
		if errors.Is(err, bundle.ErrTenantNotFound) {
			s.remove(h)
			return
		}
		if err == nil && current != nil && b.Revision <= current.Revision {
			err = errors.New("source returned a revision no newer than the current one")
		}
		if err != nil {
			failures++
			s.opts.Logger.Warn("refresh of tenant failed; retrying", "tenant", h.tenant, "revision", revisionOf(current), "notified_revision", notified, "error", err)
			_ = s.backoff(failures)
			continue
		}

		rt, err := s.build(b, "refresh")
		if err != nil && s.opts.Retry(err) {
			unjudged++
			if !s.waitToRetry(h, current, b.Revision, unjudged, err) {
				return
			}
			continue
		}
		unjudged = 0
		if err != nil {
			s.opts.Logger.Error("new bundle rejected; serving the current revision",
				"tenant", h.tenant, "revision", revisionOf(current), "failed_revision", b.Revision, "error", pluginpkg.WithoutConfigValues(err))
			s.reject(h.tenant, b.Revision, err)
			if !s.notifiedAfter(h, b.Revision) {
				return
			}
			continue
		}

		s.swap(h, rt)
	}
}

// notifiedAfter reports whether a revision newer than revision was notified.
// When it was not, it clears h.refreshing, so the next Invalidate starts a
// new refresh.
func (s *Store) notifiedAfter(h *holder, revision int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()

	if h.notified > revision {
		return true
	}
	h.refreshing = false
	return false
}

// swap makes rt the current runtime of h unless h already has a newer one.
// Requests that loaded the old runtime keep it until they finish.
func (s *Store) swap(h *holder, rt *runtime.Runtime) {
	h.mu.Lock()
	previous := h.current.Load()
	swapped := previous == nil || rt.Revision > previous.Revision
	if swapped {
		h.current.Store(rt)
	}
	h.mu.Unlock()

	if !swapped {
		return
	}
	s.accept(h.tenant, rt.Revision)

	// Update the cost, unless the holder left the cache meanwhile. A zero
	// TTL also ends the expiry of a holder that was "not found".
	if cached, ok := s.l1.Get(h.tenant); ok && cached == h {
		s.l1.Set(h.tenant, h, rt.Size)
	}
	s.opts.Logger.Info("tenant runtime swapped", "tenant", h.tenant, "revision", rt.Revision, "previous_revision", revisionOf(previous))
}

// remove drops a tenant that the source no longer has. Requests in flight
// finish on the runtime they hold, and the next request loads again.
func (s *Store) remove(h *holder) {
	h.mu.Lock()
	previous := h.current.Swap(nil)
	h.refreshing = false
	h.mu.Unlock()

	if cached, ok := s.l1.Get(h.tenant); ok && cached == h {
		s.l1.Del(h.tenant)
	}
	s.opts.Metrics.ForgetTenant(h.tenant)
	s.forgetRejection(h.tenant)
	s.opts.Logger.Info("tenant removed from the cache because the source no longer has it", "tenant", h.tenant)
	s.reportLeave(h.tenant, previous)
}
