// Package health keeps the health of upstream targets for the whole edge:
// requests in flight, passive failure counts and the results of active
// probes. The state is keyed by tenant, upstream and target URL, outside
// the per-revision runtimes, so a config reload keeps it.
package health

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultMaxProbes bounds the active probes in flight across the edge.
const DefaultMaxProbes = 16

// Key names one target of one upstream of one tenant.
type Key struct {
	Tenant   string
	Upstream string
	Target   string
}

// Registry holds the health of every target the edge has seen and runs the
// active checkers. It is safe for concurrent use.
type Registry struct {
	log    *slog.Logger
	probes chan struct{}
	now    func() time.Time

	// syncMu serializes Sync. It is taken before mu.
	syncMu sync.Mutex

	mu       sync.RWMutex
	targets  map[Key]*Target
	checkers map[checkerKey]*checker
	closed   bool
}

type checkerKey struct {
	tenant   string
	upstream string
}

// Options configure a Registry.
type Options struct {
	// MaxProbes bounds the active probes in flight across the edge. Zero
	// means DefaultMaxProbes.
	MaxProbes int
	// Logger receives target state changes. Nil is silent.
	Logger *slog.Logger
}

// NewRegistry returns an empty registry.
func NewRegistry(opts Options) *Registry {
	if opts.MaxProbes <= 0 {
		opts.MaxProbes = DefaultMaxProbes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{
		log:      opts.Logger,
		probes:   make(chan struct{}, opts.MaxProbes),
		now:      time.Now,
		targets:  map[Key]*Target{},
		checkers: map[checkerKey]*checker{},
	}
}

// Targets returns the state of each target URL of an upstream, in the
// order given, creating the state of a target not seen before as healthy.
func (r *Registry) Targets(tenant, upstream string, urls []string) []*Target {
	states := make([]*Target, len(urls))
	if r.lookup(tenant, upstream, urls, states) {
		return states
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for i, target := range urls {
		key := Key{Tenant: tenant, Upstream: upstream, Target: target}
		state, ok := r.targets[key]
		if !ok {
			state = &Target{key: key}
			r.targets[key] = state
		}
		states[i] = state
	}
	return states
}

// lookup fills states under the read lock, the path of every request once
// the targets exist, and reports whether it found them all.
func (r *Registry) lookup(tenant, upstream string, urls []string, states []*Target) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for i, target := range urls {
		state, ok := r.targets[Key{Tenant: tenant, Upstream: upstream, Target: target}]
		if !ok {
			return false
		}
		states[i] = state
	}
	return true
}

// Now returns the registry's clock reading.
func (r *Registry) Now() time.Time {
	return r.now()
}

// Close stops every active checker and waits for them. Targets keeps
// working after Close, but Sync starts no more checkers.
func (r *Registry) Close() {
	r.mu.Lock()
	r.closed = true
	checkers := r.checkers
	r.checkers = map[checkerKey]*checker{}
	r.mu.Unlock()

	for _, running := range checkers {
		running.stop()
	}
}

// Checkers returns the number of active checkers running.
func (r *Registry) Checkers() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.checkers)
}

// acquireProbe waits for a probe slot, or returns false when ctx ends.
func (r *Registry) acquireProbe(ctx context.Context) bool {
	select {
	case r.probes <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *Registry) releaseProbe() {
	<-r.probes
}
