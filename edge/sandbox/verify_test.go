package sandbox

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/plugins-marketplace/worker"
)

// guardSource denies every request when its config sets mode "deny".
const guardSource = `func access(ctx, conf) {
	if conf.get("mode", "") == "deny" {
		ctx.exit(403, "denied")
	}
}
`

// requestVectors checks that a request reaches the upstream under the
// binding's config.
const requestVectors = `[{"name": "never denies everything", "binding_config": true,
  "request": {"path": "/"}, "expect": {"status": 200}}]`

// verifyOf returns the Verify of source and requestVectors under config.
func verifyOf(source, config string) worker.Verify {
	return worker.Verify{Plugin: "guard", Version: "1.0.0", Source: source, Vectors: []byte(requestVectors), Config: []byte(config)}
}

func TestPoolVerifyPassesAndFails(t *testing.T) {
	pool, _ := newPool(t, Config{})

	if err := pool.Verify(context.Background(), "acme", verifyOf(guardSource, `{"mode":"open"}`)); err != nil {
		t.Errorf("Verify of a passing config: %v, want nil", err)
	}

	err := pool.Verify(context.Background(), "acme", verifyOf(guardSource, `{"mode":"deny"}`))
	var vectorErr *pluginpkg.VectorError
	if !errors.As(err, &vectorErr) {
		t.Fatalf("Verify of a failing config: %v, want a *pluginpkg.VectorError", err)
	}
	if vectorErr.Vector != "never denies everything" {
		t.Errorf("failing vector = %q, want %q", vectorErr.Vector, "never denies everything")
	}
	if !strings.Contains(err.Error(), "403") {
		t.Errorf("error %q does not name the status the vector got", err)
	}
	if errors.Is(err, ErrCheckUnavailable) {
		t.Errorf("Verify of a failing config: %v matches ErrCheckUnavailable, want a judged failure", err)
	}
	waitFor(t, "the checks' workers to stop", func() bool { return pool.Workers() == 0 })
}

func TestPoolVerifyCompileError(t *testing.T) {
	pool, _ := newPool(t, Config{})

	err := pool.Verify(context.Background(), "acme", verifyOf("func access(ctx, conf) {", `{}`))
	if err == nil || !strings.Contains(err.Error(), "compile plugin") {
		t.Errorf("Verify error = %v, want a compile error", err)
	}
	var vectorErr *pluginpkg.VectorError
	if errors.As(err, &vectorErr) {
		t.Errorf("Verify error = %v, want no vector failure for a source that does not compile", err)
	}
}

func TestPoolVerifySurvivesWorkerDeath(t *testing.T) {
	tests := []struct {
		name   string
		source string
		cause  string
		// hardLimit is set for a script that needs the worker's hard
		// memory limit, which the race detector's workers lack.
		hardLimit bool
	}{
		{
			name: "stack overflow",
			source: `func access(ctx, conf) {
	a := []
	a.append(a)
	ctx.req.set_header("X-Same", string(a == a))
}
`,
			cause: "stack overflow",
		},
		{
			name: "memory exhaustion",
			source: `func access(ctx, conf) {
	s := "x"
	for i := 0; i < 40; i++ { s = s + s }
	ctx.req.set_header("X-Len", string(len(s)))
}
`,
			cause:     "out of memory",
			hardLimit: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.hardLimit {
				skipUnderRace(t)
			}
			pool, logs := newPool(t, Config{MemoryLimit: 64 << 20})

			err := pool.Verify(context.Background(), "acme", verifyOf(tt.source, `{}`))
			if err == nil || !strings.Contains(err.Error(), tt.cause) {
				t.Fatalf("Verify error = %v, want the worker's cause %q", err, tt.cause)
			}
			var vectorErr *pluginpkg.VectorError
			if errors.As(err, &vectorErr) {
				t.Errorf("Verify error = %v, want the worker's death, not a vector failure", err)
			}
			waitFor(t, "the failure log", func() bool { return strings.Contains(logs.String(), "plugin worker of a pre-flight check failed") })

			// The check's worker was its own, so the next check starts
			// another one at once, without a restart back-off.
			if err := pool.Verify(context.Background(), "acme", verifyOf(guardSource, `{}`)); err != nil {
				t.Errorf("Verify after the worker's death: %v, want nil", err)
			}
		})
	}
}

func TestPoolVerifySparesTenantWorker(t *testing.T) {
	pool, _ := newPool(t, Config{})
	set, err := pool.Load("acme", []worker.Binding{testBinding("a", markSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	crash := `func access(ctx, conf) {
	a := []
	a.append(a)
	ctx.req.set_header("X-Same", string(a == a))
}
`

	if err := pool.Verify(context.Background(), "acme", verifyOf(crash, `{}`)); err == nil || !strings.Contains(err.Error(), "stack overflow") {
		t.Fatalf("Verify error = %v, want the worker's stack overflow", err)
	}
	// The tenant's worker served no vector, so it still runs and is in no
	// restart back-off.
	if got := runMark(t, set); got != "a" {
		t.Errorf("X-Order after a check killed its worker = %q, want %q", got, "a")
	}
	waitFor(t, "only the tenant's worker to run", func() bool { return pool.Workers() == 1 })
}

// TestPoolVerifyBesideBusyWorkers runs checks at once on an edge whose
// only worker place is taken: each check runs in the one check worker
// beside the MaxWorkers, in turn, and leaves the tenant's worker alone.
func TestPoolVerifyBesideBusyWorkers(t *testing.T) {
	pool, _ := newPool(t, Config{MaxWorkers: 1})
	set, err := pool.Load("acme", []worker.Binding{testBinding("a", markSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	errs := make(chan error, 3)
	for range cap(errs) {
		go func() { errs <- pool.Verify(context.Background(), "beta", verifyOf(guardSource, `{}`)) }()
	}
	for i := range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("check %d: %v", i+1, err)
		}
	}

	if got := pool.Workers(); got != 1 {
		t.Errorf("workers after the checks = %d, want the tenant's 1", got)
	}
	if got := runMark(t, set); got != "a" {
		t.Errorf("X-Order after the checks = %q, want %q", got, "a")
	}
}

func TestPoolVerifyAfterClose(t *testing.T) {
	pool, _ := newPool(t, Config{})
	pool.Close()

	err := pool.Verify(context.Background(), "acme", verifyOf(guardSource, `{}`))
	if err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Verify error = %v, want a closed pool error", err)
	}
	if !errors.Is(err, ErrCheckUnavailable) {
		t.Errorf("Verify error = %v, want it to match ErrCheckUnavailable", err)
	}
}

// loopSource runs each access hook until its deadline.
const loopSource = `func access(ctx, conf) {
	n := 0
	for { n++ }
}
`

// TestPoolVerifyUnavailableWhileSlotBusy holds the one check worker with
// vectors that run until their deadline, as a tenant with slow vectors
// does. A second check that cannot wait that long did not run, and its
// error matches ErrCheckUnavailable. The slow check's own timeout is a
// judged failure.
func TestPoolVerifyUnavailableWhileSlotBusy(t *testing.T) {
	pool, _ := newPool(t, Config{})
	slow := worker.Verify{Plugin: "loop", Version: "1.0.0", Source: loopSource,
		Vectors: []byte(`[{"name": "loops", "repeat": 100, "request": {"path": "/"}, "expect": {"status": 200}}]`)}
	slowCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	slowDone := make(chan error, 1)
	go func() { slowDone <- pool.Verify(slowCtx, "attacker", slow) }()
	waitFor(t, "the slow check's worker", func() bool { return pool.checks.held() })

	ctx, cancelVictim := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancelVictim()
	err := pool.Verify(ctx, "victim", verifyOf(guardSource, `{}`))
	if !errors.Is(err, ErrCheckUnavailable) {
		t.Errorf("Verify while the check worker is busy = %v, want it to match ErrCheckUnavailable", err)
	}
	if err == nil || !strings.Contains(err.Error(), "no check worker came free") {
		t.Errorf("Verify error = %v, want it to say that no check worker came free", err)
	}

	slowErr := <-slowDone
	if slowErr == nil {
		t.Fatal("Verify of endless vectors = nil, want a failure at the deadline")
	}
	if errors.Is(slowErr, ErrCheckUnavailable) {
		t.Errorf("Verify of endless vectors = %v matches ErrCheckUnavailable, want a judged failure", slowErr)
	}
	if err := pool.Verify(context.Background(), "victim", verifyOf(guardSource, `{}`)); err != nil {
		t.Errorf("Verify once the check worker is free: %v, want nil", err)
	}
}

func TestPoolVerifyStartFailureUnavailable(t *testing.T) {
	pool, err := New(Config{Command: []string{filepath.Join(t.TempDir(), "no-such-worker")}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	err = pool.Verify(context.Background(), "acme", verifyOf(guardSource, `{}`))
	if !errors.Is(err, ErrCheckUnavailable) {
		t.Errorf("Verify with a worker that cannot start = %v, want it to match ErrCheckUnavailable", err)
	}
	if err == nil || !strings.Contains(err.Error(), "no-such-worker") {
		t.Errorf("Verify error = %v, want it to name the worker command", err)
	}
}

func TestPoolVerifyCanceled(t *testing.T) {
	pool, _ := newPool(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err := pool.Verify(ctx, "acme", verifyOf(guardSource, `{}`))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Verify error = %v, want context.Canceled", err)
	}
}
