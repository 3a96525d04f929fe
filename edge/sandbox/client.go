package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// workerConn is the edge's side of one running worker: its process, its
// connection and the calls in flight on it.
type workerConn struct {
	tenant *tenant
	proc   *process
	conn   *worker.Conn

	// inFlight counts calls waiting for a reply, and lastUsed is the
	// Unix nanoseconds of the last call's start or end. The pool reads
	// both to choose idle workers.
	inFlight atomic.Int64
	lastUsed atomic.Int64
	// busySince is the Unix nanoseconds since which the worker has had
	// calls or loads in flight without a break, 0 while it has none.
	// callAverage is a moving average of the time its calls' hooks ran in
	// the worker, each divided by the calls that shared the worker, in
	// nanoseconds. A full pool may preempt a worker that is
	// busy without a break on slow calls (ruleBusy).
	busySince   atomic.Int64
	callAverage atomic.Int64
	// claims counts the calls and loads that got the worker from their
	// tenant and have not ended. The pool does not stop a claimed worker
	// as idle, and a worker that it began to stop takes no claim
	// (Pool.claim), so a call cannot get a worker that is being stopped.
	claims atomic.Int64
	// stopping is set when the pool ends the worker on purpose, so its
	// exit is not a failure. stopReason (under mu) is the reason, which
	// the error of its calls in flight names.
	stopping   atomic.Bool
	stopReason string

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*pendingCall

	// dead is closed once the worker is gone, and cause is the reason.
	dead  chan struct{}
	cause error
}

// pendingCall is a Load or Call that waits for its reply.
type pendingCall struct {
	reply chan *worker.Frame
	// started is the Unix nanoseconds of the call's start, from which the
	// pool measures a busy worker's oldest call. sharing is the number of
	// calls in flight on the worker when it started, itself included.
	started int64
	sharing int64
	// set and ctx serve the call's host calls; both are nil for a Load
	// and a Verify.
	set       *Set
	ctx       context.Context
	host      pluginhost.Host
	requestID string
	// steps are the steps of the call, whose plugin versions the log line
	// of a worker that fails during it names.
	steps []worker.Step
}

// plugins returns name@version of the plugin of each step of the call.
func (pc *pendingCall) plugins() []string {
	if pc.set == nil {
		return nil
	}
	names := make([]string, 0, len(pc.steps))
	for _, step := range pc.steps {
		b := pc.set.bindings[step.Index]
		names = append(names, b.plugin+"@"+b.version)
	}
	return names
}

func newWorkerConn(t *tenant, proc *process, conn *worker.Conn) *workerConn {
	w := &workerConn{tenant: t, proc: proc, conn: conn, pending: map[uint64]*pendingCall{}, dead: make(chan struct{})}
	w.lastUsed.Store(time.Now().UnixNano())
	return w
}

// release ends a claim that Pool.claim took.
func (w *workerConn) release() {
	w.claims.Add(-1)
}

// register adds a pending call and returns its id.
func (w *workerConn) register(pc *pendingCall) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nextID++
	w.pending[w.nextID] = pc
	return w.nextID
}

// take removes and returns the pending call id, or nil.
func (w *workerConn) take(id uint64) *pendingCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	pc := w.pending[id]
	delete(w.pending, id)
	return pc
}

func (w *workerConn) lookup(id uint64) *pendingCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pending[id]
}

// readLoop dispatches the worker's frames until the connection ends, then
// waits for the process and hands its exit to the tenant.
func (w *workerConn) readLoop() {
	var readErr error
	for {
		f, err := w.conn.Receive()
		if err != nil {
			readErr = err
			break
		}
		switch f.Kind {
		case worker.KindLoaded, worker.KindResult, worker.KindVerified, worker.KindTraced:
			if pc := w.take(f.ID); pc != nil {
				pc.reply <- f
			}
		case worker.KindHostCall:
			if f.HostCall != nil && f.HostCall.Method == worker.MethodLog {
				// A log line gets no reply. It is written here, before the
				// result of its call, which follows it, is delivered. The
				// plugin log's rate limit drops most lines before a write.
				if pc := w.lookup(f.HostCall.Call); pc != nil {
					w.serveLog(pc, f.HostCall)
				}
				break
			}
			go w.serveHostCall(f.ID, f.HostCall)
		default:
			readErr = fmt.Errorf("unexpected frame kind %d from the worker", f.Kind)
		}
		if readErr != nil {
			break
		}
	}

	_ = w.conn.Close()
	// A worker whose connection broke without an exit is killed, so its
	// exit status shows the cause.
	select {
	case <-w.proc.exited:
	case <-time.After(time.Second):
		w.proc.kill()
	}
	cause := w.proc.exitCause()
	if w.stopping.Load() {
		w.cause = w.stoppedError()
	} else {
		w.cause = &ExitError{Tenant: w.tenant.name, Cause: cause, Summary: w.proc.exitSummary()}
	}

	w.mu.Lock()
	var plugins []string
	for _, pc := range w.pending {
		plugins = append(plugins, pc.plugins()...)
	}
	w.mu.Unlock()
	close(w.dead)
	w.tenant.exited(w, cause, readErr, plugins)
}

// roundTrip sends f as the pending call pc and waits for the reply until
// wait passes, ctx ends or the worker dies. On a missed deadline it cancels
// the call and kills the worker unless the reply arrives within the kill
// margin.
func (w *workerConn) roundTrip(ctx context.Context, f *worker.Frame, pc *pendingCall, wait time.Duration) (*worker.Frame, error) {
	started := time.Now().UnixNano()
	pc.sharing = w.inFlight.Add(1)
	if pc.sharing == 1 {
		w.busySince.Store(started)
	}
	w.lastUsed.Store(started)
	defer func() {
		ended := time.Now().UnixNano()
		w.lastUsed.Store(ended)
		// A call that started after the last one ended began a new busy
		// spell, which the compare-and-swap leaves in place.
		since := w.busySince.Load()
		if w.inFlight.Add(-1) == 0 {
			w.busySince.CompareAndSwap(since, 0)
		}
	}()

	pc.started = started
	pc.reply = make(chan *worker.Frame, 1)
	id := w.register(pc)
	f.ID = id
	if err := w.conn.Send(f); err != nil {
		w.take(id)
		return nil, w.failure(fmt.Errorf("send to plugin worker of tenant %q: %w", w.tenant.name, err))
	}

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case reply := <-pc.reply:
		return reply, nil
	case <-w.dead:
		return nil, w.cause
	case <-ctx.Done():
		w.take(id)
		_ = w.conn.Send(&worker.Frame{Kind: worker.KindCancel, ID: id})
		return nil, ctx.Err()
	case <-timer.C:
		w.abandon(id)
		return nil, fmt.Errorf("plugin worker of tenant %q timed out: no reply within %s: %w", w.tenant.name, wait, context.DeadlineExceeded)
	}
}

// recordCall adds a call whose hooks ran for duration in the worker to
// the worker's moving average, which weighs the latest call by one eighth.
// The time is the worker's own, so a call that waited in the worker's
// queue does not count as slow. The caller divides it by the calls that
// shared the worker, whose hooks run at the same time on its CPUs.
func (w *workerConn) recordCall(duration time.Duration) {
	for {
		average := w.callAverage.Load()
		if w.callAverage.CompareAndSwap(average, average+(int64(duration)-average)/8) {
			return
		}
	}
}

// abandon cancels call id, and kills the worker when the call is still
// pending after the kill margin.
func (w *workerConn) abandon(id uint64) {
	_ = w.conn.Send(&worker.Frame{Kind: worker.KindCancel, ID: id})
	time.AfterFunc(w.tenant.pool.cfg.KillMargin, func() {
		if w.take(id) != nil {
			w.tenant.pool.log.Error("plugin worker missed a call deadline, killing it", "tenant", w.tenant.name, "pid", w.proc.cmd.Process.Pid)
			w.proc.kill()
		}
	})
}

// failure returns the worker's exit cause when it is already gone, so the
// error names it, or else err. A worker that the pool is stopping returns
// the error of its stop, which is not the call's failure.
func (w *workerConn) failure(err error) error {
	if w.stopping.Load() {
		return w.stoppedError()
	}
	select {
	case <-w.dead:
		return w.cause
	case <-time.After(100 * time.Millisecond):
		return err
	}
}

// isDead reports whether the worker is gone.
func (w *workerConn) isDead() bool {
	select {
	case <-w.dead:
		return true
	default:
		return false
	}
}

// stop ends the worker on purpose: it closes the connection, which the
// worker takes as the end of its work, and kills it if it is still running
// after the kill margin. reason completes "plugin worker of tenant X was
// stopped" in the error of the calls in flight, such as "after idling".
func (w *workerConn) stop(reason string) {
	w.mu.Lock()
	if w.stopping.Swap(true) {
		w.mu.Unlock()
		return
	}
	w.stopReason = reason
	w.mu.Unlock()

	_ = w.conn.Close()
	go func() {
		select {
		case <-w.proc.exited:
		case <-time.After(w.tenant.pool.cfg.KillMargin):
			w.proc.kill()
		}
	}()
}

// errNoAnswer is the error of a Load or Call whose reply is of the wrong kind.
var errNoAnswer = errors.New("plugin worker sent a reply of the wrong kind")

// oldestCall returns how long the oldest call pending on the worker has
// run at now, including a call that the edge abandoned and whose reply the
// worker still owes, and false when none is pending.
func (w *workerConn) oldestCall(now int64) (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()

	if len(w.pending) == 0 {
		return 0, false
	}
	oldest := now
	for _, pc := range w.pending {
		if pc.started != 0 && pc.started < oldest {
			oldest = pc.started
		}
	}
	return time.Duration(now - oldest), true
}

// stoppedError returns the error of the calls that were in flight when the
// pool stopped the worker. It is a *capacityError, because the calls'
// bindings did not cause the stop.
func (w *workerConn) stoppedError() error {
	w.mu.Lock()
	reason := w.stopReason
	w.mu.Unlock()
	return &capacityError{msg: fmt.Sprintf("plugin worker of tenant %q was stopped %s, so its call did not finish", w.tenant.name, reason), stopped: true}
}
