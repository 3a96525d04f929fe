package sandbox

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/worker"
)

// TestChooseEvictionBusyRule checks rule 4 (ruleBusy) on workers built by
// hand: the busy span from busySince, the call average against a tenth of
// PreemptAfter, the cooldown and the order after rule 3.
func TestChooseEvictionBusyRule(t *testing.T) {
	const limit = 100 * time.Millisecond
	type spec struct {
		tenant  string
		idle    time.Duration // since lastUsed, for a worker without calls
		callAge time.Duration // age of the oldest pending call, 0 for none
		busyFor time.Duration // span since busySince, 0 leaves busySince unset
		average time.Duration
	}
	cases := []struct {
		name     string
		workers  []spec
		cooldown bool
		want     string
	}{
		{"busy with slow calls", []spec{{"hog", 0, 70 * time.Millisecond, 300 * time.Millisecond, 70 * time.Millisecond}}, false, "hog"},
		{"longest busy span", []spec{
			{"hog", 0, 70 * time.Millisecond, 300 * time.Millisecond, 70 * time.Millisecond},
			{"hogger", 0, 70 * time.Millisecond, 900 * time.Millisecond, 20 * time.Millisecond},
		}, false, "hogger"},
		{"quick average kept", []spec{{"quick", 0, 5 * time.Millisecond, time.Minute, limit / slowCallShare}}, false, ""},
		{"short span kept", []spec{{"hog", 0, 70 * time.Millisecond, limit, 70 * time.Millisecond}}, false, ""},
		{"cooldown keeps hog", []spec{{"hog", 0, 70 * time.Millisecond, 300 * time.Millisecond, 70 * time.Millisecond}}, true, ""},
		{"idle before hog", []spec{
			{"idle", 30 * time.Millisecond, 0, 0, 0},
			{"hog", 0, 70 * time.Millisecond, 300 * time.Millisecond, 70 * time.Millisecond},
		}, false, "idle"},
		// busySince left at 0 while calls are in flight, as a lost store
		// would leave it: rule 4 cannot see the worker.
		{"zero busySince hides hog", []spec{{"hog", 0, 70 * time.Millisecond, 0, 70 * time.Millisecond}}, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var workers []workerSpec
			for _, s := range tc.workers {
				workers = append(workers, workerSpec{tenant: s.tenant, idle: s.idle, callAge: s.callAge, busyFor: s.busyFor, average: s.average})
			}
			got, ok := chooseAmong(t, limit, tc.cooldown, workers, tc.want)
			if !ok {
				return
			}
			if tc.want != "idle" && (got.rule != ruleBusy || !got.preempted) {
				t.Errorf("rule = %q, preempted = %v, want %q and true", got.rule, got.preempted, ruleBusy)
			}
		})
	}
}

// hungWorkerConn loads a set for tenantName into a hung-worker, which
// replies to loads only, and returns the worker and the set id. Calls sent
// to it stay in flight until their context ends.
func hungWorkerConn(t *testing.T, tenantName string) (*workerConn, uint64) {
	t.Helper()
	pool, _ := newPool(t, Config{KillMargin: 100 * time.Millisecond})
	pool.cfg.Command[1] = "hung-worker"
	set, err := pool.Load(tenantName, []worker.Binding{testBinding("a", markSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	set.tenant.mu.Lock()
	w := set.tenant.w
	set.tenant.mu.Unlock()
	return w, set.id
}

// heldCall starts a round trip of kind on w that stays in flight until the
// returned cancel, and waits until it is pending. done closes when the
// round trip has returned.
func heldCall(t *testing.T, w *workerConn, kind worker.Kind, setID uint64) (cancel func(), done <-chan struct{}) {
	t.Helper()
	ctx, cancelCtx := context.WithCancel(context.Background())
	frame := &worker.Frame{Kind: kind}
	switch kind {
	case worker.KindCall:
		frame.Call = &worker.Call{Set: setID, Steps: []worker.Step{{Index: 0, Timeout: time.Second}}}
	case worker.KindVerify:
		frame.Verify = &worker.Verify{}
	}
	pc := &pendingCall{}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		_, _ = w.roundTrip(ctx, frame, pc, 10*time.Second)
	}()
	waitFor(t, "the held round trip to be pending", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, p := range w.pending {
			if p == pc {
				return true
			}
		}
		return false
	})
	return cancelCtx, finished
}

// TestBusySinceAfterNonHookRoundTrip holds a round trip that is not a hook
// call (a Verify frame, as a Load is) in flight, starts a hook call beside
// it and ends the first. The worker still has a hook call in flight, so
// busySince must not be 0, or rule 4 can never see the worker.
func TestBusySinceAfterNonHookRoundTrip(t *testing.T) {
	w, setID := hungWorkerConn(t, "acme")

	cancelOther, otherDone := heldCall(t, w, worker.KindVerify, setID)
	cancelHook, hookDone := heldCall(t, w, worker.KindCall, setID)
	cancelOther()
	<-otherDone

	if got := w.inFlight.Load(); got != 1 {
		t.Fatalf("inFlight = %d with one hook call held, want 1", got)
	}
	if w.busySince.Load() == 0 {
		t.Error("busySince = 0 while a hook call is in flight, so rule 4 cannot see the worker")
	}

	cancelHook()
	<-hookDone
	if got := w.busySince.Load(); got != 0 {
		t.Errorf("busySince = %d after the last call ended, want 0", got)
	}
}

// TestBusySinceHandover ends one held hook call while the next starts, many
// times, and checks after each turn that busySince is set while the new
// call is in flight and 0 once no call is. The turns are bounded in count
// and time.
func TestBusySinceHandover(t *testing.T) {
	const (
		maxTurns = 400
		maxTime  = 2 * time.Second
	)
	w, setID := hungWorkerConn(t, "acme")

	cancelPrevious, previousDone := heldCall(t, w, worker.KindCall, setID)
	deadline := time.Now().Add(maxTime)
	lostWhileBusy, turns := 0, 0
	for turns < maxTurns && time.Now().Before(deadline) {
		turns++
		var wg sync.WaitGroup
		var cancelNext func()
		var nextDone <-chan struct{}
		wg.Go(func() { cancelPrevious() })
		cancelNext, nextDone = heldCall(t, w, worker.KindCall, setID)
		wg.Wait()
		<-previousDone

		if w.busySince.Load() == 0 {
			lostWhileBusy++
		}
		cancelPrevious, previousDone = cancelNext, nextDone
	}
	cancelPrevious()
	<-previousDone

	t.Logf("%d turns, busySince lost in %d", turns, lostWhileBusy)
	if lostWhileBusy > 0 {
		t.Errorf("busySince was 0 with a hook call in flight after %d of %d turns", lostWhileBusy, turns)
	}
	if got := w.busySince.Load(); got != 0 {
		t.Errorf("busySince = %d after the last call ended, want 0", got)
	}
}

// spinSource spends about a millisecond of CPU per call in a worker built
// without the race detector, far below a tenth of PreemptAfter here.
const spinSource = `func access(ctx, conf) {
	n := 0
	for i := 0; i < 20000; i++ { n = n + i }
}
`

// TestBusyRuleQuickTenantHeavyTraffic runs a tenant whose hook is quick
// (markSource) with many calls at once on the only worker, so its calls
// wait in the worker's queue. Rule 4 averages the hooks' own time, not the
// round trip, so when another tenant needs a worker, the quick tenant
// must keep its worker.
func TestBusyRuleQuickTenantHeavyTraffic(t *testing.T) {
	busyRuleHeavyTraffic(t, markSource)
}

// TestBusyRuleSpinTenantHeavyTraffic does the same with a hook that spends
// about a millisecond of CPU.
func TestBusyRuleSpinTenantHeavyTraffic(t *testing.T) {
	busyRuleHeavyTraffic(t, spinSource)
}

// busyRuleHeavyTraffic runs 32 callers of source for tenant quick on a
// pool of one worker with PreemptAfter 100 ms, lets tenant other call
// halfway, and fails when rule 4 stopped the quick tenant's worker.
func busyRuleHeavyTraffic(t *testing.T, source string) {
	const (
		preemptAfter = 100 * time.Millisecond
		callers      = 32
		runFor       = 1500 * time.Millisecond
	)
	pool, logs := newPool(t, Config{MaxWorkers: 1, PreemptAfter: preemptAfter})
	supervisor := chain.NewSupervisor(nil)
	quick := tenantChain(t, pool, supervisor, "quick", testBinding("a", source), time.Second, true)
	other := tenantChain(t, pool, supervisor, "other", testBinding("b", markSource), 50*time.Millisecond, true)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = runQuick(quick)
			}
		})
	}

	time.Sleep(runFor / 2)
	var average time.Duration
	pool.mu.Lock()
	for w := range pool.workers {
		if w.tenant.name == "quick" {
			average = time.Duration(w.callAverage.Load())
		}
	}
	pool.mu.Unlock()
	_, otherErr := runQuick(other)
	time.Sleep(runFor / 2)
	close(stop)
	wg.Wait()

	t.Logf("quick tenant's call average with %d callers: %s (rule 4 threshold %s); other tenant's call: %v",
		callers, average, preemptAfter/slowCallShare, otherErr)
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "stopped to make room") {
			t.Log(line)
		}
		if strings.Contains(line, fmt.Sprintf("tenant=quick for_tenant=other rule=%q", ruleBusy)) {
			t.Errorf("rule 4 preempted the quick tenant, whose hook does no waiting (call average %s before the request): %s", average, line)
		}
	}
}
