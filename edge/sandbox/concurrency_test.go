package sandbox

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"portcullis.dev/edge/chain"
	"portcullis.dev/plugins-marketplace/pluginhost"
	"portcullis.dev/plugins-marketplace/worker"
)

// TestPoolConcurrentCallsGetOwnResults runs many calls at once through one
// worker, multiplexed on its connection, and checks that each call gets
// the result of its own exchange.
func TestPoolConcurrentCallsGetOwnResults(t *testing.T) {
	const clients, callsPerClient = 16, 25
	pool, _ := newPool(t, Config{})
	set, err := pool.Load("acme", []worker.Binding{testBinding("a", markSource), testBinding("b", markSource)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	c := chain.New([]chain.Step{
		{Binding: "a", Plugin: "a", Version: "1.0.0", Remote: set.Step(0)},
		{Binding: "b", Plugin: "b", Version: "1.0.0", Remote: set.Step(1)},
	})

	var wg sync.WaitGroup
	for client := range clients {
		wg.Go(func() {
			for call := range callsPerClient {
				origin := fmt.Sprintf("client%d-call%d:", client, call)
				ex := exchange()
				ex.Request.Header.Set("X-Order", origin)
				if err := c.Run(context.Background(), pluginhost.PhaseAccess, ex); err != nil {
					t.Errorf("Run of %s: %v", origin, err)
					return
				}
				if got := ex.Request.Header.Get("X-Order"); got != origin+"ab" {
					t.Errorf("X-Order = %q, want %q", got, origin+"ab")
				}
			}
		})
	}
	wg.Wait()

	if pool.Workers() != 1 {
		t.Errorf("workers = %d, want 1", pool.Workers())
	}
}
