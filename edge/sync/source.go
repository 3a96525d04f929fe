package sync

import (
	"context"
	"errors"
	"log/slog"
	gosync "sync"
	"sync/atomic"
	"time"

	"portcullis.dev/edge/l2"
	"portcullis.dev/edge/lkg"
	"portcullis.dev/tenants/bundle"
)

// Source is the edge's bundle.Source below L1. It looks a bundle up in the
// Redis L2 (only at a revision learned from the change feed), then at the
// portal, then in the last-known-good copies on disk. While the portal is
// unreachable it reads the disk before the portal. Every bundle it returns
// from the portal is written to the L2. Only Keep writes the disk, once the
// edge has built a bundle and it passed its pre-flight, so a revision that
// the edge rejected never becomes the last-known-good copy.
type Source struct {
	client  *Client
	l2      *l2.Cache
	disk    *lkg.Dir
	metrics *Metrics
	log     *slog.Logger

	portalDown atomic.Bool

	mu gosync.Mutex
	// known is the newest revision of each tenant learned from the feed.
	known map[string]int64
	// served is the revision last returned for each tenant.
	served map[string]int64
}

var _ bundle.Source = (*Source)(nil)

// SourceOptions configure a Source. Client is required; a nil L2 or Disk
// skips that layer.
type SourceOptions struct {
	Client  *Client
	L2      *l2.Cache
	Disk    *lkg.Dir
	Metrics *Metrics
	Logger  *slog.Logger
}

// NewSource returns a Source.
func NewSource(opts SourceOptions) *Source {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Source{
		client:  opts.Client,
		l2:      opts.L2,
		disk:    opts.Disk,
		metrics: opts.Metrics,
		log:     logger,
		known:   map[string]int64{},
		served:  map[string]int64{},
	}
}

// Bundle returns the tenant's newest bundle that a layer can give.
func (s *Source) Bundle(ctx context.Context, tenant string) (*bundle.Bundle, error) {
	revision := s.knownRevision(tenant)

	if b := s.fromL2(ctx, tenant, revision); b != nil {
		return s.keep(b, false), nil
	}

	if s.portalDown.Load() {
		if b := s.fromDisk(tenant); b != nil {
			return b, nil
		}
	}

	b, err := s.fromPortal(ctx, tenant, revision)
	if err == nil {
		return s.keep(b, true), nil
	}
	if errors.Is(err, bundle.ErrTenantNotFound) {
		s.forget(tenant)
		return nil, err
	}

	if b := s.fromDisk(tenant); b != nil {
		s.log.Warn("portal unreachable; serving the last-known-good bundle", "tenant", tenant, "revision", b.Revision, "error", err)
		return b, nil
	}
	return nil, err
}

func (s *Source) fromL2(ctx context.Context, tenant string, revision int64) *bundle.Bundle {
	if s.l2 == nil || revision == 0 {
		return nil
	}

	started := time.Now()
	b, err := s.l2.Get(ctx, tenant, revision)
	if err != nil {
		s.metrics.fetch("l2", "miss", started)
		return nil
	}
	s.metrics.fetch("l2", "hit", started)
	return b
}

func (s *Source) fromPortal(ctx context.Context, tenant string, revision int64) (*bundle.Bundle, error) {
	started := time.Now()
	b, err := s.client.Bundle(ctx, tenant, revision)

	switch {
	case err == nil:
		s.metrics.fetch("portal", "hit", started)
		s.portalDown.Store(false)
	case errors.Is(err, bundle.ErrTenantNotFound):
		s.metrics.fetch("portal", "miss", started)
	default:
		s.metrics.fetch("portal", "error", started)
		if errors.Is(err, ErrUnavailable) {
			s.portalDown.Store(true)
		}
	}
	return b, err
}

func (s *Source) fromDisk(tenant string) *bundle.Bundle {
	if s.disk == nil {
		return nil
	}

	started := time.Now()
	b, err := s.disk.Load(tenant)
	if err != nil {
		s.metrics.fetch("disk", "miss", started)
		return nil
	}
	s.metrics.fetch("disk", "hit", started)
	s.markServed(b)
	return b
}

// keep records a bundle that came from the L2 or the portal, and writes it
// to the L2 when it came from the portal. The L2 caches the portal's
// revisions, good or not, so it may hold one that this edge rejects.
func (s *Source) keep(b *bundle.Bundle, fromPortal bool) *bundle.Bundle {
	s.markServed(b)
	s.Learn(b.Tenant, b.Revision)

	if fromPortal && s.l2 != nil {
		ctx, cancel := context.WithTimeout(context.Background(), l2.DefaultTimeout)
		s.l2.Put(ctx, b)
		cancel()
	}
	return b
}

// Keep writes b to the last-known-good copies on disk. The edge calls it
// (edge.Config.OnBuilt) once b is built and passed its pre-flight, so a
// restart during a portal outage serves a revision that this edge
// accepted.
func (s *Source) Keep(b *bundle.Bundle) {
	if s.disk == nil {
		return
	}
	if err := s.disk.Save(b); err != nil {
		s.log.Warn("writing the last-known-good bundle failed", "tenant", b.Tenant, "revision", b.Revision, "error", err)
	}
}

// LastKnownGood returns the tenant's bundle that Keep wrote to disk, or
// nil when there is none or it does not verify.
func (s *Source) LastKnownGood(tenant string) *bundle.Bundle {
	if s.disk == nil {
		return nil
	}
	b, err := s.disk.Load(tenant)
	if err != nil {
		return nil
	}
	return b
}

// Learn records a revision of the tenant from the change feed.
func (s *Source) Learn(tenant string, revision int64) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.known[tenant] = max(s.known[tenant], revision)
}

// SetPortalDown records whether the portal is reachable, as the feed sees it.
func (s *Source) SetPortalDown(down bool) {
	s.portalDown.Store(down)
}

// Served returns a copy of the revision last returned for each tenant.
func (s *Source) Served() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()

	served := make(map[string]int64, len(s.served))
	for tenant, revision := range s.served {
		served[tenant] = revision
	}
	return served
}

// Stale returns the tenants whose served revision is below the newest one
// learned from the feed, with that revision.
func (s *Source) Stale() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()

	stale := map[string]int64{}
	for tenant, revision := range s.served {
		if known := s.known[tenant]; known > revision {
			stale[tenant] = known
		}
	}
	return stale
}

func (s *Source) knownRevision(tenant string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.known[tenant]
}

func (s *Source) markServed(b *bundle.Bundle) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.served[b.Tenant] = b.Revision
}

// forget drops a tenant that the portal no longer has, on disk as well.
func (s *Source) forget(tenant string) {
	s.mu.Lock()
	delete(s.served, tenant)
	s.mu.Unlock()

	if s.disk != nil {
		if err := s.disk.Remove(tenant); err != nil {
			s.log.Warn("removing the last-known-good bundle failed", "tenant", tenant, "error", err)
		}
	}
}
