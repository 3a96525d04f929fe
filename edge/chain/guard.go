package chain

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Failure policy defaults.
const (
	// QuarantineAfter is the number of consecutive failures of a binding
	// that quarantines it.
	QuarantineAfter = 3
	// FirstQuarantine is the first quarantine's length. Each further one in
	// a row doubles it, up to MaxQuarantine.
	FirstQuarantine = time.Second
	MaxQuarantine   = time.Minute
	// errorLogInterval is the minimum gap between two logged errors of one
	// binding. Errors in between are counted and reported with the next.
	errorLogInterval = time.Second
)

// Supervisor keeps the failure state and CPU budgets of every tenant's
// bindings across runtime swaps. It is safe for concurrent use.
type Supervisor struct {
	log *slog.Logger

	// slotsPerTenant bounds how many hook calls of one tenant run at once.
	slotsPerTenant int

	mu      sync.Mutex
	health  map[string]*health
	budgets map[string]chan struct{}
	observe HookObserver
}

// NewSupervisor returns a Supervisor that logs to logger. A tenant may run
// hooks on at most half the CPUs at once, and on at least one.
func NewSupervisor(logger *slog.Logger) *Supervisor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{
		log:            logger,
		slotsPerTenant: max(1, runtime.GOMAXPROCS(0)/2),
		health:         map[string]*health{},
		budgets:        map[string]chan struct{}{},
	}
}

// Guard returns the guard of one binding at one plugin version. Guards of
// equal ids share their failure state, so a swap that keeps the binding and
// version keeps its quarantine.
//
// NOTE: entries are never dropped, so the state grows with the number of
// binding versions an edge has served since it started.
func (s *Supervisor) Guard(tenant string, step Step, timeout time.Duration, failOpen bool) *Guard {
	key := tenant + "/" + step.Binding + "/" + step.Plugin + "@" + step.Version

	s.mu.Lock()
	defer s.mu.Unlock()

	h, ok := s.health[key]
	if !ok {
		h = &health{}
		s.health[key] = h
	}
	budget, ok := s.budgets[tenant]
	if !ok {
		budget = make(chan struct{}, s.slotsPerTenant)
		s.budgets[tenant] = budget
	}
	return &Guard{tenant: tenant, timeout: timeout, failOpen: failOpen, health: h, budget: budget, log: s.log, observe: s.observe}
}

// Guard applies a binding's deadline, failure policy and tenant budget.
type Guard struct {
	tenant   string
	timeout  time.Duration
	failOpen bool
	health   *health
	budget   chan struct{}
	log      *slog.Logger
	observe  HookObserver
}

// health is the failure state of one binding version. The fast path of a
// healthy binding reads two atomics and takes no lock: failing is set while
// failures or quarantines is non-zero, and quarantinedUntil mirrors the
// field of the same name in Unix nanoseconds, zero when never quarantined.
// Both are written only with mu held.
type health struct {
	failing          atomic.Bool
	quarantinedUntil atomic.Int64

	mu          sync.Mutex
	failures    int
	quarantines int
	lastLogged  time.Time
	suppressed  int
}

// quarantined reports whether calls are skipped until a later time.
func (h *health) quarantined(now time.Time) bool {
	until := h.quarantinedUntil.Load()
	return until != 0 && now.UnixNano() < until
}

// succeeded ends a run of failures.
func (h *health) succeeded() {
	if !h.failing.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures = 0
	h.quarantines = 0
	h.failing.Store(false)
}

// failed counts a failure and returns the quarantine it started, or zero.
func (h *health) failed(now time.Time) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()

	h.failing.Store(true)
	h.failures++
	if h.failures < QuarantineAfter {
		return 0
	}
	h.failures = 0
	length := min(FirstQuarantine<<min(h.quarantines, 16), MaxQuarantine)
	h.quarantines++
	h.quarantinedUntil.Store(now.Add(length).UnixNano())
	return length
}

// shouldLog reports whether an error may be logged now, and how many were
// suppressed since the last one.
func (h *health) shouldLog(now time.Time) (bool, int) {
	h.mu.Lock()
	defer h.mu.Unlock()

	if now.Sub(h.lastLogged) < errorLogInterval {
		h.suppressed++
		return false, 0
	}
	suppressed := h.suppressed
	h.lastLogged = now
	h.suppressed = 0
	return true, suppressed
}

// errQuarantined is the error of a call skipped by quarantine.
var errQuarantined = fmt.Errorf("binding is quarantined after %d failures in a row", QuarantineAfter)

// tenantSlot is the tenant hook slot that one phase run holds. Consecutive
// steps with the same budget, which is every step of a chain because a
// chain serves one tenant, share one slot, so a phase of n hooks costs one
// channel send and receive instead of n. The zero value holds no slot.
type tenantSlot struct {
	budget chan struct{}
}

// acquire holds one of g's tenant slots, waiting until ctx ends. It keeps
// the slot it holds when that slot is of the same budget.
func (s *tenantSlot) acquire(ctx context.Context, g *Guard) error {
	if s.budget == g.budget {
		return nil
	}
	s.release()

	select {
	case g.budget <- struct{}{}:
		s.budget = g.budget
		return nil
	default:
	}
	select {
	case g.budget <- struct{}{}:
		s.budget = g.budget
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for a hook slot of tenant %q: %w", g.tenant, ctx.Err())
	}
}

// release gives the slot back, if one is held.
func (s *tenantSlot) release() {
	if s.budget == nil {
		return
	}
	<-s.budget
	s.budget = nil
}

// report records the outcome of a call, logs a failure at most once per
// errorLogInterval, and reports whether the failure is skipped (fail open).
func (g *Guard) report(step Step, phase string, requestID string, err error) bool {
	if err == nil {
		g.health.succeeded()
		return false
	}

	now := time.Now()
	quarantine := g.health.failed(now)
	if ok, suppressed := g.health.shouldLog(now); ok {
		attrs := []any{"tenant", g.tenant, "plugin", step.Plugin, "version", step.Version, "binding", step.Binding,
			"phase", phase, "request_id", requestID, "fail_open", g.failOpen, "suppressed", suppressed, "error", err}
		if quarantine > 0 {
			attrs = append(attrs, "quarantine", quarantine)
		}
		g.log.Error("plugin hook failed", attrs...)
	}
	return g.failOpen
}
