package balancer

import (
	"fmt"
	"testing"

	"portcullis.dev/tenants/config"
)

func BenchmarkPick(b *testing.B) {
	policies := []struct {
		name string
		opts Options
	}{
		{name: "round_robin", opts: Options{Policy: config.BalanceRoundRobin}},
		{name: "least_conn", opts: Options{Policy: config.BalanceLeastConn}},
		{name: "consistent_hash_addr", opts: Options{Policy: config.BalanceConsistentHash}},
		{name: "consistent_hash_header", opts: Options{Policy: config.BalanceConsistentHash, HashOn: config.HashOnHeader, HashKey: "X-User"}},
	}
	for _, size := range []int{4, 64} {
		weights := make([]int, size)
		for i := range weights {
			weights[i] = 1 + i%3
		}
		for _, policy := range policies {
			b.Run(fmt.Sprintf("%s/%d_targets", policy.name, size), func(b *testing.B) {
				balancer := mustNew(b, newTargets(b, weights...), policy.opts)
				r := request("203.0.113.9:5555")
				r.Header.Set("X-User", "user-42")
				candidates := &benchCandidates{loads: make([]int64, size)}
				candidates.loads[0], candidates.loads[1] = 3, 1

				b.ReportAllocs()
				for b.Loop() {
					if _, ok := balancer.Pick(r, candidates); !ok {
						b.Fatal("Pick found no target")
					}
				}
			})
		}
	}
}

// benchCandidates is a Candidates that costs what the proxy's does: a slice
// read per target, behind a pointer.
type benchCandidates struct {
	loads []int64
}

func (c *benchCandidates) Available(int) bool { return true }
func (c *benchCandidates) Load(i int) int64   { return c.loads[i] }
