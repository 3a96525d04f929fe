package cache

import (
	"time"

	"portcullis.dev/edge/runtime"
	"portcullis.dev/plugins-marketplace/pluginpkg"
)

// MaxRetryDelay bounds the back-off between builds of a bundle that
// Options.Retry matched.
const MaxRetryDelay = 30 * time.Second

// retryDelay returns the wait before build number attempt+1 of a bundle
// after attempt builds in a row that Options.Retry matched: RetryDelay,
// doubling up to MaxRetryDelay.
func (s *Store) retryDelay(attempt int) time.Duration {
	delay := s.opts.RetryDelay << min(attempt-1, 16)
	return min(delay, MaxRetryDelay)
}

// waitToRetry logs a refresh build that left revision unjudged and sleeps
// for the back-off of attempt. It returns false, with h.refreshing
// cleared, when the refresh should end instead: the Store closed, or h
// left the cache, whose next load builds the newest revision anyway.
func (s *Store) waitToRetry(h *holder, current *runtime.Runtime, revision int64, attempt int, err error) bool {
	delay := s.retryDelay(attempt)
	s.opts.Logger.Warn("new bundle not checked; serving the current revision and retrying",
		"tenant", h.tenant, "revision", revisionOf(current), "pending_revision", revision,
		"attempt", attempt, "retry_in", delay, "error", pluginpkg.WithoutConfigValues(err))

	if s.sleep(delay) == nil && s.lookup(h.tenant) == h {
		return true
	}
	h.mu.Lock()
	h.refreshing = false
	h.mu.Unlock()
	return false
}

// RetryLater notifies revision of tenant again after RetryDelay, for a
// Build that served an older revision because it could not judge revision
// (see Options.Retry). The refresh that the notice starts retries with
// back-off until a build of the newest revision is judged. It returns at
// once.
func (s *Store) RetryLater(tenant string, revision int64) {
	if !s.addWorker() {
		return
	}

	go func() {
		defer s.workers.Done()
		if s.sleep(s.opts.RetryDelay) == nil {
			s.Invalidate(tenant, revision)
		}
	}()
}
