package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"portcullis.dev/plugins-marketplace/pluginpkg"
	"portcullis.dev/plugins-marketplace/worker"
)

// DefaultTraceTimeout bounds a Trace whose context has no deadline.
const DefaultTraceTimeout = 10 * time.Second

// Trace runs a chain's request phases against one sample request in a
// worker process of its own, as Verify runs test vectors, so that a script
// that kills its process ends that worker and not the caller. It returns
// the trace, or an error when the chain did not run: a source that does
// not compile, or a worker that could not start, died (the error names its
// exit cause) or missed its deadline.
func (p *Pool) Trace(ctx context.Context, tenantName string, tr worker.Trace) (pluginpkg.Trace, error) {
	tr.Timeout = DefaultTraceTimeout
	if deadline, ok := ctx.Deadline(); ok {
		tr.Timeout = time.Until(deadline)
	}
	if tr.Timeout <= 0 {
		return pluginpkg.Trace{}, context.DeadlineExceeded
	}

	reply, err := p.checkRoundTrip(ctx, tenantName, &worker.Frame{Kind: worker.KindTrace, Trace: &tr}, tr.Timeout)
	if err != nil {
		return pluginpkg.Trace{}, fmt.Errorf("run the chain in a plugin worker: %w", err)
	}
	if reply.Traced == nil {
		return pluginpkg.Trace{}, fmt.Errorf("plugin worker of tenant %q: %w", tenantName, errNoAnswer)
	}
	if reply.Traced.Err != "" {
		return pluginpkg.Trace{}, errors.New(reply.Traced.Err)
	}

	var trace pluginpkg.Trace
	if err := json.Unmarshal(reply.Traced.Trace, &trace); err != nil {
		return pluginpkg.Trace{}, fmt.Errorf("decode the trace of the plugin worker of tenant %q: %w", tenantName, err)
	}
	return trace, nil
}
