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
