package pluginhost

import (
	"context"
	"sync"
)

// hookWatch follows one context's cancellation for a series of hook calls
// that run one after another, such as the hooks of one phase of a request.
// Each call registers its VM's haltSignal with a mutex instead of calling
// context.AfterFunc, which allocates and locks the parent context each time.
//
// fire runs under mu, and leave clears current under mu, so once leave has
// returned no cancellation can reach that VM: a late halt never reaches
// another call.
type hookWatch struct {
	mu      sync.Mutex
	current *haltSignal
	done    bool
}

// hookWatchKey is the context key of a hookWatch.
type hookWatchKey struct{}

// WatchHooks returns a context for hook calls that run one after another,
// and a stop function to call once they are done. The calls follow ctx's
// cancellation through one registration with ctx instead of one per call.
// Calls that overlap still work, each with its own registration. For a ctx
// that is never cancelled, WatchHooks returns ctx itself. As with
// context.AfterFunc, the result of stop can be ignored.
func WatchHooks(ctx context.Context) (context.Context, func() bool) {
	if ctx.Done() == nil {
		return ctx, stopNothing
	}
	watch := &hookWatch{}
	stop := context.AfterFunc(ctx, watch.fire)
	return context.WithValue(ctx, hookWatchKey{}, watch), stop
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

	w.done = true
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
	if w.done {
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
