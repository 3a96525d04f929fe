package cache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portcullis.dev/edge/runtime"
	"portcullis.dev/tenants/bundle"
)

// maxAttempts bounds the fetches of one load or refresh that fail or return
// a revision older than the newest notified one.
const maxAttempts = 5

// load fetches and compiles the tenant's bundle and puts a holder for it in
// l1. A tenant that does not exist gets a holder with no runtime, kept for
// MissingTTL.
func (s *Store) load(tenant string) (*holder, error) {
	h := &holder{tenant: tenant}
	s.mu.Lock()
	s.loading[tenant] = h
	s.mu.Unlock()

	// The holder leaves loading only after it is in l1, so an Invalidate
	// always finds it in one of the two.
	defer func() {
		s.mu.Lock()
		if s.loading[tenant] == h {
			delete(s.loading, tenant)
		}
		s.mu.Unlock()
	}()

	// NOTE: a failed load is not remembered, so while a tenant's bundle
	// fails to fetch or compile, every request for it that misses fetches
	// and compiles again. Concurrent misses still share one attempt.
	rt, err := s.loadNewest(h)
	if err != nil {
		return nil, err
	}

	if rt == nil {
		s.forgetRejection(tenant)
		// NOTE: clients choose the Host, so each made-up slug still costs
		// one Source call per MissingTTL, and nothing rate-limits them.
		s.admit(tenant, h, missingCost, s.opts.MissingTTL)
	} else {
		s.accept(tenant, rt.Revision)
		s.admit(tenant, h, rt.Size, 0)
		s.opts.Logger.Info("tenant runtime loaded", "tenant", tenant, "revision", rt.Revision)
	}
	return h, nil
}

// admitAttempts bounds how often admit offers one holder to l1.
const admitAttempts = 3

// admit stores h in l1 and waits until the next Get returns it. Ristretto
// buffers sets and drops one when its buffers are contended, so a dropped
// set is offered again, a bounded number of times. A holder that l1 still
// rejects, for example one above the whole budget, is simply loaded again
// on the next miss.
func (s *Store) admit(tenant string, h *holder, cost int64, ttl time.Duration) {
	for range admitAttempts {
		s.l1.SetWithTTL(tenant, h, cost, ttl)
		s.l1.Wait()
		if found, ok := s.l1.Get(tenant); ok && found == h {
			return
		}
	}
}

// loadNewest fetches until the runtime is at least as new as every revision
// notified during the load, then stores it in h. It returns a nil runtime
// for a tenant that does not exist.
func (s *Store) loadNewest(h *holder) (*runtime.Runtime, error) {
	for attempt := 1; ; attempt++ {
		rt, err := s.fetchRuntime(h.tenant, "load")
		if err != nil && !errors.Is(err, bundle.ErrTenantNotFound) {
			return nil, err
		}

		h.mu.Lock()
		behind := h.behind(rt)
		if !behind || attempt == maxAttempts {
			h.current.Store(rt)
			h.settled = true
			h.mu.Unlock()

			if behind {
				s.opts.Logger.Warn("tenant source is behind the notified revision; serving the older bundle",
					"tenant", h.tenant, "revision", revisionOf(rt), "notified_revision", h.notifiedRevision())
			}
			return rt, nil
		}
		h.mu.Unlock()

		if err := s.backoff(attempt); err != nil {
			return nil, err
		}
	}
}

// fetchRuntime fetches the tenant's bundle and compiles it.
func (s *Store) fetchRuntime(tenant, kind string) (*runtime.Runtime, error) {
	b, err := s.fetchBundle(tenant, kind)
	if err != nil {
		return nil, err
	}
	return s.build(b, kind)
}

// fetchBundle calls Source with FetchTimeout and checks that the bundle is
// the tenant's. kind ("load" or "refresh") labels the metric.
func (s *Store) fetchBundle(tenant, kind string) (*bundle.Bundle, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.FetchTimeout)
	defer cancel()

	b, err := s.opts.Source.Bundle(ctx, tenant)
	switch {
	case errors.Is(err, bundle.ErrTenantNotFound):
		s.opts.Metrics.TenantLoad(kind, "not_found")
		return nil, fmt.Errorf("tenant %q: %w", tenant, err)
	case err != nil:
		s.opts.Metrics.TenantLoad(kind, "error")
		return nil, fmt.Errorf("fetch bundle of tenant %q: %w", tenant, err)
	case b == nil || b.Tenant != tenant:
		// Serving another tenant's bundle would break tenant isolation.
		s.opts.Metrics.TenantLoad(kind, "error")
		return nil, fmt.Errorf("fetch bundle of tenant %q: source returned a bundle of another tenant", tenant)
	}
	return b, nil
}

func (s *Store) build(b *bundle.Bundle, kind string) (*runtime.Runtime, error) {
	rt, err := s.opts.Build(b)
	if err != nil {
		s.opts.Metrics.TenantLoad(kind, "error")
		return nil, fmt.Errorf("compile bundle of tenant %q revision %d: %w", b.Tenant, b.Revision, err)
	}

	s.opts.Metrics.TenantLoad(kind, "ok")
	return rt, nil
}

// backoff sleeps before retry number attempt+1: 50 ms doubling up to 800 ms.
// It returns an error when the Store closes meanwhile.
func (s *Store) backoff(attempt int) error {
	return s.sleep(50 * time.Millisecond << min(attempt-1, 4))
}

// sleep waits for delay, and returns an error when the Store closes
// meanwhile.
func (s *Store) sleep(delay time.Duration) error {
	timer := time.NewTimer(delay)
	defer timer.Stop()

	select {
	case <-timer.C:
		return nil
	case <-s.ctx.Done():
		return fmt.Errorf("cache store closed: %w", s.ctx.Err())
	}
}

// behind reports whether rt is older than the newest notified revision. A
// missing runtime is behind any notified revision. The caller holds h.mu.
func (h *holder) behind(rt *runtime.Runtime) bool {
	if h.notified == 0 {
		return false
	}
	return rt == nil || rt.Revision < h.notified
}

// notifiedRevision returns h.notified. The caller must not hold h.mu.
func (h *holder) notifiedRevision() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.notified
}

func revisionOf(rt *runtime.Runtime) int64 {
	if rt == nil {
		return 0
	}
	return rt.Revision
}
