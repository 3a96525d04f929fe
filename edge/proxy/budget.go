package proxy

import (
	"sync"
	"time"
)

// Defaults of the retry budget.
const (
	// DefaultRetryRatio is the share of requests that retries may add.
	DefaultRetryRatio = 0.2
	// DefaultRetryFloor is the number of retries always allowed per
	// window, so a quiet edge can still retry.
	DefaultRetryFloor = 10
	// RetryWindow is the sliding window that requests and retries are
	// counted in.
	RetryWindow = 10 * time.Second
)

// retrySlots is the number of one-second slots of RetryWindow.
const retrySlots = 10

// RetryBudget bounds the retries to one upstream. Within RetryWindow,
// retries may add at most ratio times the requests, plus floor. A failing
// upstream thus gets at most that extra load, whatever retry count its
// config sets. It is safe for concurrent use.
type RetryBudget struct {
	ratio float64
	floor int64
	now   func() time.Time

	mu    sync.Mutex
	slots [retrySlots]budgetSlot
}

type budgetSlot struct {
	second   int64
	requests int64
	retries  int64
}

// NewRetryBudget returns a budget. A ratio below zero means
// DefaultRetryRatio, and a floor below zero means DefaultRetryFloor.
func NewRetryBudget(ratio float64, floor int) *RetryBudget {
	if ratio < 0 {
		ratio = DefaultRetryRatio
	}
	if floor < 0 {
		floor = DefaultRetryFloor
	}
	return &RetryBudget{ratio: ratio, floor: int64(floor), now: time.Now}
}

// Request counts one client request.
func (b *RetryBudget) Request() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.slot().requests++
}

// Withdraw reports whether one more retry fits the budget, and counts it
// when it does.
func (b *RetryBudget) Withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()

	current := b.slot()
	var requests, retries int64
	for i := range b.slots {
		if current.second-b.slots[i].second < retrySlots {
			requests += b.slots[i].requests
			retries += b.slots[i].retries
		}
	}
	if float64(retries) >= float64(b.floor)+b.ratio*float64(requests) {
		return false
	}
	current.retries++
	return true
}

// slot returns the slot of the current second, cleared if it held an older
// second. The caller holds b.mu.
func (b *RetryBudget) slot() *budgetSlot {
	second := b.now().Unix()
	slot := &b.slots[second%retrySlots]
	if slot.second != second {
		*slot = budgetSlot{second: second}
	}
	return slot
}

// budgetKey names the upstream of one tenant that a budget serves.
type budgetKey struct {
	tenant, upstream string
}

// retryBudgets keeps one RetryBudget per upstream of each tenant, so a
// tenant whose upstream fails spends its own retries and no one else's.
type retryBudgets struct {
	ratio float64
	floor int
	all   sync.Map // budgetKey -> *RetryBudget
}

// get returns the budget of a tenant's upstream, created on first use.
func (b *retryBudgets) get(tenant, upstream string) *RetryBudget {
	key := budgetKey{tenant: tenant, upstream: upstream}
	if budget, ok := b.all.Load(key); ok {
		return budget.(*RetryBudget)
	}
	budget, _ := b.all.LoadOrStore(key, NewRetryBudget(b.ratio, b.floor))
	return budget.(*RetryBudget)
}

// retain drops the budgets of tenant's upstreams whose names are not in
// live.
func (b *retryBudgets) retain(tenant string, live map[string]bool) {
	b.all.Range(func(key, _ any) bool {
		k := key.(budgetKey)
		if k.tenant == tenant && !live[k.upstream] {
			b.all.Delete(key)
		}
		return true
	})
}
