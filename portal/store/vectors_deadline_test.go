package store

import (
	"context"
	"encoding/json"
	"testing"
)

// Each hook of a vector has a deadline of 1 s, but the whole run has none
// when the Tester runs in the portal process (--plugin-workers 0). A
// version with 200 vectors of 100 requests each, whose hooks run for just
// under 1 s, then keeps one publish running for about 30 hours. The
// plugin worker's check has 10 s, and the in-process run needs a limit too.
func TestPublishBoundsVectorRun(t *testing.T) {
	var hasDeadline, called bool
	tester := func(ctx context.Context, _, _, _ string, _ json.RawMessage) error {
		called = true
		_, hasDeadline = ctx.Deadline()
		return nil
	}
	s, err := Open(context.Background(), t.TempDir()+"/portal.db", Options{Compiler: fakeCompile, Tester: tester})
	if err != nil {
		t.Fatalf("Open() error = %v", err)
	}
	defer s.Close()

	vectors := json.RawMessage(`[{"name":"v","request":{"path":"/"},"expect":{"status":200}}]`)
	if _, err := s.PublishPlugin(context.Background(), NewPluginVersion{Name: "p", Version: "1.0.0", Source: "x", TestVectors: vectors}); err != nil {
		t.Fatalf("PublishPlugin() error = %v", err)
	}
	if !called {
		t.Fatal("PublishPlugin() did not run the Tester")
	}
	if !hasDeadline {
		t.Error("the Tester's context has no deadline, want the publish check's time limit")
	}
}
