package edge

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// logHook is a fake of a tenant's sandboxed log hook: a chain.Remote and
// its chain.Batch. It counts its runs, sends on ran after each when ran is
// set, and waits for block to close or the log phase's deadline when block
// is set.
type logHook struct {
	block    chan struct{}
	ran      chan struct{}
	started  atomic.Int64
	finished atomic.Int64
}

func (h *logHook) Has(phase pluginhost.Phase) bool { return phase == pluginhost.PhaseLog }
func (h *logHook) Batch() chain.Batch              { return h }
func (h *logHook) Index() int                      { return 0 }

func (h *logHook) RunBatch(ctx context.Context, _ pluginhost.Phase, steps []worker.Step, _ *pluginhost.Exchange) ([]worker.Outcome, error) {
	h.started.Add(1)
	if h.block != nil {
		select {
		case <-h.block:
		case <-ctx.Done():
		}
	}
	h.finished.Add(1)
	if h.ran != nil {
		h.ran <- struct{}{}
	}

	outcomes := make([]worker.Outcome, len(steps))
	for i := range outcomes {
		outcomes[i].Ran = true
	}
	return outcomes, nil
}

// chain returns a chain whose one step is the hook.
func (h *logHook) chain() *chain.Chain {
	return chain.New([]chain.Step{{Binding: "b-log", Plugin: "log", Version: "1.0.0", Remote: h}})
}

// logExchange returns the exchange of request i of tenant.
func logExchange(tenant string, i int) *pluginhost.Exchange {
	return &pluginhost.Exchange{RequestID: fmt.Sprintf("%s-%d", tenant, i), Request: pluginhost.Request{Tenant: tenant}}
}

// TestLogPhaseTenantShare runs 200 log phases of a tenant whose log hook
// does not return, then 200 of another tenant one after another. The first
// tenant must get only its share of the slots, and every log phase of the
// second must run.
func TestLogPhaseTenantShare(t *testing.T) {
	const requests = 200
	logs := &syncBuffer{}
	e := &Edge{log: slog.New(slog.NewJSONHandler(logs, nil))}
	e.logHooks = newLogSlots(e.log)

	release := make(chan struct{})
	defer close(release)
	noisy := &logHook{block: release}
	noisyChain := noisy.chain()
	for i := range requests {
		e.runLogPhase(noisyChain, logExchange("noisy", i), 200)
	}
	waitFor(t, "the noisy tenant's log hooks to start", func() bool { return noisy.started.Load() == maxLogHooksPerTenant })

	quiet := &logHook{ran: make(chan struct{}, 1)}
	quietChain := quiet.chain()
	for i := range requests {
		e.runLogPhase(quietChain, logExchange("quiet", i), 200)
		select {
		case <-quiet.ran:
		case <-time.After(2 * time.Second):
			t.Fatalf("log phase %d of the quiet tenant did not run; %d ran before it", i, quiet.finished.Load())
		}
	}

	if got := noisy.started.Load(); got != maxLogHooksPerTenant {
		t.Errorf("noisy tenant's log hooks started = %d, want its share of %d", got, maxLogHooksPerTenant)
	}
	if got := quiet.finished.Load(); got != requests {
		t.Errorf("quiet tenant's log hooks ran = %d, want %d", got, requests)
	}
	warnings := logs.records(t, "log phase skipped: too many in flight")
	if len(warnings) != 1 {
		t.Fatalf("warnings = %d, want 1 for the first skip within the second: %v", len(warnings), warnings)
	}
	if warnings[0]["tenant"] != "noisy" {
		t.Errorf("warning names tenant %v, want noisy", warnings[0]["tenant"])
	}
}

// TestLogSlotsEdgeLimit gives one slot each to as many tenants as the
// edge has slots, and checks that the next tenant is refused until one of
// them gives its slot back.
func TestLogSlotsEdgeLimit(t *testing.T) {
	slots := newLogSlots(slog.New(slog.DiscardHandler))
	for tenant := range maxLogHooks {
		if !slots.acquire(fmt.Sprint("t", tenant), "") {
			t.Fatalf("tenant %d was refused its first slot with %d in flight", tenant, tenant)
		}
	}

	if slots.acquire("other", "") {
		t.Errorf("tenant other got a slot with all %d of the edge's in flight", maxLogHooks)
	}
	slots.release("t0")
	if !slots.acquire("other", "") {
		t.Error("tenant other was refused the slot that t0 gave back")
	}
}

// TestLogSlotsSkipWarningRateLimited skips 136 log phases of one tenant
// within a second. The edge must warn once at once and once more a second
// later with the count of the others, then stop warning and forget the
// tenant.
func TestLogSlotsSkipWarningRateLimited(t *testing.T) {
	const skips = 136
	logs := &syncBuffer{}
	slots := newLogSlots(slog.New(slog.NewJSONHandler(logs, nil)))
	for range maxLogHooksPerTenant {
		slots.acquire("noisy", "")
	}

	for i := range skips {
		if slots.acquire("noisy", fmt.Sprint("req-", i)) {
			t.Fatalf("skip %d got a slot beyond the tenant's share", i)
		}
	}
	first := logs.records(t, "log phase skipped: too many in flight")
	if len(first) != 1 {
		t.Fatalf("warnings right after the skips = %d, want 1", len(first))
	}
	if first[0]["skipped"] != 1.0 || first[0]["request_id"] != "req-0" {
		t.Errorf("first warning = %v, want skipped 1 for req-0", first[0])
	}

	waitFor(t, "the warning with the count", func() bool {
		return len(logs.records(t, "log phase skipped: too many in flight")) == 2
	})
	second := logs.records(t, "log phase skipped: too many in flight")[1]
	if second["skipped"] != float64(skips-1) || second["tenant"] != "noisy" {
		t.Errorf("second warning = %v, want skipped %d for tenant noisy", second, skips-1)
	}

	for range maxLogHooksPerTenant {
		slots.release("noisy")
	}
	waitFor(t, "the tenant to be forgotten", func() bool {
		slots.mu.Lock()
		defer slots.mu.Unlock()
		return len(slots.tenants) == 0
	})
	if got := len(logs.records(t, "log phase skipped: too many in flight")); got != 2 {
		t.Errorf("warnings = %d after the window without skips, want 2", got)
	}
}

// TestLogSlotsFairShare lets four tenants take every slot they can, and
// checks that slots stay free for a fifth tenant, that no tenant gets more
// than maxLogHooksPerTenant, and that a tenant alone gets that many.
func TestLogSlotsFairShare(t *testing.T) {
	slots := newLogSlots(slog.New(slog.DiscardHandler))
	const busy = 4
	slotsTaken := make([]int, busy)
	for tenant := range busy {
		for slots.acquire(fmt.Sprint("t", tenant), "") {
			slotsTaken[tenant]++
		}
	}

	for tenant, n := range slotsTaken {
		if n < 1 || n > maxLogHooksPerTenant {
			t.Errorf("tenant t%d took %d slots, want 1 to %d", tenant, n, maxLogHooksPerTenant)
		}
	}
	if !slots.acquire("late", "") {
		t.Error("tenant late was refused its first slot beside four busy tenants")
	}

	alone := newLogSlots(slog.New(slog.DiscardHandler))
	n := 0
	for alone.acquire("only", "") {
		n++
	}
	if n != maxLogHooksPerTenant {
		t.Errorf("a tenant alone got %d slots, want %d", n, maxLogHooksPerTenant)
	}
}
