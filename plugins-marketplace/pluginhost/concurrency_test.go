package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// countingSource sums 1..n for the request header X-N in a loop, so that a
// call takes a while and its result shows whether it ran to the end.
const countingSource = `
func access(ctx, conf) {
  n := int(ctx.req.header("X-N"))
  total := 0
  for i := 1; i <= n; i++ {
    total += i
  }
  ctx.req.set_header("X-Out", conf.prefix + string(total))
}`

// countingExchange returns an exchange for countingSource and the X-Out
// value that a complete run with prefix produces.
func countingExchange(n int, prefix string) (*Exchange, string) {
	ex := newExchange()
	ex.Request.Header.Set("X-N", strconv.Itoa(n))
	return ex, prefix + strconv.Itoa(n*(n+1)/2)
}

// TestConcurrentRuns runs many goroutines on instances of one Plugin with
// different configs.
func TestConcurrentRuns(t *testing.T) {
	p := mustCompile(t, countingSource)
	prefixes := []string{"a-", "b-", "c-"}
	instances := make([]*Instance, len(prefixes))
	for i, prefix := range prefixes {
		var err error
		if instances[i], err = p.Bind(json.RawMessage(`{"prefix": "` + prefix + `"}`)); err != nil {
			t.Fatalf("Bind() error = %v", err)
		}
	}

	const goroutines, callsEach = 16, 200
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- runCountingCalls(instances, prefixes, g, callsEach)
		}()
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func runCountingCalls(instances []*Instance, prefixes []string, goroutine, calls int) error {
	for call := range calls {
		instanceIndex := (goroutine + call) % len(instances)
		ex, want := countingExchange(goroutine+call%100, prefixes[instanceIndex])

		if err := instances[instanceIndex].Run(context.Background(), PhaseAccess, ex); err != nil {
			return fmt.Errorf("goroutine %d call %d: Run() error = %v", goroutine, call, err)
		}
		if got := ex.Request.Header.Get("X-Out"); got != want {
			return fmt.Errorf("goroutine %d call %d: X-Out = %q, want %q", goroutine, call, got, want)
		}
	}
	return nil
}

// TestDeadlineAlternation alternates calls with short deadlines and calls
// without a deadline on one Plugin. A deadline may stop a call, but must
// never reach another call, including one that reuses the same VM after the
// deadline passed.
func TestDeadlineAlternation(t *testing.T) {
	instance := mustBind(t, countingSource, `{"prefix": "p-"}`)
	deadlines := []time.Duration{0, time.Microsecond, 10 * time.Microsecond, 50 * time.Microsecond,
		200 * time.Microsecond, time.Millisecond}

	const goroutines, callsEach = 4, 2500
	results := make(chan deadlineResult, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- runAlternatingCalls(instance, deadlines, g, callsEach, false)
		}()
	}
	wg.Wait()
	close(results)

	var total deadlineResult
	for result := range results {
		if result.err != nil {
			t.Error(result.err)
		}
		total.timedOut += result.timedOut
		total.completed += result.completed
	}
	t.Logf("calls with a deadline: %d timed out, %d completed", total.timedOut, total.completed)
	if total.timedOut == 0 {
		t.Errorf("no call timed out, want some, or the test did not exercise the halt path")
	}
}

type deadlineResult struct {
	timedOut, completed int
	err                 error
}

// TestTimeoutAlternation is TestDeadlineAlternation with the deadline set
// by RunWithTimeout, whose timer each VM reuses across calls.
func TestTimeoutAlternation(t *testing.T) {
	instance := mustBind(t, countingSource, `{"prefix": "p-"}`)
	timeouts := []time.Duration{time.Microsecond, 10 * time.Microsecond, 50 * time.Microsecond,
		200 * time.Microsecond, time.Millisecond}

	const goroutines, callsEach = 4, 2500
	var total deadlineResult
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			result := runAlternatingCalls(instance, timeouts, g, callsEach, true)
			mu.Lock()
			defer mu.Unlock()
			if result.err != nil {
				t.Error(result.err)
			}
			total.timedOut += result.timedOut
			total.completed += result.completed
		}()
	}
	wg.Wait()

	t.Logf("calls with a timeout: %d timed out, %d completed", total.timedOut, total.completed)
	if total.timedOut == 0 {
		t.Errorf("no call timed out, want some, or the test did not exercise the timer")
	}
}

// runAlternatingCalls alternates calls with a deadline, taken in turn from
// deadlines, and calls without one. byTimeout passes the deadline to
// RunWithTimeout instead of a context.
func runAlternatingCalls(instance *Instance, deadlines []time.Duration, goroutine, calls int, byTimeout bool) deadlineResult {
	var result deadlineResult
	for call := range calls {
		ex, want := countingExchange(50+call%50, "p-")
		withDeadline := call%2 == 0
		deadline := deadlines[(call/2)%len(deadlines)]

		var err error
		switch {
		case withDeadline && byTimeout:
			err = instance.RunWithTimeout(context.Background(), deadline, PhaseAccess, ex)
		case withDeadline:
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			err = instance.Run(ctx, PhaseAccess, ex)
			cancel()
		default:
			err = instance.Run(context.Background(), PhaseAccess, ex)
		}

		got := ex.Request.Header.Get("X-Out")
		switch {
		case withDeadline && errors.Is(err, context.DeadlineExceeded):
			result.timedOut++
			continue
		case err != nil:
			result.err = fmt.Errorf("goroutine %d call %d (deadline %v): Run() error = %v", goroutine, call, withDeadline, err)
			return result
		case got != want:
			result.err = fmt.Errorf("goroutine %d call %d (deadline %v): X-Out = %q, want %q", goroutine, call, withDeadline, got, want)
			return result
		}
		if withDeadline {
			result.completed++
		}
	}
	return result
}

func TestDeadlineStopsEndlessHook(t *testing.T) {
	source := `
func access(ctx, conf) {
  if ctx.req.header("X-Mode") == "loop" {
    for { }
  }
  if ctx.req.header("X-Mode") == "try" {
    try(func() { for { } }, func(e) { for { } })
  }
  ctx.req.set_header("X-Out", "done")
}`
	tests := []struct {
		name    string
		mode    string
		stop    func() (context.Context, context.CancelFunc)
		wantErr error
	}{
		{"endless loop with deadline", "loop", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, context.DeadlineExceeded},
		{"endless loop inside try", "try", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, context.DeadlineExceeded},
		{"endless loop with timeout", "loop", nil, context.DeadlineExceeded},
		{"endless loop cancelled under WatchHooks", "loop", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			watched, stop := WatchHooks(ctx)
			time.AfterFunc(20*time.Millisecond, cancel)
			return watched, func() { stop(); cancel() }
		}, context.Canceled},
		{"endless loop cancelled under nested WatchHooks", "loop", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			outer, stopOuter := WatchHooks(ctx)
			inner, stopInner := WatchHooks(context.WithValue(outer, testValueKey{}, "request"))
			time.AfterFunc(20*time.Millisecond, cancel)
			return inner, func() { stopInner(); stopOuter(); cancel() }
		}, context.Canceled},
		{"endless loop cancelled through a context derived from a watched one", "loop", func() (context.Context, context.CancelFunc) {
			ctx, cancelOuter := context.WithCancel(context.Background())
			outer, stopOuter := WatchHooks(ctx)
			derived, cancel := context.WithCancel(outer)
			inner, stopInner := WatchHooks(derived)
			time.AfterFunc(20*time.Millisecond, cancel)
			return inner, func() { stopInner(); stopOuter(); cancel(); cancelOuter() }
		}, context.Canceled},
		{"endless loop cancelled", "loop", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			instance := mustBind(t, source, "")
			ex := newExchange()
			ex.Request.Header.Set("X-Mode", tt.mode)
			ctx, cancel, timeout := context.Background(), context.CancelFunc(func() {}), 20*time.Millisecond
			if tt.stop != nil {
				ctx, cancel = tt.stop()
				timeout = 0
			}
			defer cancel()

			start := time.Now()
			err := instance.RunWithTimeout(ctx, timeout, PhaseAccess, ex)
			elapsed := time.Since(start)

			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Run() error = %v, want %v", err, tt.wantErr)
			}
			if elapsed > 2*time.Second {
				t.Errorf("Run() took %v after a 20ms deadline, want it stopped promptly", elapsed)
			}
			assertInstanceWorks(t, instance)
		})
	}
}

// assertInstanceWorks runs a few normal calls, which must succeed.
func assertInstanceWorks(t *testing.T, instance *Instance) {
	t.Helper()
	for call := 0; call < 5; call++ {
		ex := newExchange()
		if err := instance.Run(context.Background(), PhaseAccess, ex); err != nil {
			t.Fatalf("normal call %d: Run() error = %v", call, err)
		}
		if got := ex.Request.Header.Get("X-Out"); got != "done" {
			t.Fatalf("normal call %d: X-Out = %q, want %q", call, got, "done")
		}
	}
}

// TestOneWatcherPerVM checks that calls start no goroutine that outlives
// them, with and without a deadline. Each VM keeps one watcher goroutine for
// its whole life, so the count may grow by the number of pooled VMs only.
func TestOneWatcherPerVM(t *testing.T) {
	instance := mustBind(t, countingSource, `{"prefix": ""}`)
	ex, _ := countingExchange(1, "")
	mustRun(t, instance, PhaseAccess, ex)
	before := runtime.NumGoroutine()

	for call := range 1000 {
		ex, _ := countingExchange(1, "")
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		if call%2 == 0 {
			ctx = context.Background()
		}
		if err := instance.Run(ctx, PhaseAccess, ex); err != nil {
			t.Fatalf("call %d: Run() error = %v", call, err)
		}
		cancel()
	}

	// sync.Pool drops some Puts under -race, which creates new VMs whose
	// predecessors are retired only after garbage collection.
	after := waitForGoroutines(before + 20)
	if after > before+20 {
		t.Errorf("goroutines grew from %d to %d over 1000 calls, want at most %d", before, after, before+20)
	}
}

// waitForGoroutines collects garbage until at most limit goroutines run or
// five seconds passed, and returns the last count.
func waitForGoroutines(limit int) int {
	deadline := time.Now().Add(5 * time.Second)
	count := runtime.NumGoroutine()
	for count > limit && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		count = runtime.NumGoroutine()
	}
	return count
}

// TestDroppedInstanceReleasesWatchers checks that the watcher goroutines of
// pooled VMs end once their Instance is garbage.
func TestDroppedInstanceReleasesWatchers(t *testing.T) {
	p := mustCompile(t, countingSource)
	runtime.GC()
	before := runtime.NumGoroutine()

	func() {
		instance, err := p.Bind(json.RawMessage(`{"prefix": ""}`))
		if err != nil {
			t.Fatalf("Bind() error = %v", err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ex, _ := countingExchange(100, "")
				_ = instance.Run(context.Background(), PhaseAccess, ex)
			}()
		}
		wg.Wait()
	}()

	if after := waitForGoroutines(before); after > before {
		t.Errorf("goroutines = %d after the Instance was dropped, want at most %d", after, before)
	}
}

// TestLateDeadlineSpared checks the case that broke pooled VMs in Risor
// v1.8.1: a deadline that passes after its call returned, while the VM waits
// in the pool, must not stop the next call on that VM.
func TestLateDeadlineSpared(t *testing.T) {
	instance := mustBind(t, countingSource, `{"prefix": ""}`)

	for round := range 20 {
		ex, _ := countingExchange(1, "")
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		if err := instance.Run(ctx, PhaseAccess, ex); err != nil {
			t.Fatalf("round %d: call with deadline: Run() error = %v", round, err)
		}
		<-ctx.Done()
		cancel()

		ex, want := countingExchange(2000, "")
		if err := instance.Run(context.Background(), PhaseAccess, ex); err != nil {
			t.Fatalf("round %d: next call: Run() error = %v", round, err)
		}
		if got := ex.Request.Header.Get("X-Out"); got != want {
			t.Fatalf("round %d: next call: X-Out = %q, want %q", round, got, want)
		}
	}
}

// TestWatchHooksLateCancel checks that cancelling a WatchHooks context after
// its calls returned stops none of the later calls on the same VMs, and that
// overlapping calls under one watch all complete.
func TestWatchHooksLateCancel(t *testing.T) {
	instance := mustBind(t, countingSource, `{"prefix": ""}`)

	for round := range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		watched, stop := WatchHooks(ctx)
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ex, want := countingExchange(200, "")
				if err := instance.Run(watched, PhaseAccess, ex); err != nil {
					t.Errorf("round %d: call under watch: Run() error = %v", round, err)
				} else if got := ex.Request.Header.Get("X-Out"); got != want {
					t.Errorf("round %d: call under watch: X-Out = %q, want %q", round, got, want)
				}
			}()
		}
		wg.Wait()
		cancel()
		stop()

		ex, want := countingExchange(2000, "")
		if err := instance.Run(context.Background(), PhaseAccess, ex); err != nil {
			t.Fatalf("round %d: next call: Run() error = %v", round, err)
		}
		if got := ex.Request.Header.Get("X-Out"); got != want {
			t.Fatalf("round %d: next call: X-Out = %q, want %q", round, got, want)
		}
	}
}

// testValueKey is a context key of the tests.
type testValueKey struct{}

// TestWatchHooksReusesWatch checks that WatchHooks on a context that a
// caller already watches for the same cancellation adds no registration,
// and that a context with a cancellation of its own gets its own watch.
func TestWatchHooksReusesWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outer, stopOuter := WatchHooks(ctx)
	defer stopOuter()
	if watchOf(outer) == nil {
		t.Fatal("WatchHooks of a cancelable context returned a context without a watch")
	}

	valued := context.WithValue(outer, testValueKey{}, "request")
	same, stopSame := WatchHooks(valued)
	defer stopSame()
	if same != valued {
		t.Error("WatchHooks of a watched context returned a new context, want the same one")
	}
	if got := same.Value(testValueKey{}); got != "request" {
		t.Errorf("Value(testValueKey) = %v, want %q", got, "request")
	}

	derived, cancelDerived := context.WithCancel(outer)
	defer cancelDerived()
	own, stopOwn := WatchHooks(derived)
	defer stopOwn()
	if own == derived || watchOf(own) == watchOf(outer) {
		t.Error("WatchHooks of a context with its own cancellation reused the outer watch, want a new one")
	}
}
