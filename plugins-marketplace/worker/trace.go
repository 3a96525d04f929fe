package worker

import (
	"context"
	"encoding/json"

	"portcullis.dev/plugins-marketplace/pluginpkg"
)

// startTrace runs the chain of tr in a goroutine of its own, registered as
// a call, so that a Cancel frame with its id stops it.
func (s *server) startTrace(id uint64, tr *Trace) {
	s.runRegistered(id, tr.Timeout, func(ctx context.Context) *Frame {
		return &Frame{Kind: KindTraced, ID: id, Traced: runTrace(ctx, tr)}
	})
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
