package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// slowFetchSource waits in an outbound request, as a hook that calls a
// slow upstream does.
const slowFetchSource = `func access(ctx, conf) {
	ctx.http.get("http://slow.test/slow?ms=5000", {"timeout_ms": 5000})
}
`

// slowHost is a host whose outbound requests return a 200 response after
// delay, or fail when their context ends first. It has no other services.
type slowHost struct {
	pluginhost.Host
	delay time.Duration
}

func (h slowHost) Fetch(ctx context.Context, _ pluginhost.Caller, _ pluginhost.OutboundRequest) (pluginhost.OutboundResponse, error) {
	timer := time.NewTimer(h.delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return pluginhost.OutboundResponse{Status: 200}, nil
	case <-ctx.Done():
		return pluginhost.OutboundResponse{}, ctx.Err()
	}
}

// tenantChain loads one binding for tenantName and returns a chain that
// runs it under a guard with timeout and on_error open or closed.
func tenantChain(t *testing.T, pool *Pool, supervisor *chain.Supervisor, tenantName string, binding worker.Binding, timeout time.Duration, failOpen bool) *chain.Chain {
	t.Helper()
	set, err := pool.Load(tenantName, []worker.Binding{binding})
	if err != nil {
		t.Fatalf("Load %s: %v", tenantName, err)
	}
	step := chain.Step{Binding: binding.ID, Plugin: binding.Plugin, Version: binding.Version, Remote: set.Step(0)}
	step.Guard = supervisor.Guard(tenantName, step, timeout, failOpen)
	return chain.New([]chain.Step{step})
}

// slowBinding is a binding of slowFetchSource.
func slowBinding() worker.Binding {
	binding := testBinding("slow", slowFetchSource)
	binding.AllowHosts = []string{"slow.test"}
	return binding
}

// runSlow runs c's access phase with a slowHost of delay.
func runSlow(c *chain.Chain, delay time.Duration) error {
	ex := exchange()
	ex.Host = slowHost{delay: delay}
	return c.Run(context.Background(), pluginhost.PhaseAccess, ex)
}

// TestPoolServesQuickTenantBesideSlowOnes runs three tenants whose hooks
// wait on an outbound request past their 600 ms timeout, several calls at
// once each, and one tenant whose hook is quick, on a pool of two workers.
// Every call of the quick tenant must succeed: the pool stops a slow
// tenant's worker for it instead of failing its calls.
func TestPoolServesQuickTenantBesideSlowOnes(t *testing.T) {
	quickBesideSlow(t, 3, 800*time.Millisecond, ruleSlowCall)
}

// TestPoolServesQuickTenantBesideBusyOnes runs two such tenants, one per
// worker, whose hooks wait 70 ms, less than PreemptAfter, so no call is
// old enough to preempt and no worker is ever idle. The pool must preempt
// one of them by ruleBusy.
func TestPoolServesQuickTenantBesideBusyOnes(t *testing.T) {
	quickBesideSlow(t, 2, 70*time.Millisecond, ruleBusy)
}

// quickBesideSlow runs slowTenants tenants whose hooks wait delay on an
// outbound request, three calls at once each, beside one quick tenant on a
// pool of two workers with PreemptAfter 100 ms. Every quick call must
// succeed, and the pool must have stopped a worker by rule.
func quickBesideSlow(t *testing.T, slowTenants int, delay time.Duration, rule string) {
	const (
		callersPerTenant = 3
		slowTimeout      = 600 * time.Millisecond
		quickCalls       = 60
	)
	pool, logs := newPool(t, Config{MaxWorkers: 2, PreemptAfter: 100 * time.Millisecond})
	supervisor := chain.NewSupervisor(nil)
	var slow []*chain.Chain
	for i := range slowTenants {
		slow = append(slow, tenantChain(t, pool, supervisor, fmt.Sprintf("slow-%d", i), slowBinding(), slowTimeout, true))
	}
	quick := tenantChain(t, pool, supervisor, "quick", testBinding("a", markSource), time.Second, false)

	// Each slow caller keeps calling for at least 5 s, or until the quick
	// calls end.
	rounds := max(30, int(5*time.Second/delay))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range slow {
		for range callersPerTenant {
			wg.Go(func() {
				for range rounds {
					select {
					case <-stop:
						return
					default:
					}
					_ = runSlow(c, delay)
				}
			})
		}
	}
	// The slow tenants' calls fill both workers before the quick tenant's
	// first call.
	time.Sleep(200 * time.Millisecond)

	var failures []string
	var slowest time.Duration
	for range quickCalls {
		started := time.Now()
		got, err := runQuick(quick)
		slowest = max(slowest, time.Since(started))
		if err != nil {
			failures = append(failures, err.Error())
		} else if got != "a" {
			failures = append(failures, fmt.Sprintf("X-Order = %q, want %q", got, "a"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()

	t.Logf("slowest quick call: %s; quick worker stopped %d times", slowest, strings.Count(logs.String(), `tenant=quick for_tenant`))
	if len(failures) > 0 {
		t.Errorf("%d of %d quick calls failed, want none; first: %s", len(failures), quickCalls, failures[0])
	}
	if !strings.Contains(logs.String(), fmt.Sprintf("rule=%q", rule)) {
		t.Errorf("no worker was stopped by rule %q, so the test did not fill the pool:\n%s", rule, logs.String())
	}
}

// runQuick runs c's access phase and returns X-Order.
func runQuick(c *chain.Chain) (string, error) {
	ex := exchange()
	err := c.Run(context.Background(), pluginhost.PhaseAccess, ex)
	return ex.Request.Header.Get("X-Order"), err
}

// TestPoolFullFailsWithoutQuarantine keeps the only worker busy with a
// slow call that is too young to preempt. The other tenant's calls wait
// out their deadline and fail with chain.ErrCapacity, and more of them than
// a quarantine takes must not quarantine the binding: its next call, once
// the worker is free, succeeds.
func TestPoolFullFailsWithoutQuarantine(t *testing.T) {
	const quickTimeout = 50 * time.Millisecond
	pool, _ := newPool(t, Config{MaxWorkers: 1, PreemptAfter: 10 * time.Second})
	supervisor := chain.NewSupervisor(nil)
	slow := tenantChain(t, pool, supervisor, "slow", slowBinding(), 2*time.Second, false)
	quick := tenantChain(t, pool, supervisor, "quick", testBinding("a", markSource), quickTimeout, false)

	slowDone := make(chan error, 1)
	go func() { slowDone <- runSlow(slow, time.Second) }()
	waitFor(t, "the slow call in flight", func() bool { return workerBusy(pool, "slow") })

	for i := range 2 * chain.QuarantineAfter {
		started := time.Now()
		_, err := runQuick(quick)
		elapsed := time.Since(started)
		if !errors.Is(err, chain.ErrCapacity) {
			t.Fatalf("call %d error = %v, want one that matches chain.ErrCapacity", i, err)
		}
		if elapsed < quickTimeout {
			t.Errorf("call %d failed after %s, want a wait of the hook's %s for a worker", i, elapsed, quickTimeout)
		}
	}
	if err := <-slowDone; err != nil {
		t.Fatalf("slow call: %v", err)
	}

	got, err := runQuick(quick)
	if err != nil {
		t.Fatalf("call after the worker came free: %v, want success without a quarantine", err)
	}
	if got != "a" {
		t.Errorf("X-Order = %q, want %q", got, "a")
	}
}

// TestPoolPreemptsSlowCall runs one call that waits on a slow outbound
// request on the only worker. Another tenant's call must stop that worker
// once the slow call has run for PreemptAfter, and the slow call must fail
// with chain.ErrCapacity, which names the tenant it made room for.
func TestPoolPreemptsSlowCall(t *testing.T) {
	pool, logs := newPool(t, Config{MaxWorkers: 1, PreemptAfter: 100 * time.Millisecond})
	supervisor := chain.NewSupervisor(nil)
	slow := tenantChain(t, pool, supervisor, "slow", slowBinding(), 2*time.Second, false)
	quick := tenantChain(t, pool, supervisor, "quick", testBinding("a", markSource), time.Second, false)

	slowDone := make(chan error, 1)
	go func() { slowDone <- runSlow(slow, 2*time.Second) }()
	waitFor(t, "the slow call in flight", func() bool { return workerBusy(pool, "slow") })

	got, err := runQuick(quick)
	if err != nil {
		t.Fatalf("quick call: %v, want it to preempt the slow call's worker", err)
	}
	if got != "a" {
		t.Errorf("X-Order = %q, want %q", got, "a")
	}

	err = <-slowDone
	if !errors.Is(err, chain.ErrCapacity) {
		t.Errorf("slow call error = %v, want one that matches chain.ErrCapacity", err)
	}
	if err == nil || !strings.Contains(err.Error(), `to make room for tenant "quick"`) {
		t.Errorf("slow call error = %v, want it to name the tenant it made room for", err)
	}
	if !strings.Contains(logs.String(), `tenant=slow for_tenant=quick rule="slow call"`) {
		t.Errorf("logs do not record the preemption:\n%s", logs.String())
	}
}

// workerBusy reports whether tenantName's worker has a call in flight.
func workerBusy(pool *Pool, tenantName string) bool {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	for w := range pool.workers {
		if w.tenant.name == tenantName && w.inFlight.Load() > 0 {
			return true
		}
	}
	return false
}

func TestChooseEviction(t *testing.T) {
	const limit = 100 * time.Millisecond
	// Each worker is described by its tenant, how long it has been idle,
	// and how long its oldest call has run (0 for none).
	type spec struct {
		tenant   string
		idle     time.Duration
		callAge  time.Duration
		stopping bool
	}
	cases := []struct {
		name     string
		workers  []spec
		cooldown bool
		want     string
		wantRule string
	}{
		{"long idle before slow call", []spec{{"idle", 200 * time.Millisecond, 0, false}, {"slow", 0, 300 * time.Millisecond, false}}, false, "idle", ruleIdle},
		{"slow call before recent idle", []spec{{"recent", 10 * time.Millisecond, 0, false}, {"slow", 0, 300 * time.Millisecond, false}}, false, "slow", ruleSlowCall},
		{"oldest slow call", []spec{{"slow", 0, 300 * time.Millisecond, false}, {"slower", 0, 900 * time.Millisecond, false}}, false, "slower", ruleSlowCall},
		{"least recently used", []spec{{"recent", 10 * time.Millisecond, 0, false}, {"older", 30 * time.Millisecond, 0, false}, {"busy", 0, 50 * time.Millisecond, false}}, false, "older", ruleLeastUsed},
		{"none when calls are young", []spec{{"busy", 0, 50 * time.Millisecond, false}, {"busier", 0, 20 * time.Millisecond, false}}, false, "", ""},
		{"stopping worker skipped", []spec{{"gone", time.Second, 0, true}, {"recent", 30 * time.Millisecond, 0, false}}, false, "recent", ruleLeastUsed},
		{"cooldown takes long idle", []spec{{"idle", 200 * time.Millisecond, 0, false}, {"slow", 0, 300 * time.Millisecond, false}}, true, "idle", ruleIdle},
		{"none just started", []spec{{"new", time.Millisecond, 0, false}, {"busy", 0, 50 * time.Millisecond, false}}, false, "", ""},
		{"cooldown skips slow call", []spec{{"recent", 10 * time.Millisecond, 0, false}, {"slow", 0, 300 * time.Millisecond, false}}, true, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var workers []workerSpec
			for _, s := range tc.workers {
				workers = append(workers, workerSpec{tenant: s.tenant, idle: s.idle, callAge: s.callAge, stopping: s.stopping})
			}
			got, ok := chooseAmong(t, limit, tc.cooldown, workers, tc.want)
			if !ok {
				return
			}
			if got.rule != tc.wantRule {
				t.Errorf("rule = %q, want %q", got.rule, tc.wantRule)
			}
			if got.preempted != (tc.wantRule == ruleSlowCall || tc.wantRule == ruleBusy) {
				t.Errorf("preempted = %v for rule %q", got.preempted, got.rule)
			}
		})
	}
}

// TestClaimedWorkerIsNotIdle checks that a full pool does not stop, as
// idle, a worker that a call got and has not sent on yet, and that a
// worker the pool stops takes no claim.
func TestClaimedWorkerIsNotIdle(t *testing.T) {
	now := time.Now().UnixNano()
	pool := &Pool{cfg: Config{PreemptAfter: 100 * time.Millisecond}, workers: map[*workerConn]struct{}{}}
	claimed := &workerConn{tenant: &tenant{pool: pool, name: "claimed"}, pending: map[uint64]*pendingCall{}}
	claimed.lastUsed.Store(now - int64(time.Second))
	other := &workerConn{tenant: &tenant{pool: pool, name: "other"}, pending: map[uint64]*pendingCall{}}
	other.lastUsed.Store(now - int64(30*time.Millisecond))
	pool.workers[claimed] = struct{}{}
	pool.workers[other] = struct{}{}

	if !pool.claim(claimed) {
		t.Fatal("claim of a running worker failed")
	}
	got, ok := pool.chooseEviction(&tenant{pool: pool, name: "requester"}, now)
	if !ok || got.worker != other {
		t.Errorf("evicted %v (ok %v), want the unclaimed worker", got.worker, ok)
	}

	claimed.release()
	got, ok = pool.chooseEviction(&tenant{pool: pool, name: "requester"}, now)
	if !ok || got.worker != claimed || got.rule != ruleIdle {
		t.Errorf("after release evicted %v by %q, want the idle worker by rule %q", got.worker, got.rule, ruleIdle)
	}

	claimed.stopping.Store(true)
	if pool.claim(claimed) {
		t.Error("claim of a stopping worker succeeded")
	}
}

// workerSpec describes a hand-built worker for chooseEviction.
type workerSpec struct {
	tenant   string
	idle     time.Duration // since its last use, for a worker without calls
	callAge  time.Duration // run time of its oldest call, 0 for none
	stopping bool
	busyFor  time.Duration // busy without a break, 0 for no busy spell
	average  time.Duration // its calls' average hook time
}

// chooseAmong builds a pool of the workers, lets chooseEviction pick one
// for a requester (in its preemption cooldown when cooldown is set), and
// checks that it picked the worker of tenant want, or none when want is
// empty. It returns the eviction and whether it picked a worker, so the
// caller can check the rule.
func chooseAmong(t *testing.T, limit time.Duration, cooldown bool, workers []workerSpec, want string) (eviction, bool) {
	t.Helper()
	now := time.Now().UnixNano()
	pool := &Pool{cfg: Config{PreemptAfter: limit}, workers: map[*workerConn]struct{}{}}
	for _, s := range workers {
		w := &workerConn{tenant: &tenant{pool: pool, name: s.tenant}, pending: map[uint64]*pendingCall{}}
		w.lastUsed.Store(now - int64(s.idle))
		if s.callAge > 0 {
			w.pending[1] = &pendingCall{started: now - int64(s.callAge)}
			w.inFlight.Store(1)
		}
		if s.busyFor > 0 {
			w.busySince.Store(now - int64(s.busyFor))
		}
		w.callAverage.Store(int64(s.average))
		w.stopping.Store(s.stopping)
		pool.workers[w] = struct{}{}
	}
	requester := &tenant{pool: pool, name: "requester"}
	if cooldown {
		requester.preemptedAt.Store(now - int64(time.Second))
	}

	got, ok := pool.chooseEviction(requester, now)
	if want == "" {
		if ok {
			t.Errorf("evicted %s (%s), want none", got.worker.tenant.name, got.rule)
		}
		return got, false
	}
	if !ok {
		t.Fatalf("evicted none, want %s", want)
	}
	if got.worker.tenant.name != want {
		t.Errorf("evicted %s, want %s", got.worker.tenant.name, want)
	}
	return got, true
}
