package sandbox

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// syncBuffer is a log destination that tests read while workers write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newPool returns a pool whose workers are this test binary.
func newPool(t testing.TB, cfg Config) (*Pool, *syncBuffer) {
	t.Helper()
	executable, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg.Command = []string{executable, "worker"}
	cfg.Dir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	pool, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, logs
}

func testBinding(id, source string) worker.Binding {
	return worker.Binding{ID: id, Plugin: id, Version: "1.0.0", Source: source, Config: []byte(`{"mark":"` + id + `"}`)}
}

const markSource = `func access(ctx, conf) {
	ctx.req.set_header("X-Order", ctx.req.header("X-Order") + conf["mark"])
	ctx.vars["count"] = 1 + ctx.vars.get("count", 0)
}
`

func exchange() *pluginhost.Exchange {
	return &pluginhost.Exchange{
		Request:  pluginhost.Request{Method: "GET", Path: "/x", Header: http.Header{}},
		Response: pluginhost.Response{Header: http.Header{}},
	}
}

func TestPoolRunsChainInWorker(t *testing.T) {
	pool, _ := newPool(t, Config{})
	set, err := pool.Load("acme", []worker.Binding{testBinding("a", markSource), testBinding("b", markSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	steps := []chain.Step{
		{Binding: "a", Plugin: "a", Version: "1.0.0", Remote: set.Step(0)},
		{Binding: "b", Plugin: "b", Version: "1.0.0", Remote: set.Step(1)},
	}
	c := chain.New(steps)
	if !c.Has(pluginhost.PhaseAccess) || c.Has(pluginhost.PhaseRewrite) {
		t.Fatalf("hooks: access %v rewrite %v, want true false", c.Has(pluginhost.PhaseAccess), c.Has(pluginhost.PhaseRewrite))
	}

	ex := exchange()
	if err := c.RunRequest(context.Background(), ex); err != nil {
		t.Fatalf("RunRequest: %v", err)
	}
	if got := ex.Request.Header.Get("X-Order"); got != "ab" {
		t.Errorf("X-Order = %q, want %q", got, "ab")
	}
	if got := ex.Vars["count"]; got != int64(2) {
		t.Errorf("vars count = %#v, want int64 2", got)
	}
	if pool.Workers() != 1 {
		t.Errorf("workers = %d, want 1", pool.Workers())
	}
}

func TestPoolRestartsCrashedWorker(t *testing.T) {
	skipUnderRace(t)
	pool, logs := newPool(t, Config{MemoryLimit: 64 << 20})
	source := `func access(ctx, conf) {
	s := "x"
	for i := 0; i < 40; i++ { s = s + s }
	ctx.req.set_header("X-Len", string(len(s)))
}
`
	set, err := pool.Load("acme", []worker.Binding{testBinding("hog", source)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	step := chain.Step{Binding: "hog", Plugin: "hog", Version: "1.0.0", Remote: set.Step(0)}
	step.Guard = chain.NewSupervisor(nil).Guard("acme", step, 5*time.Second, false)
	guarded := chain.New([]chain.Step{step})

	started := time.Now()
	err = guarded.Run(context.Background(), pluginhost.PhaseAccess, exchange())
	if err == nil {
		t.Fatal("Run succeeded, want the worker's failure")
	}
	t.Logf("failed after %s: %v", time.Since(started), err)
	if !strings.Contains(err.Error(), "out of memory") {
		t.Errorf("error = %v, want it to name the out of memory failure", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "plugin worker failed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "hog@1.0.0") {
		t.Errorf("logs do not name the plugin in flight:\n%s", logs.String())
	}

	// The tenant still has a binding set, so a new worker starts after
	// the first back-off of FirstRestartDelay.
	waitFor(t, "the restarted worker", func() bool { return strings.Count(logs.String(), "plugin worker started") == 2 && pool.Workers() == 1 })
}

// skipUnderRace skips a test that needs the worker's hard memory limit,
// which race detector builds do not set.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceDetector {
		t.Skip("the race detector's workers run without a hard memory limit")
	}
}

func TestPoolUnloadsUnusedSet(t *testing.T) {
	pool, _ := newPool(t, Config{})
	tenant := loadAndDrop(t, pool)

	waitFor(t, "the unused set to be unloaded", func() bool {
		runtime.GC()
		tenant.mu.Lock()
		defer tenant.mu.Unlock()
		return len(tenant.sets) == 0
	})
}

// loadAndDrop loads one binding set and returns its tenant without keeping
// a reference to the set.
func loadAndDrop(t *testing.T, pool *Pool) *tenant {
	t.Helper()
	set, err := pool.Load("acme", []worker.Binding{testBinding("a", markSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return set.tenant
}
