package pluginpkg

import (
	"context"
	"errors"
	"strings"
	"testing"

	"portcullis.dev/plugins-marketplace/pluginhost"
)

// TestRunCutShortFails checks that vectors kept from running by an ended
// context fail the run instead of counting as skipped, so a pre-flight
// whose deadline lands between two vectors never passes a binding.
func TestRunCutShortFails(t *testing.T) {
	plugin, err := pluginhost.Compile("cut-short", "1.0.0", "func access(ctx, conf) {}\n")
	if err != nil {
		t.Fatal(err)
	}
	vectors, err := ParseVectors("test_vectors", []byte(`[
		{"name": "first", "request": {}, "expect": {"status": 200}},
		{"name": "second", "request": {}, "expect": {"status": 200}}
	]`))
	if err != nil {
		t.Fatal(err)
	}

	if err := FirstFailure(Run(context.Background(), plugin, vectors, RunOptions{})); err != nil {
		t.Fatalf("FirstFailure() of a full run = %v, want nil", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results := Run(ctx, plugin, vectors, RunOptions{})
	_, failed, skipped := Count(results)
	if failed != 2 || skipped != 0 {
		t.Errorf("results = %+v, want both vectors failed", results)
	}
	var failure *VectorError
	if !errors.As(FirstFailure(results), &failure) {
		t.Fatalf("FirstFailure() = %v, want a *VectorError", FirstFailure(results))
	}
	if failure.Vector != "first" || !strings.Contains(failure.Error(), "not run: context canceled") {
		t.Errorf("FirstFailure() = %v, want vector %q not run", failure, "first")
	}
}

// TestRunFiltersExitHeaders checks that header_filter runs on the
// response of an exit from a request phase, as at the edge, and that an
// exit it sets replaces the first one.
func TestRunFiltersExitHeaders(t *testing.T) {
	source := `func access(ctx, conf) {
    ctx.resp.set_header("X-From-Access", "yes")
    ctx.exit(403, "denied")
}

func header_filter(ctx, conf) {
    ctx.resp.set_header("X-Filtered", string(ctx.resp.status))
    if ctx.req.header("X-Replace") == "1" {
        ctx.exit(451, "replaced")
    }
}
`
	checkAllPass(t, source, `[
		{"name": "exit keeps filtered headers", "request": {},
		 "expect": {"status": 403, "body": "denied", "headers": {"equal": {"X-From-Access": "yes", "X-Filtered": "403"}}}},
		{"name": "filter replaces the exit", "request": {"headers": {"X-Replace": "1"}},
		 "expect": {"status": 451, "body": "replaced", "headers": {"equal": {"X-Filtered": "403"}}}}
	]`)
}

// TestRunSkipsBodyFilterWithoutBody checks that body_filter does not run
// on a response without a body, as at the edge: HEAD, 204, 304 and an
// empty upstream body.
func TestRunSkipsBodyFilterWithoutBody(t *testing.T) {
	source := "func body_filter(ctx, conf) {\n    ctx.resp.set_chunk(ctx.resp.chunk + \"!\")\n}\n"
	checkAllPass(t, source, `[
		{"name": "get", "request": {}, "upstream": {"body": "ok"}, "expect": {"body": "ok!"}},
		{"name": "head", "request": {"method": "HEAD"}, "upstream": {"body": "ok"}, "expect": {"body": "ok"}},
		{"name": "no content", "request": {}, "upstream": {"status": 204, "body": "ok"}, "expect": {"body": "ok"}},
		{"name": "not modified", "request": {}, "upstream": {"status": 304, "body": "ok"}, "expect": {"body": "ok"}},
		{"name": "empty", "request": {}, "upstream": {"body": ""}, "expect": {"body": ""}}
	]`)
}

// checkAllPass compiles source, runs the vectors of the JSON array
// vectors against it, and reports each vector that does not pass.
func checkAllPass(t *testing.T, source, vectors string) {
	t.Helper()
	plugin, err := pluginhost.Compile("under-test", "1.0.0", source)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseVectors("test_vectors", []byte(vectors))
	if err != nil {
		t.Fatal(err)
	}

	for _, result := range Run(context.Background(), plugin, parsed, RunOptions{}) {
		if result.Outcome != Passed {
			t.Errorf("vector %q: %s %v", result.Vector, result.Outcome, result.Differences)
		}
	}
}
