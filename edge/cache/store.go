// Package cache keeps compiled tenant runtimes in memory: an L1 cache
// (ristretto) of per-tenant holders, loaded lazily on a tenant's first
// request and refreshed off the request path when the tenant changes.
package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"golang.org/x/sync/singleflight"

	"portcullis.dev/edge/metrics"
	"portcullis.dev/edge/runtime"
	"portcullis.dev/tenants/bundle"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxCost      = 64 << 20
	DefaultFetchTimeout = 5 * time.Second
	DefaultMissingTTL   = 10 * time.Second
	DefaultRetryDelay   = time.Second
)

// missingCost is the L1 cost charged for remembering that a tenant does not
// exist, an estimate of the holder's size in bytes.
const missingCost = 256

// Options configure a Store.
type Options struct {
	// Source returns tenant bundles. It is required.
	Source bundle.Source
	// Build compiles a bundle. It is required.
	Build func(*bundle.Bundle) (*runtime.Runtime, error)
	// MaxCost is the L1 budget in bytes, charged with each runtime's Size.
	// Zero means DefaultMaxCost.
	MaxCost int64
	// FetchTimeout bounds one call to Source. Zero means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MissingTTL is how long the Store remembers that a tenant does not
	// exist before it calls Source again. An Invalidate for the tenant ends
	// it early. Zero means DefaultMissingTTL.
	MissingTTL time.Duration
	// Logger receives load and refresh events. Nil is silent.
	Logger *slog.Logger
	// Metrics counts hits, misses and loads. Nil records nothing.
	Metrics *metrics.Metrics
	// Retry reports whether a failed Build left the bundle unjudged, such
	// as a pre-flight that found no free check worker. A refresh then
	// builds the newest bundle again after a back-off, until a Build
	// passes or fails for another reason, and records no rejection. Nil
	// takes every failed Build as a rejection.
	Retry func(error) bool
	// RetryDelay is the wait before the first build again after Retry
	// matched. Each further one in a row doubles it, up to MaxRetryDelay.
	// Zero means DefaultRetryDelay.
	RetryDelay time.Duration
	// Reason turns the error of a refresh's failed build into the reason
	// that Rejected returns. The Store then joins it into one line of at
	// most MaxReasonLength characters. Nil uses the error text.
	Reason func(error) string
	// OnLeave, when set, is called with a tenant's runtime once the tenant
	// left the cache: L1 evicted it, or the source no longer has it. It
	// runs on a cache goroutine, and must not call the Store.
	OnLeave func(tenant string, rt *runtime.Runtime)
}

// Store is the L1 cache of tenant runtimes. It is safe for concurrent use.
type Store struct {
	opts    Options
	l1      *ristretto.Cache[string, *holder]
	loads   singleflight.Group
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup

	// loading holds each holder from the start of its load until it is in
	// l1, so that an Invalidate during the load finds it.
	mu      sync.Mutex
	loading map[string]*holder

	// rejected holds the newest revision of each tenant whose refresh
	// failed to build.
	rejected rejections

	// evictions counts holders that left l1 because of the budget or
	// their TTL, not those removed with Del.
	evictions atomic.Int64
}

// holder is the L1 entry of one tenant. Requests read current without
// locks. mu guards the other fields and serializes swaps of current.
type holder struct {
	tenant  string
	current atomic.Pointer[runtime.Runtime]

	mu sync.Mutex
	// settled is true once the first load stored its result. Before that,
	// a nil current means "loading"; after it, "tenant not found".
	settled bool
	// notified is the highest revision passed to Invalidate.
	notified   int64
	refreshing bool
}

// New returns a Store. Call Close when done with it.
func New(opts Options) (*Store, error) {
	if opts.Source == nil || opts.Build == nil {
		return nil, errors.New("cache store needs a Source and a Build function")
	}
	if opts.MaxCost <= 0 {
		opts.MaxCost = DefaultMaxCost
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.MissingTTL <= 0 {
		opts.MissingTTL = DefaultMissingTTL
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = DefaultRetryDelay
	}
	if opts.Retry == nil {
		opts.Retry = func(error) bool { return false }
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}

	s := &Store{opts: opts, loading: map[string]*holder{}}
	l1, err := ristretto.NewCache(&ristretto.Config[string, *holder]{
		// Ristretto advises 10 counters per item; items are estimated
		// at 4 KiB each.
		NumCounters:        max(opts.MaxCost/4096*10, 1000),
		MaxCost:            opts.MaxCost,
		BufferItems:        64,
		IgnoreInternalCost: true,
		// Metrics feed Stats: ristretto counts keys and cost as it
		// applies sets and evictions.
		Metrics:  true,
		OnEvict:  s.evicted,
		OnReject: s.forget,
	})
	if err != nil {
		return nil, fmt.Errorf("create L1 cache: %w", err)
	}
	s.l1 = l1
	opts.Metrics.WatchL1(s.Stats)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Close stops pending refreshes, waits for them and empties the cache.
func (s *Store) Close() {
	// Cancel under mu, so startWorker never adds a worker after Wait began.
	s.mu.Lock()
	s.cancel()
	s.mu.Unlock()

	s.workers.Wait()
	s.l1.Close()
}

// Runtime returns the tenant's current runtime, loading it on a miss. It
// returns an error wrapping bundle.ErrTenantNotFound for unknown tenants.
// Concurrent misses for one tenant share one load. ctx only bounds the wait,
// so a caller that gives up does not fail the load for the others.
func (s *Store) Runtime(ctx context.Context, tenant string) (*runtime.Runtime, error) {
	if h, ok := s.l1.Get(tenant); ok {
		s.opts.Metrics.L1Hit()
		return h.runtime()
	}
	s.opts.Metrics.L1Miss()

	result := s.loads.DoChan(tenant, func() (any, error) {
		// A load that finished between the miss above and this call has
		// already put the holder in l1, so look again before fetching.
		if h, ok := s.l1.Get(tenant); ok {
			return h, nil
		}
		return s.load(tenant)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case loaded := <-result:
		if loaded.Err != nil {
			return nil, loaded.Err
		}
		return loaded.Val.(*holder).runtime()
	}
}

// Loaded returns the tenant's runtime if it is in the cache, without
// loading it or counting a hit or miss.
func (s *Store) Loaded(tenant string) (*runtime.Runtime, bool) {
	h := s.lookup(tenant)
	if h == nil {
		return nil, false
	}
	rt := h.current.Load()
	return rt, rt != nil
}

func (h *holder) runtime() (*runtime.Runtime, error) {
	rt := h.current.Load()
	if rt == nil {
		return nil, fmt.Errorf("tenant %q: %w", h.tenant, bundle.ErrTenantNotFound)
	}
	return rt, nil
}

// lookup returns the tenant's holder from l1 or from a load in progress.
func (s *Store) lookup(tenant string) *holder {
	if h, ok := s.l1.Get(tenant); ok {
		return h
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loading[tenant]
}

// evicted counts an eviction, deletes the tenant's metric series and
// reports the runtime to OnLeave.
func (s *Store) evicted(item *ristretto.Item[*holder]) {
	s.evictions.Add(1)
	s.forget(item)
	if item.Value != nil {
		// The tenant's next load builds its newest revision afresh, so a
		// rejection recorded by an earlier refresh no longer applies.
		s.forgetRejection(item.Value.tenant)
		s.reportLeave(item.Value.tenant, item.Value.current.Load())
	}
}

// reportLeave passes a runtime that left the cache to OnLeave.
func (s *Store) reportLeave(tenant string, rt *runtime.Runtime) {
	if rt != nil && s.opts.OnLeave != nil {
		s.opts.OnLeave(tenant, rt)
	}
}

// forget drops the metric series of a tenant whose holder left the cache.
func (s *Store) forget(item *ristretto.Item[*holder]) {
	if item.Value != nil {
		s.opts.Metrics.ForgetTenant(item.Value.tenant)
	}
}
