package sandbox

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// runMark runs the access phase of set's first binding and returns X-Order.
func runMark(t *testing.T, set *Set) string {
	t.Helper()
	ex := exchange()
	step := chain.Step{Binding: "a", Plugin: "a", Version: "1.0.0", Remote: set.Step(0)}
	if err := chain.New([]chain.Step{step}).Run(context.Background(), pluginhost.PhaseAccess, ex); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return ex.Request.Header.Get("X-Order")
}

// doublingSource doubles a string until the worker runs out of memory.
const doublingSource = `func access(ctx, conf) {
	s := "x"
	for i := 0; i < 40; i++ { s = s + s }
}
`

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPoolEvictsLeastRecentlyUsed(t *testing.T) {
	pool, logs := newPool(t, Config{MaxWorkers: 1})
	first, err := pool.Load("tenant-a", []worker.Binding{testBinding("a", markSource)})
	if err != nil {
		t.Fatalf("Load a: %v", err)
	}
	second, err := pool.Load("tenant-b", []worker.Binding{testBinding("a", markSource)})
	if err != nil {
		t.Fatalf("Load b: %v", err)
	}
	waitFor(t, "one worker", func() bool { return pool.Workers() == 1 })
	if !strings.Contains(logs.String(), "plugin worker stopped to make room") {
		t.Errorf("logs do not record the eviction:\n%s", logs.String())
	}

	// Tenant a's worker was replaced, so this call starts it again and
	// reloads its set, and tenant b's worker makes room.
	if got := runMark(t, first); got != "a" {
		t.Errorf("tenant a X-Order = %q, want %q", got, "a")
	}
	if got := runMark(t, second); got != "a" {
		t.Errorf("tenant b X-Order = %q, want %q", got, "a")
	}
	if pool.Workers() > 1 {
		t.Errorf("workers = %d, want at most 1", pool.Workers())
	}
}

func TestPoolReapsIdleWorker(t *testing.T) {
	pool, logs := newPool(t, Config{IdleTimeout: 50 * time.Millisecond})
	set, err := pool.Load("acme", []worker.Binding{testBinding("a", markSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// The worker starts in the background, so the pool may count none
	// before it starts. The log line marks the reap itself.
	waitFor(t, "the idle worker to stop", func() bool {
		return pool.Workers() == 0 && strings.Contains(logs.String(), "plugin worker stopped after idling")
	})
	if strings.Contains(logs.String(), "plugin worker failed") {
		t.Errorf("a reaped worker was logged as failed:\n%s", logs.String())
	}

	if got := runMark(t, set); got != "a" {
		t.Errorf("X-Order after the reap = %q, want %q", got, "a")
	}
}

func TestPoolFailOpenSkipsCrashedStep(t *testing.T) {
	skipUnderRace(t)
	pool, _ := newPool(t, Config{MemoryLimit: 64 << 20})
	set, err := pool.Load("acme", []worker.Binding{testBinding("hog", doublingSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	step := chain.Step{Binding: "hog", Plugin: "hog", Version: "1.0.0", Remote: set.Step(0)}
	step.Guard = chain.NewSupervisor(nil).Guard("acme", step, 5*time.Second, true)

	ex := exchange()
	if err := chain.New([]chain.Step{step}).Run(context.Background(), pluginhost.PhaseAccess, ex); err != nil {
		t.Errorf("Run with on_error open: %v, want the step skipped", err)
	}

	// During the restart back-off the step fails at once, and is skipped
	// again.
	started := time.Now()
	if err := chain.New([]chain.Step{step}).Run(context.Background(), pluginhost.PhaseAccess, exchange()); err != nil {
		t.Errorf("Run during back-off: %v, want the step skipped", err)
	}
	if elapsed := time.Since(started); elapsed > time.Second {
		t.Errorf("Run during back-off took %s, want it to fail fast", elapsed)
	}
}

func TestPoolKillsWorkerPastDeadline(t *testing.T) {
	pool, logs := newPool(t, Config{CallMargin: 50 * time.Millisecond, KillMargin: 100 * time.Millisecond})
	pool.cfg.Command[1] = "hung-worker"
	set, err := pool.Load("acme", []worker.Binding{testBinding("a", markSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	step := chain.Step{Binding: "a", Plugin: "a", Version: "1.0.0", Remote: set.Step(0)}
	step.Guard = chain.NewSupervisor(nil).Guard("acme", step, 50*time.Millisecond, false)

	started := time.Now()
	err = chain.New([]chain.Step{step}).Run(context.Background(), pluginhost.PhaseAccess, exchange())
	elapsed := time.Since(started)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run error = %v, want a deadline error", err)
	}
	// The deadline is the hook's 50 ms plus the 50 ms call margin.
	if elapsed < 100*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("Run returned after %s, want about 100 ms", elapsed)
	}

	waitFor(t, "the killed worker's failure log", func() bool { return strings.Contains(logs.String(), "plugin worker failed") })
	text := logs.String()
	if !strings.Contains(text, "killing it") || !strings.Contains(text, "signal: killed") {
		t.Errorf("logs do not record the kill:\n%s", text)
	}
}

func TestPoolSurvivesConcurrentMapWrites(t *testing.T) {
	pool, logs := newPool(t, Config{})
	pool.cfg.Command[1] = "racing-worker"
	set, err := pool.Load("acme", []worker.Binding{testBinding("a", markSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	step := chain.Step{Binding: "a", Plugin: "a", Version: "1.0.0", Remote: set.Step(0)}
	step.Guard = chain.NewSupervisor(nil).Guard("acme", step, time.Second, false)

	err = chain.New([]chain.Step{step}).Run(context.Background(), pluginhost.PhaseAccess, exchange())
	if err == nil || !strings.Contains(err.Error(), "concurrent map writes") {
		t.Errorf("Run error = %v, want the worker's concurrent map writes failure", err)
	}
	waitFor(t, "the failure log", func() bool { return strings.Contains(logs.String(), "plugin worker failed") })
}
