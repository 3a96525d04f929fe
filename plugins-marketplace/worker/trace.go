package worker

import (
	"context"
	"encoding/json"

	"portcullis.dev/plugins-marketplace/pluginpkg"
)

// startTrace runs the chain of tr in a goroutine of its own, registered as
// a call, so that a Cancel frame with its id stops it.
func (s *server) startTrace(id uint64, tr *Trace) {
	ctx, cancel := context.WithCancel(context.Background())
	if tr.Timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), tr.Timeout)
	}
	s.mu.Lock()
	s.calls[id] = cancel
	s.mu.Unlock()

	go func() {
		traced := runTrace(ctx, tr)
		cancel()

		s.mu.Lock()
		delete(s.calls, id)
		s.mu.Unlock()
		// A failed send means the connection is gone, and the read loop
		// ends the worker.
		_ = s.conn.Send(&Frame{Kind: KindTraced, ID: id, Traced: traced})
	}()
}

// runTrace compiles the steps of tr and runs them against its request.
func runTrace(ctx context.Context, tr *Trace) *Traced {
	steps, err := pluginpkg.CompileTrace(tr.Steps)
	if err != nil {
		return &Traced{Err: err.Error()}
	}
	trace, err := pluginpkg.TraceChain(ctx, steps, tr.Request, tr.HookTimeout)
	if err != nil {
		return &Traced{Err: err.Error()}
	}

	encoded, err := json.Marshal(trace)
	if err != nil {
		return &Traced{Err: "encode the trace: " + err.Error()}
	}
	return &Traced{Trace: encoded}
}
