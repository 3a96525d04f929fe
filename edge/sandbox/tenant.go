package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"portcullis.dev/plugins-marketplace/worker"
)

// tenant is the worker state of one tenant: its running worker, if any, the
// binding sets that a new worker must load, and the restart back-off.
type tenant struct {
	pool *Pool
	name string
	// checkOnly marks the record of a pre-flight check's worker (see
	// Verify), which is never restarted.
	checkOnly bool
	// preemptedAt is the Unix nanoseconds of the last time the pool
	// stopped the tenant's worker for a slow call (see chooseEviction).
	preemptedAt atomic.Int64

	mu       sync.Mutex
	w        *workerConn
	sets     map[uint64]*worker.Load
	failures int
	retryAt  time.Time
	restart  *time.Timer
}

// acquire returns the tenant's running worker, starting one when none runs,
// with a claim that the caller ends with release once its call ended.
// When the pool is full and no worker may make room for the tenant, it
// waits for room for up to maxWait while ctx lasts. During a restart
// back-off it fails at once, so the calls fail by their on_error rules
// instead of waiting.
func (t *tenant) acquire(ctx context.Context, maxWait time.Duration) (*workerConn, error) {
	w, err := t.running()
	if errors.Is(err, errPoolFull) {
		return t.pool.waitForRoom(ctx, t.name, maxWait, t.running)
	}
	return w, err
}

// running returns the tenant's running worker, or starts one, as acquire
// does without waiting.
func (t *tenant) running() (*workerConn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()

	w := t.w
	if w == nil || w.stopping.Load() || w.isDead() {
		if wait := time.Until(t.retryAt); wait > 0 {
			return nil, fmt.Errorf("plugin worker of tenant %q is restarting after a failure: next start in %s", t.name, wait.Round(time.Millisecond))
		}
		var err error
		if w, err = t.startLocked(); err != nil {
			return nil, err
		}
	}
	if !t.pool.claim(w) {
		// The pool began to stop w after the check above. acquire waits
		// and tries again.
		return nil, errPoolFull
	}
	return w, nil
}

// startLocked starts a worker and sends it every live binding set. The
// worker reads frames in order, so calls sent after these loads find
// their sets. t.mu is held.
func (t *tenant) startLocked() (*workerConn, error) {
	if err := t.pool.reserve(t); err != nil {
		return nil, err
	}
	proc, socket, err := startProcess(&t.pool.cfg)
	if err != nil {
		t.pool.unreserve()
		return nil, err
	}

	w := newWorkerConn(t, proc, worker.NewConn(socket))
	t.pool.add(w)
	t.w = w
	go w.readLoop()
	t.pool.log.Info("plugin worker started", "tenant", t.name, "pid", proc.cmd.Process.Pid, "sets", len(t.sets))

	for _, load := range t.sets {
		t.reload(w, load)
	}
	return w, nil
}

// reload sends a set to a new worker before any call can follow it, and
// logs a failure to load it in the background. Calls for a set that failed
// to load fail by their on_error rules.
func (t *tenant) reload(w *workerConn, load *worker.Load) {
	pc := &pendingCall{reply: make(chan *worker.Frame, 1), started: time.Now().UnixNano()}
	id := w.register(pc)
	if err := w.conn.Send(&worker.Frame{Kind: worker.KindLoad, ID: id, Load: load}); err != nil {
		w.take(id)
		t.pool.log.Error("plugin worker failed to load a binding set", "tenant", t.name, "set", load.Set, "error", err)
		return
	}

	go func() {
		var err error
		select {
		case reply := <-pc.reply:
			if reply.Loaded == nil {
				err = errNoAnswer
			} else if reply.Loaded.Err != "" {
				err = errors.New(reply.Loaded.Err)
			}
		case <-w.dead:
			err = w.cause
		case <-time.After(DefaultLoadTimeout):
			w.take(id)
			err = fmt.Errorf("timed out: no reply within %s", DefaultLoadTimeout)
		}
		if err != nil {
			t.pool.log.Error("plugin worker failed to load a binding set", "tenant", t.name, "set", load.Set, "error", err)
		}
	}()
}

// load adds a binding set, sends it to the running worker (starting one)
// and waits for its hooks. A load ends the restart back-off. When the
// worker dies during the load, for example from a call of an older set,
// the load tries once more in a new worker.
func (t *tenant) load(load *worker.Load) (*worker.Loaded, error) {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var w *workerConn
		if w, err = t.workerFor(load); err != nil {
			break
		}

		var reply *worker.Frame
		reply, err = w.roundTrip(context.Background(), &worker.Frame{Kind: worker.KindLoad, Load: load}, &pendingCall{}, DefaultLoadTimeout)
		w.release()
		if err == nil && reply.Loaded == nil {
			err = errNoAnswer
		}
		if err == nil && reply.Loaded.Err != "" {
			err = errors.New(reply.Loaded.Err)
		}
		if err == nil {
			return reply.Loaded, nil
		}
		if !w.isDead() {
			break
		}
	}
	t.forget(load.Set)
	return nil, fmt.Errorf("load plugins of tenant %q into their worker: %w", t.name, err)
}

// workerFor ends the back-off, returns a live worker, starting one when
// none runs, and adds load to the sets that a new worker receives. When
// the pool is full and no worker may make room, it waits for room for up
// to loadWorkerWait.
func (t *tenant) workerFor(load *worker.Load) (*workerConn, error) {
	w, err := t.workerForNow(load)
	if errors.Is(err, errPoolFull) {
		return t.pool.waitForRoom(context.Background(), t.name, loadWorkerWait, func() (*workerConn, error) { return t.workerForNow(load) })
	}
	return w, err
}

// workerForNow is workerFor without the wait. The worker comes with a
// claim, as from acquire.
func (t *tenant) workerForNow(load *worker.Load) (*workerConn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()

	t.failures = 0
	t.retryAt = time.Time{}
	if t.restart != nil {
		t.restart.Stop()
	}
	w := t.w
	if w == nil || w.stopping.Load() || w.isDead() {
		var err error
		if w, err = t.startLocked(); err != nil {
			return nil, err
		}
	}
	t.sets[load.Set] = load
	if !t.pool.claim(w) {
		// The pool began to stop w after the check above. workerFor
		// waits and tries again.
		return nil, errPoolFull
	}
	return w, nil
}

// forget drops a binding set that no runtime uses, here and in the worker.
func (t *tenant) forget(set uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()

	delete(t.sets, set)
	if w := t.w; w != nil {
		go func() { _ = w.conn.Send(&worker.Frame{Kind: worker.KindUnload, Set: set}) }()
	}
}

// exited records the end of worker w. A worker that the pool did not stop
// failed: the tenant waits out a back-off, doubling with each failure in a
// row, and then starts a new worker if it still has binding sets.
func (t *tenant) exited(w *workerConn, cause string, readErr error, plugins []string) {
	t.pool.remove(w)

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.w == w {
		t.w = nil
	}
	// The read loop decided before it closed w.dead whether the pool had
	// stopped w. A caller woken by that close may stop w afterwards, as a
	// check does once its worker died, and that must not hide the failure.
	if errors.Is(w.cause, errWorkerGone) {
		return
	}
	if t.checkOnly {
		t.pool.log.Error("plugin worker of a pre-flight check failed", "tenant", t.name, "pid", w.proc.cmd.Process.Pid,
			"plugins", strings.Join(unique(plugins), ","), "cause", cause, "connection_error", readErr, "purpose", "pre-flight")
		return
	}

	if time.Since(w.proc.started) > StableAfter {
		t.failures = 0
	}
	t.failures++
	delay := min(FirstRestartDelay<<min(t.failures-1, 16), MaxRestartDelay)
	t.retryAt = time.Now().Add(delay)
	t.pool.log.Error("plugin worker failed", "tenant", t.name, "pid", w.proc.cmd.Process.Pid,
		"plugins_in_flight", strings.Join(unique(plugins), ","), "cause", cause, "connection_error", readErr,
		"failures_in_a_row", t.failures, "restart_in", delay)

	if len(t.sets) == 0 {
		return
	}
	if t.restart != nil {
		t.restart.Stop()
	}
	t.restart = time.AfterFunc(delay, t.restartNow)
}

// restartNow starts the worker after a back-off, unless one runs already.
func (t *tenant) restartNow() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if (t.w != nil && !t.w.stopping.Load()) || len(t.sets) == 0 {
		return
	}
	if _, err := t.startLocked(); err != nil {
		t.pool.log.Error("plugin worker restart failed", "tenant", t.name, "error", err)
	}
}

func unique(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, name := range names {
		if !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}
