package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"portcullis.dev/plugins-marketplace/worker"
)

// Pool starts, bounds, reaps and restarts the plugin workers of an edge.
// By default one worker serves one tenant. It is safe for concurrent use.
type Pool struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	nextSet uint64
	tenants map[string]*tenant
	workers map[*workerConn]struct{}
	// starting counts workers that reserve made room for and that are not
	// yet added, so two starts at once cannot both take the last place.
	starting int
	closed   bool
	done     chan struct{}

	// checks grants the one slot of a pre-flight check's worker (see
	// Verify), which is not one of the MaxWorkers.
	checks *checkQueue
}

// New returns a Pool that starts workers with cfg.Command. It starts no
// worker until a binding set is loaded.
func New(cfg Config) (*Pool, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Pool{
		cfg:     cfg,
		log:     cfg.Logger,
		tenants: map[string]*tenant{},
		workers: map[*workerConn]struct{}{},
		done:    make(chan struct{}),
		checks:  newCheckQueue(),
	}
	go p.reapIdle()
	return p, nil
}

// Load compiles and binds a tenant's sandboxed bindings in the tenant's
// worker, starting the worker when none runs, and returns the set that
// serves their steps. The edge calls it when it builds a tenant's runtime,
// so the worker is ready before the runtime serves its first request. A
// Load also ends a restart back-off, because the bindings may be fixed.
func (p *Pool) Load(tenantName string, bindings []worker.Binding) (*Set, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("plugin worker pool is closed")
	}
	p.nextSet++
	id := p.nextSet
	t := p.tenants[tenantName]
	if t == nil {
		t = &tenant{pool: p, name: tenantName, sets: map[uint64]*worker.Load{}}
		p.tenants[tenantName] = t
	}
	p.mu.Unlock()

	load := &worker.Load{Set: id, Tenant: tenantName, Bindings: bindings}
	loaded, err := t.load(load)
	if err != nil {
		return nil, err
	}
	if len(loaded.Hooks) != len(bindings) {
		t.forget(id)
		return nil, fmt.Errorf("plugin worker of tenant %q: %w", tenantName, errNoAnswer)
	}

	set := &Set{tenant: t, id: id, bindings: make([]binding, len(bindings))}
	for i, b := range bindings {
		set.bindings[i] = binding{id: b.ID, plugin: b.Plugin, version: b.Version, allowHosts: b.AllowHosts, hooks: loaded.Hooks[i]}
		if len(loaded.Static) == len(bindings) {
			set.bindings[i].static = checkStatic(loaded.Static[i])
		}
	}
	runtime.AddCleanup(set, t.forget, id)
	return set, nil
}

// Close stops every worker and the reaper. Calls in flight fail.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	workers := make([]*workerConn, 0, len(p.workers))
	for w := range p.workers {
		workers = append(workers, w)
	}
	p.mu.Unlock()

	for _, w := range workers {
		w.stop("because the plugin worker pool closed")
	}
	for _, w := range workers {
		<-w.dead
	}
}

func (p *Pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// Workers returns the number of running workers.
func (p *Pool) Workers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.workers)
}

// reserve takes a place for one more worker of requester. In a full pool
// it first stops the worker that chooseEviction picks, and it returns
// errPoolFull when that picks none. add or unreserve gives the place back.
func (p *Pool) reserve(requester *tenant) error {
	p.mu.Lock()
	defer p.mu.Unlock()

	if p.closed {
		return errors.New("plugin worker pool is closed")
	}
	if len(p.workers)+p.starting < p.cfg.MaxWorkers {
		p.starting++
		return nil
	}

	now := time.Now().UnixNano()
	victim, ok := p.chooseEviction(requester, now)
	if !ok {
		return errPoolFull
	}
	delete(p.workers, victim.worker)
	p.starting++
	if victim.preempted {
		victim.worker.tenant.preemptedAt.Store(now)
	}
	p.log.Info("plugin worker stopped to make room", "tenant", victim.worker.tenant.name, "for_tenant", requester.name,
		"rule", victim.rule, "age", victim.age, "max_workers", p.cfg.MaxWorkers)
	victim.worker.stop(victim.stopReason(requester.name))
	return nil
}

// claim marks w in use by a call or load that is about to be sent, so that
// the pool does not stop it as idle meanwhile. release ends the claim.
// claim fails when the pool already stops w. It runs under p.mu, where the
// pool chooses and stops idle workers.
func (p *Pool) claim(w *workerConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.stopping.Load() {
		return false
	}
	w.claims.Add(1)
	return true
}

// add counts a started worker in the place that reserve made.
func (p *Pool) add(w *workerConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starting--
	p.workers[w] = struct{}{}
}

// unreserve gives back the place of a worker that failed to start.
func (p *Pool) unreserve() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starting--
}

// remove drops a worker that ended from the count.
func (p *Pool) remove(w *workerConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.workers, w)
}

// reapIdle stops workers that served no call for IdleTimeout.
func (p *Pool) reapIdle() {
	ticker := time.NewTicker(max(p.cfg.IdleTimeout/4, 10*time.Millisecond))
	defer ticker.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-ticker.C:
		}

		cutoff := time.Now().Add(-p.cfg.IdleTimeout).UnixNano()
		p.mu.Lock()
		var idle []*workerConn
		for w := range p.workers {
			if w.inFlight.Load() == 0 && w.claims.Load() == 0 && w.lastUsed.Load() < cutoff {
				idle = append(idle, w)
				delete(p.workers, w)
				// Under p.mu, so that no claim comes between the check
				// and the stop.
				w.stop("after idling")
			}
		}
		p.mu.Unlock()

		for _, w := range idle {
			p.log.Info("plugin worker stopped after idling", "tenant", w.tenant.name, "idle_timeout", p.cfg.IdleTimeout)
		}
	}
}

// LogConfinement logs the user that the pool's workers run as and the
// Landlock ABI version that confines them, and warns when the kernel has
// no Landlock: the workers can then read every file that their user can.
// workers names them in the log, such as "plugin workers".
func (p *Pool) LogConfinement(workers string) {
	user := "the edge's user"
	if p.cfg.User != nil {
		user = p.cfg.User.String()
	}

	abi, err := worker.LandlockABI()
	if err != nil {
		p.log.Warn(workers+" run without Landlock, so they can read the files that their user can read: use Linux 5.13 or later with landlock in its lsm= boot list, and in a container allow the landlock_* system calls in its seccomp profile",
			"user", user, "error", err)
		return
	}
	p.log.Info(workers+" confined", "user", user, "landlock_abi", abi)
}
