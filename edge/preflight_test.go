package edge

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// versionSource marks each response with the plugin version that served it.
func versionSource(version string) string {
	return `func header_filter(ctx, conf) {
	ctx.resp.set_header("X-Version", "` + version + `")
}
`
}

// Sources of version 2.0.0, each with versionSource's header_filter.
const (
	// leakingSource exits every request with the binding's token as the
	// body, so a failing vector's differences quote it.
	leakingSource = `func access(ctx, conf) {
	ctx.exit(403, conf["token"])
}

func header_filter(ctx, conf) {
	ctx.resp.set_header("X-Version", "2")
}
`
	// selfCompareSource compares a list that contains itself, which ends
	// the process that runs it with "fatal error: stack overflow".
	selfCompareSource = `func access(ctx, conf) {
	a := []
	a.append(a)
	ctx.req.set_header("X-Same", string(a == a))
}

func header_filter(ctx, conf) {
	ctx.resp.set_header("X-Version", "2")
}
`
)

// passVector expects a request to reach the upstream and get its 200.
const passVector = `[{"name": "lets requests through", "binding_config": true,
  "request": {"path": "/"}, "expect": {"status": 200, "body": "ok"},
  "upstream": {"status": 200, "body": "ok"}}]`

// versionBundle returns acme at revision with plugin "version" at version,
// bound in tier with a config that holds a token.
func versionBundle(t *testing.T, revision int64, target, tier, version, source string) *bundle.Bundle {
	t.Helper()
	routes := []config.Route{{Name: "all", Paths: []string{"/"}, Upstream: "api"}}
	bindings := []config.Binding{{
		ID: "b-version", Plugin: "version", Version: version, Tier: tier,
		Config: json.RawMessage(`{"token":"s3cret-token"}`),
	}}
	code := plugin("version", version, source)
	code.TestVectors = json.RawMessage(passVector)
	return tenantBundle(t, "acme", revision, target, routes, bindings, code)
}

// servedVersion returns the X-Version of one request, or "" when the
// request did not get a 200.
func servedVersion(t *testing.T, te *testEdge) string {
	t.Helper()
	got := te.do(t, "h1", http.MethodGet, "acme.localhost", "/")
	if got.StatusCode != http.StatusOK {
		return ""
	}
	return got.Header.Get("X-Version")
}

// waitUntil polls cond every 10 ms for up to ten seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// preflightFailures returns the value of portcullis_edge_preflight_failures_total.
func preflightFailures(t *testing.T, te *testEdge) float64 {
	t.Helper()
	families, err := te.MetricsRegistry().Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, family := range families {
		if family.GetName() == "portcullis_edge_preflight_failures_total" {
			return family.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("metric portcullis_edge_preflight_failures_total is missing")
	return 0
}

func TestPreflightRejectsFailingVersionInEitherTier(t *testing.T) {
	tests := []struct {
		name   string
		tier   string
		source string
		// cause is a part of the failure's error, and vector the failing
		// vector, empty when the worker died instead.
		cause  string
		vector string
		// workers is the number of worker starts: the tenant's worker and
		// the check's own.
		workers int
	}{
		{"trusted vector failure", config.TierTrusted, leakingSource, `test vector "lets requests through" failed`, "lets requests through", 0},
		{"sandboxed vector failure", config.TierSandboxed, leakingSource, `test vector "lets requests through" failed`, "lets requests through", 2},
		{"sandboxed worker death", config.TierSandboxed, selfCompareSource, "stack overflow", "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			upstream, _ := echoUpstream(t, "api")
			source := newMemorySource(versionBundle(t, 1, upstream.URL, tt.tier, "1.0.0", versionSource("1")))
			onBuilt, built := recordBuilt()
			te := startEdge(t, source, func(cfg *Config) {
				withWorkers(t)(cfg)
				cfg.OnBuilt = onBuilt
			})
			if got := servedVersion(t, te); got != "1" {
				t.Fatalf("X-Version before the change = %q, want 1", got)
			}

			source.put(versionBundle(t, 2, upstream.URL, tt.tier, "2.0.0", tt.source))
			te.Invalidate("acme", 2)
			waitUntil(t, "the rejection of revision 2", func() bool {
				return te.RejectedRevisions()["acme"].Revision == 2
			})

			if got := servedVersion(t, te); got != "1" {
				t.Errorf("X-Version after the rejection = %q, want the old version 1", got)
			}
			if got := built(); !slices.Equal(got, []int64{1}) {
				t.Errorf("revisions handed to OnBuilt = %v, want only the accepted 1, so the rejected 2 never becomes last-known-good", got)
			}
			if stopped := te.logs.records(t, "plugin failed; request stopped"); len(stopped) != 0 {
				t.Errorf("requests stopped by a plugin failure = %d, want none: %v", len(stopped), stopped[0])
			}

			failures := te.preflight.Failures()
			if len(failures) != 1 {
				t.Fatalf("failures = %+v, want one", failures)
			}
			failure := failures[0]
			if failure.Tenant != "acme" || failure.Revision != 2 || failure.Binding != "b-version" || failure.Plugin != "version" || failure.Version != "2.0.0" {
				t.Errorf("failure = %+v, want acme revision 2, binding b-version, plugin version 2.0.0", failure)
			}
			if !strings.Contains(failure.Error, tt.cause) {
				t.Errorf("failure error = %q, want it to contain %q", failure.Error, tt.cause)
			}
			if got := preflightFailures(t, te); got != 1 {
				t.Errorf("portcullis_edge_preflight_failures_total = %v, want 1", got)
			}
			if logged := te.logs.records(t, "pre-flight failed, the previous revision keeps serving"); len(logged) != 1 {
				t.Errorf("pre-flight failure log lines = %d, want 1", len(logged))
			}
			if started := te.logs.records(t, "plugin worker started"); len(started) != tt.workers {
				t.Errorf("worker starts = %d, want %d", len(started), tt.workers)
			}

			reason := te.RejectedRevisions()["acme"].Reason
			if !strings.Contains(reason, `pre-flight of plugin "version" version "2.0.0" for binding "b-version": `) {
				t.Errorf("rejection reason = %q, want the pre-flight prefix", reason)
			}
			if tt.vector != "" && !strings.Contains(reason, `test vector "`+tt.vector+`" failed`) {
				t.Errorf("rejection reason = %q, want it to name vector %q", reason, tt.vector)
			}
			if strings.Contains(reason, "s3cret") {
				t.Errorf("rejection reason = %q, want no config values", reason)
			}
			if strings.Contains(failure.Error, "s3cret") {
				t.Errorf("failure error of /debug/preflight = %q, want no config values", failure.Error)
			}
			te.logs.mu.Lock()
			logged := te.logs.buf.String()
			te.logs.mu.Unlock()
			if strings.Contains(logged, "s3cret") {
				t.Error("the edge log contains the binding's config value, want it left out")
			}
		})
	}
}

func TestPreflightSwapsPassingSandboxedVersion(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	source := newMemorySource(versionBundle(t, 1, upstream.URL, config.TierSandboxed, "1.0.0", versionSource("1")))
	te := startEdge(t, source, withWorkers(t))
	if got := servedVersion(t, te); got != "1" {
		t.Fatalf("X-Version before the change = %q, want 1", got)
	}

	source.put(versionBundle(t, 2, upstream.URL, config.TierSandboxed, "2.0.0", versionSource("2")))
	te.Invalidate("acme", 2)
	waitUntil(t, "a response of version 2", func() bool { return servedVersion(t, te) == "2" })

	if failures := te.preflight.Failures(); len(failures) != 0 {
		t.Errorf("failures = %+v, want none", failures)
	}
	if rejected, found := te.RejectedRevisions()["acme"]; found {
		t.Errorf("rejected revision = %+v, want none", rejected)
	}

	// Revision 3 changes nothing that pre-flight checks, so the version
	// and config that passed run no vectors again, and no check's worker
	// starts.
	started := len(te.logs.records(t, "plugin worker started"))
	source.put(versionBundle(t, 3, upstream.URL, config.TierSandboxed, "2.0.0", versionSource("2")))
	te.Invalidate("acme", 3)
	waitForRevision(t, te.Edge, "acme", 3)
	if got := len(te.logs.records(t, "plugin worker started")); got != started {
		t.Errorf("worker starts after a checked version = %d, want %d", got, started)
	}
}

// TestFirstLoadFallsBackToLastKnownGood loads a tenant for the first time
// at a revision whose vectors fail, while Config.Fallback holds an older
// accepted one. An edge restarted after a rejection is in that state. The
// older revision must serve and the newer one be reported as rejected.
func TestFirstLoadFallsBackToLastKnownGood(t *testing.T) {
	for _, tier := range []string{config.TierTrusted, config.TierSandboxed} {
		t.Run(tier, func(t *testing.T) {
			upstream, _ := echoUpstream(t, "api")
			good := versionBundle(t, 1, upstream.URL, tier, "1.0.0", versionSource("1"))
			source := newMemorySource(versionBundle(t, 2, upstream.URL, tier, "2.0.0", leakingSource))
			onBuilt, built := recordBuilt()
			te := startEdge(t, source, func(cfg *Config) {
				withWorkers(t)(cfg)
				cfg.Fallback = func(string) *bundle.Bundle { return good }
				cfg.OnBuilt = onBuilt
			})

			if got := servedVersion(t, te); got != "1" {
				t.Errorf("X-Version of the first load = %q, want the last-known-good version 1", got)
			}
			if rejected := te.RejectedRevisions()["acme"]; rejected.Revision != 2 {
				t.Errorf("rejected revision = %+v, want revision 2", rejected)
			}
			if got := built(); !slices.Equal(got, []int64{1}) {
				t.Errorf("revisions handed to OnBuilt = %v, want only the accepted 1", got)
			}
		})
	}
}

// TestFirstLoadWithoutOlderFallbackSkipsPreflight loads a tenant whose
// last-known-good copy is the revision being loaded: there is nothing older
// to serve, so the load runs no vectors and serves it, failing vectors and
// all.
func TestFirstLoadWithoutOlderFallbackSkipsPreflight(t *testing.T) {
	upstream, _ := echoUpstream(t, "api")
	current := versionBundle(t, 2, upstream.URL, config.TierTrusted, "2.0.0", leakingSource)
	source := newMemorySource(current)
	te := startEdge(t, source, func(cfg *Config) {
		cfg.Fallback = func(string) *bundle.Bundle { return current }
	})

	if got := te.do(t, "h1", http.MethodGet, "acme.localhost", "/"); got.StatusCode != http.StatusForbidden {
		t.Errorf("status of the first load = %d, want 403 from revision 2's plugin", got.StatusCode)
	}
	if failures := te.preflight.Failures(); len(failures) != 0 {
		t.Errorf("pre-flight failures = %+v, want none", failures)
	}
}

// recordBuilt returns a Config.OnBuilt that records the revisions it
// receives, and a function that returns them.
func recordBuilt() (func(*bundle.Bundle), func() []int64) {
	var mu sync.Mutex
	var revisions []int64
	record := func(b *bundle.Bundle) {
		mu.Lock()
		defer mu.Unlock()
		revisions = append(revisions, b.Revision)
	}
	recorded := func() []int64 {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(revisions)
	}
	return record, recorded
}
