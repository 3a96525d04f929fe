package edge

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"portcullis.dev/edge/preflight"
	"portcullis.dev/edge/sandbox"
	"portcullis.dev/plugins-marketplace/worker"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// busySandbox fails its first busy checks as a pool whose check worker
// stayed taken does, and passes the others to the edge's pool.
type busySandbox struct {
	pool  preflight.Sandbox
	busy  atomic.Int64
	calls atomic.Int64
}

func (b *busySandbox) Verify(ctx context.Context, tenant string, v worker.Verify) error {
	b.calls.Add(1)
	if b.busy.Add(-1) >= 0 {
		return fmt.Errorf("check plugin %q version %q in a plugin worker: no check worker came free: %w", v.Plugin, v.Version, sandbox.ErrCheckUnavailable)
	}
	return b.pool.Verify(ctx, tenant, v)
}

// withBusyChecks makes the first busy pre-flight checks of te find no
// free check worker. It must run before the first check.
func withBusyChecks(te *testEdge, busy int64) *busySandbox {
	box := &busySandbox{pool: te.sandbox}
	box.busy.Store(busy)
	te.preflight.SetSandbox(box)
	return box
}

// TestPreflightBusyCheckWorkerRetries changes a sandboxed binding while
// the check worker stays taken for the first check. The edge must neither
// report the change as rejected nor give it up: it keeps the old revision
// until a check runs, then swaps.
func TestPreflightBusyCheckWorkerRetries(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource(versionBundle(t, 1, upstream.URL, config.TierSandboxed, "1.0.0", versionSource("1")))
	te := startEdge(t, source, withWorkers(t))
	box := withBusyChecks(te, 1)
	if got := servedVersion(t, te); got != "1" {
		t.Fatalf("X-Version before the change = %q, want 1", got)
	}

	source.put(versionBundle(t, 2, upstream.URL, config.TierSandboxed, "2.0.0", versionSource("2")))
	te.Invalidate("acme", 2)
	waitUntil(t, "the busy check", func() bool { return box.calls.Load() >= 1 })
	if rejected, found := te.RejectedRevisions()["acme"]; found {
		t.Errorf("rejected revision while the check worker was busy = %+v, want none", rejected)
	}

	waitUntil(t, "a response of version 2", func() bool { return servedVersion(t, te) == "2" })
	if got := box.calls.Load(); got != 2 {
		t.Errorf("checks = %d, want the busy one and the retry", got)
	}
	if rejected, found := te.RejectedRevisions()["acme"]; found {
		t.Errorf("rejected revision after the swap = %+v, want none", rejected)
	}
	if failures := te.preflight.Failures(); len(failures) != 0 {
		t.Errorf("pre-flight failures = %+v, want none", failures)
	}
	if got := preflightFailures(t, te); got != 0 {
		t.Errorf("portcullis_edge_preflight_failures_total = %v, want 0", got)
	}
	if logged := te.logs.records(t, "new bundle not checked; serving the current revision and retrying"); len(logged) != 1 {
		t.Errorf("retry log lines = %d, want 1", len(logged))
	}
}

// TestFirstLoadBusyCheckWorkerRetries loads a tenant for the first time
// while Config.Fallback holds an older revision and the check worker
// stays taken. The older revision serves without a rejection, and the
// newest replaces it once its check runs.
func TestFirstLoadBusyCheckWorkerRetries(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	good := versionBundle(t, 1, upstream.URL, config.TierSandboxed, "1.0.0", versionSource("1"))
	source := newMemorySource(versionBundle(t, 2, upstream.URL, config.TierSandboxed, "2.0.0", versionSource("2")))
	te := startEdge(t, source, func(cfg *Config) {
		withWorkers(t)(cfg)
		cfg.Fallback = func(string) *bundle.Bundle { return good }
	})
	withBusyChecks(te, 1)

	if got := servedVersion(t, te); got != "1" {
		t.Errorf("X-Version of the first load = %q, want the last-known-good version 1", got)
	}
	if rejected, found := te.RejectedRevisions()["acme"]; found {
		t.Errorf("rejected revision = %+v, want none for a check that did not run", rejected)
	}
	if logged := te.logs.records(t, "first load serves the last-known-good revision, because the newest could not be checked; retrying"); len(logged) != 1 {
		t.Errorf("first load log lines = %d, want 1", len(logged))
	}

	waitUntil(t, "a response of version 2", func() bool { return servedVersion(t, te) == "2" })
}
