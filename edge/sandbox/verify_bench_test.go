package sandbox

import (
	"context"
	"testing"
)

// BenchmarkPoolVerify measures one pre-flight check of a light plugin with
// one vector. Each check starts, uses and stops a worker of its own.
func BenchmarkPoolVerify(b *testing.B) {
	pool, _ := newPool(b, Config{})
	check := verifyOf(guardSource, `{"mode":"open"}`)

	for b.Loop() {
		if err := pool.Verify(context.Background(), "acme", check); err != nil {
			b.Fatalf("Verify: %v", err)
		}
	}
}
