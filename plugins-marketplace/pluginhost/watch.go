package pluginhost

import (
	"context"
	"sync"
)

// hookWatch follows one context's cancellation for a series of hook calls
// that run one after another, such as the hooks of one request.
// Each call registers its VM's haltSignal with a mutex instead of calling
// context.AfterFunc, which allocates and locks the parent context each time.
//
// fire runs under mu, and leave clears current under mu, so once leave has
// returned no cancellation can reach that VM: a late halt never reaches
// another call.
type hookWatch struct {
	// follows is the Done channel of the context that the watch follows.
	follows <-chan struct{}

	mu        sync.Mutex
	current   *haltSignal
	cancelled bool
}

// hookWatchKey is the context key of a hookWatch.
type hookWatchKey struct{}

// watchContext is the context that WatchHooks returns: the caller's
// context with its hookWatch as a value, in one allocation.
type watchContext struct {
	context.Context
	watch hookWatch
}

func (c *watchContext) Value(key any) any {
	if key == (hookWatchKey{}) {
		return &c.watch
	}
	return c.Context.Value(key)
}

// WatchHooks returns a context for hook calls that run one after another,
// and a stop function to call once they are done. The calls follow ctx's
// cancellation through one registration with ctx instead of one per call.
// Calls that overlap still work, each with its own registration. For a ctx
// that is never cancelled, WatchHooks returns ctx itself. It does the same
// for a ctx that a caller already prepared with WatchHooks for the same
// cancellation, because that caller's registration covers these calls
// too. Hook calls must not use the context once stop was called. As with
// context.AfterFunc, the result of stop can be ignored.
func WatchHooks(ctx context.Context) (context.Context, func() bool) {
	done := ctx.Done()
	if done == nil {
		return ctx, stopNothing
	}
	if watch := watchOf(ctx); watch != nil && watch.follows == done {
		return ctx, stopNothing
	}

	watched := &watchContext{Context: ctx}
	watched.watch.follows = done
	stop := context.AfterFunc(ctx, watched.watch.fire)
	return watched, stop
}

func stopNothing() bool {
	return false
}

// watchOf returns the hookWatch that ctx carries, or nil.
func watchOf(ctx context.Context) *hookWatch {
	watch, _ := ctx.Value(hookWatchKey{}).(*hookWatch)
	return watch
}

// fire halts the VM of the call in progress and every later one.
func (w *hookWatch) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()

	w.cancelled = true
	if w.current != nil {
		w.current.fire()
	}
}

// enter registers halt for the call that starts. It returns false when
// another call is registered, and the caller must then watch the context
// itself.
func (w *hookWatch) enter(halt *haltSignal) bool {
	w.mu.Lock()
	defer w.mu.Unlock()

	if w.current != nil {
		return false
	}
	w.current = halt
	if w.cancelled {
		halt.fire()
	}
	return true
}

// leave ends the call that enter registered.
func (w *hookWatch) leave() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.current = nil
}
