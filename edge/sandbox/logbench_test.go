package sandbox

import (
	"context"
	"log/slog"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/hostsvc"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// logEachSource writes a log line on every call and sets a header.
const logEachSource = `func access(ctx, conf) {
	ctx.log.info("seen", {"path": ctx.req.path})
	ctx.req.set_header("X-Seen", "1")
}
`

// BenchmarkPoolRunLogging measures one access phase of a plugin that
// writes a log line on every call, in a worker, with the edge's host
// services, whose rate limit drops all but ten lines a second.
func BenchmarkPoolRunLogging(b *testing.B) {
	pool, _ := newPool(b, Config{})
	binding := testBinding("logger", logEachSource)
	set, err := pool.Load("acme", []worker.Binding{binding})
	if err != nil {
		b.Fatal(err)
	}
	c := chain.New([]chain.Step{{Binding: binding.ID, Plugin: binding.Plugin, Version: "1.0.0", Remote: set.Step(0)}})
	tenant := hostsvc.New(slog.New(slog.DiscardHandler), nil).Tenant("acme")

	b.ReportAllocs()
	for b.Loop() {
		ex := exchange()
		ex.Host = tenant.Request(nil)
		if err := c.Run(context.Background(), pluginhost.PhaseAccess, ex); err != nil {
			b.Fatal(err)
		}
	}
}
