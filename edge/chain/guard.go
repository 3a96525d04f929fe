package chain

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// Failure policy defaults.
const (
	// QuarantineAfter is the number of consecutive failures of a binding
	// in one phase that quarantines it. A success in another phase does
	// not end the run, so a binding whose rewrite hook works and whose
	// access hook fails on every request is quarantined too.
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

	// slotsPerTenant is how many phases of one tenant run at once on
	// slots of its own; see tenantBudget for the others.
	slotsPerTenant int
	// cpus bounds the phases of all tenants that run at once, and running
	// counts them.
	cpus    int64
	running atomic.Int64

	mu      sync.Mutex
	health  map[string]*health
	budgets map[string]*tenantBudget
	observe HookObserver
}

// NewSupervisor returns a Supervisor that logs to logger. A tenant has
// slots for half the CPUs, and at least one, and may borrow the rest while
// they are idle and its hooks are quick (see tenantBudget).
func NewSupervisor(logger *slog.Logger) *Supervisor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{
		log:            logger,
		slotsPerTenant: max(1, runtime.GOMAXPROCS(0)/2),
		cpus:           int64(runtime.GOMAXPROCS(0)),
		health:         map[string]*health{},
		budgets:        map[string]*tenantBudget{},
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
		budget = &tenantBudget{slots: make(chan struct{}, s.slotsPerTenant), supervisor: s}
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
	budget   *tenantBudget
	log      *slog.Logger
	observe  HookObserver
	// memos are the observer's HookCall.Memo of each phase, indexed like
	// Chain.phases.
	memos [phaseCount]atomic.Value
}

// health is the failure state of one binding version. The fast path of a
// healthy binding reads two atomics and takes no lock: failing is set while
// a phase has failures or quarantines is non-zero, and quarantinedUntil is
// the end of the last quarantine in Unix nanoseconds, zero when never
// quarantined. Both are written only with mu held.
type health struct {
	failing          atomic.Bool
	quarantinedUntil atomic.Int64

	mu sync.Mutex
	// failures counts the consecutive failures of each phase, indexed by
	// phaseSlot.
	failures [phaseCount]int
	// quarantines counts the quarantines in a row, which double the next
	// one's length, and quarantinedBy is the phase slot whose failures
	// started the last of them. Only a success of that phase resets them.
	quarantines   int
	quarantinedBy int
	lastLogged    time.Time
	suppressed    int
}

// quarantined reports whether calls are skipped until a later time.
func (h *health) quarantined(now time.Time) bool {
	until := h.quarantinedUntil.Load()
	return until != 0 && now.UnixNano() < until
}

// succeeded ends the run of failures of the phase in slot.
func (h *health) succeeded(slot int) {
	if !h.failing.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()

	h.failures[slot] = 0
	if h.quarantines > 0 && h.quarantinedBy == slot {
		h.quarantines = 0
	}
	failing := h.quarantines > 0
	for _, count := range h.failures {
		failing = failing || count > 0
	}
	h.failing.Store(failing)
}

// failed counts a failure of the phase in slot and returns the quarantine
// it started, or zero. A failure that ends during a quarantine does not
// count, because it comes from a call that started before the quarantine,
// which skips later calls. So a burst of concurrent failures starts one
// quarantine, not a doubled one per three calls still in flight.
func (h *health) failed(slot int, now time.Time) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()

	if h.quarantined(now) {
		return 0
	}
	h.failing.Store(true)
	h.failures[slot]++
	if h.failures[slot] < QuarantineAfter {
		return 0
	}
	h.failures[slot] = 0
	length := min(FirstQuarantine<<min(h.quarantines, 16), MaxQuarantine)
	h.quarantines++
	h.quarantinedBy = slot
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

// IsQuarantined reports whether err is that of a call that a quarantine
// skipped without running the hook.
func IsQuarantined(err error) bool {
	return errors.Is(err, errQuarantined)
}

// errQuarantined is the error of a call skipped by quarantine.
var errQuarantined = fmt.Errorf("binding is quarantined after %d failures in a row", QuarantineAfter)

// verdict is a guard's decision on a failed call.
type verdict struct {
	// failOpen skips the failed step, and the request goes on.
	failOpen bool
	// suppressed is set when the log rate limit left the failure out of
	// the log.
	suppressed bool
}

// report records the outcome of a call, logs a failure at most once per
// errorLogInterval, and returns whether the failure is skipped (fail open)
// and whether its log line was suppressed. Failures of errQuarantined and
// ErrCapacity take the on_error outcome and are logged, but do not count
// towards a quarantine.
func (g *Guard) report(step Step, phase string, requestID string, err error) verdict {
	// A phase that pluginhost does not define shares the first slot.
	slot := max(phaseSlot(pluginhost.Phase(phase)), 0)
	if err == nil {
		g.health.succeeded(slot)
		return verdict{}
	}

	now := time.Now()
	var quarantine time.Duration
	// A call that the quarantine skipped is not a new failure. Counting it
	// would renew the quarantine for as long as requests arrive. A call
	// that found no worker, or lost it to another tenant, is no fault of
	// the binding either, so one tenant cannot quarantine another's
	// bindings by taking every worker.
	if !errors.Is(err, errQuarantined) && !errors.Is(err, ErrCapacity) {
		quarantine = g.health.failed(slot, now)
	}
	ok, suppressed := g.health.shouldLog(now)
	if ok {
		attrs := []any{"tenant", g.tenant, "plugin", step.Plugin, "version", step.Version, "binding", step.Binding,
			"phase", phase, "request_id", requestID, "fail_open", g.failOpen, "suppressed", suppressed, "error", err}
		if quarantine > 0 {
			attrs = append(attrs, "quarantine", quarantine)
		}
		g.log.Error("plugin hook failed", attrs...)
	}
	return verdict{failOpen: g.failOpen, suppressed: !ok}
}
