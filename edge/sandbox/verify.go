package sandbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"portcullis.dev/plugins-marketplace/worker"
)

// DefaultVerifyTimeout bounds a Verify whose context has no deadline.
const DefaultVerifyTimeout = 10 * time.Second

// ErrCheckUnavailable matches, through errors.Is, the error of a Verify or
// Trace whose check did not start: no check worker came free within its
// context, its context had ended, the pool is closed, or the worker could
// not start. Such an error does not judge the plugin, so the caller should
// run the check again later instead of rejecting the version or config.
var ErrCheckUnavailable = errors.New("plugin check did not start")

// unavailableError is an error of a check that did not start. Its text is
// the cause's.
type unavailableError struct {
	err error
}

func (e *unavailableError) Error() string { return e.err.Error() }

func (e *unavailableError) Unwrap() error { return e.err }

// Is matches ErrCheckUnavailable.
func (e *unavailableError) Is(target error) bool { return target == ErrCheckUnavailable }

// Verify runs a plugin version's test vectors in a worker process of its
// own, so that a script that kills its process ends that worker and not the
// edge. It returns nil when every vector passed or was skipped, and a
// *pluginpkg.VectorError for the first vector that failed. An error that
// matches ErrCheckUnavailable means the check did not start. Any other
// error means the vectors did not run to the end: the source does not
// compile, the vectors are invalid, or the worker died (the error names its
// exit cause) or missed its deadline.
//
// The check does not use the tenant's worker. A worker that dies fails
// its calls in flight and makes the tenant wait out a restart back-off, so
// the failed calls could quarantine the bindings that serve traffic. The
// check's worker does not count against MaxWorkers, so busy tenant
// workers never hold a check up. The pool runs one check worker at a time
// beside them. Other checks wait for it within ctx, or fail with
// ErrCheckUnavailable, and tenants with checks waiting take turns
// (checkQueue). Verify stops the worker before it returns.
//
// The worker stops the vectors once they have run for the time that ctx
// had left when Verify was called, or for DefaultVerifyTimeout without a
// deadline, so the wait for the check worker does not shorten the check.
// The edge waits CallMargin longer for the reply, and then cancels the run
// and kills the worker unless the reply arrives within KillMargin, as it
// does for a call.
func (p *Pool) Verify(ctx context.Context, tenantName string, v worker.Verify) error {
	verified, err := p.verify(ctx, tenantName, v)
	if err != nil {
		return fmt.Errorf("check plugin %q version %q in a plugin worker: %w", v.Plugin, v.Version, err)
	}
	return verified.Failure()
}

// verify sends v to a new worker and returns the worker's reply.
func (p *Pool) verify(ctx context.Context, tenantName string, v worker.Verify) (*worker.Verified, error) {
	if err := ctx.Err(); err != nil {
		return nil, &unavailableError{fmt.Errorf("the check's context ended before it started: %w", err)}
	}
	v.Timeout = DefaultVerifyTimeout
	if deadline, ok := ctx.Deadline(); ok {
		v.Timeout = time.Until(deadline)
	}
	if v.Timeout <= 0 {
		return nil, &unavailableError{fmt.Errorf("the check's context ended before it started: %w", context.DeadlineExceeded)}
	}

	reply, err := p.checkRoundTrip(ctx, tenantName, &worker.Frame{Kind: worker.KindVerify, Verify: &v}, v.Timeout)
	if err != nil {
		return nil, err
	}
	if reply.Verified == nil {
		return nil, fmt.Errorf("plugin worker of tenant %q: %w", tenantName, errNoAnswer)
	}
	return reply.Verified, nil
}

// checkRoundTrip sends f, a Verify or Trace that runs for at most
// timeout, to a new worker of its own and returns the worker's reply. It
// stops the worker before it returns.
func (p *Pool) checkRoundTrip(ctx context.Context, tenantName string, f *worker.Frame, timeout time.Duration) (*worker.Frame, error) {
	w, err := p.startVerifier(ctx, tenantName)
	if err != nil {
		return nil, err
	}
	defer p.stopVerifier(w)

	waitCtx, stop := withoutDeadline(ctx)
	defer stop()
	return w.roundTrip(waitCtx, f, &pendingCall{}, timeout+p.cfg.CallMargin)
}

// startVerifier waits for the check slot within ctx and starts a worker
// for one check. Its tenant record is its own and holds no binding sets,
// so its exit never touches the state of the tenant's serving worker, and
// the pool does not restart it. Its errors match ErrCheckUnavailable.
func (p *Pool) startVerifier(ctx context.Context, tenantName string) (*workerConn, error) {
	if err := p.checks.acquire(ctx, tenantName); err != nil {
		return nil, &unavailableError{fmt.Errorf("no check worker came free: other checks held it until the check's context ended: %w", err)}
	}
	if p.isClosed() {
		p.checks.release()
		return nil, &unavailableError{errors.New("plugin worker pool is closed")}
	}

	proc, socket, err := startProcess(&p.cfg)
	if err != nil {
		p.checks.release()
		return nil, &unavailableError{err}
	}
	t := &tenant{pool: p, name: tenantName, sets: map[uint64]*worker.Load{}, checkOnly: true}
	w := newWorkerConn(t, proc, worker.NewConn(socket))
	go w.readLoop()
	p.log.Info("plugin worker started", "tenant", tenantName, "pid", proc.cmd.Process.Pid, "purpose", "pre-flight")
	return w, nil
}

// stopVerifier stops the worker of a check and frees the check slot. A
// worker that does not end at once is killed after KillMargin, in the
// background.
func (p *Pool) stopVerifier(w *workerConn) {
	w.stop("after its check")
	p.checks.release()
}

// withoutDeadline returns a context that ends when ctx is canceled, but not
// at ctx's deadline. The round trip's own timer then decides how long to
// wait, and it kills a worker that misses its deadline.
func withoutDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	out, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopForwarding := context.AfterFunc(ctx, func() {
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			cancel()
		}
	})
	return out, func() {
		stopForwarding()
		cancel()
	}
}
