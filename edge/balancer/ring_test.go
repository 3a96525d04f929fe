package balancer

import (
	"fmt"
	"math"
	"net/http"
	"testing"

	"portcullis.dev/tenants/config"
)

var hashByAddr = Options{Policy: config.BalanceConsistentHash}

// hashShares picks for n client addresses and returns each target's share
// and the target that each address got, by URL.
func hashShares(b *Balancer, n int, c Candidates) ([]float64, []string) {
	shares := make([]float64, b.Len())
	owners := make([]string, n)
	for key := range n {
		i, ok := b.Pick(request(fmt.Sprintf("10.%d.%d.%d:4000", key>>16&255, key>>8&255, key&255)), c)
		if !ok {
			continue
		}
		shares[i] += 1 / float64(n)
		owners[key] = b.Target(i).String()
	}
	return shares, owners
}

func TestRingDistribution(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
	}{
		{name: "equal weights", weights: []int{1, 1, 1, 1}},
		{name: "weights 1 and 3", weights: []int{1, 3}},
		{name: "weights 10 20 30", weights: []int{10, 20, 30}},
		{name: "eight targets", weights: []int{1, 1, 1, 1, 1, 1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, newTargets(t, tt.weights...), hashByAddr)
			shares, _ := hashShares(b, 20000, allUp)

			total := 0
			for _, weight := range tt.weights {
				total += weight
			}
			// 160 points per unit of weight keep each share within about
			// a fifth of its ideal value.
			for i, share := range shares {
				want := float64(tt.weights[i]) / float64(total)
				if math.Abs(share-want) > want*0.2 {
					t.Errorf("target %d share = %.3f, want %.3f +- 20%%", i, share, want)
				}
			}
		})
	}
}

func TestRingRemovalMovesOnlyItsShare(t *testing.T) {
	full := mustNew(t, newTargets(t, 1, 1, 1, 1), hashByAddr)
	removed := full.Target(2).String()
	smaller := mustNew(t, append(newTargets(t, 1, 1, 1, 1)[:2], newTargets(t, 1, 1, 1, 1)[3]), hashByAddr)

	const keys = 20000
	_, before := hashShares(full, keys, allUp)
	_, after := hashShares(smaller, keys, allUp)

	moved, movedAway := 0, 0
	for key := range keys {
		if before[key] == after[key] {
			continue
		}
		moved++
		if before[key] == removed {
			movedAway++
		}
	}
	if moved != movedAway {
		t.Errorf("%d keys moved between remaining targets, want 0", moved-movedAway)
	}
	if share := float64(moved) / keys; share < 0.15 || share > 0.35 {
		t.Errorf("%.3f of keys moved, want about 0.25 (the removed target's share)", share)
	}
}

func TestRingSkipsDownTargetStably(t *testing.T) {
	b := mustNew(t, newTargets(t, 1, 1, 1), hashByAddr)

	const keys = 5000
	_, before := hashShares(b, keys, allUp)
	_, after := hashShares(b, keys, states{down: map[int]bool{1: true}})

	down := b.Target(1).String()
	for key := range keys {
		if after[key] == down {
			t.Fatalf("key %d went to the down target", key)
		}
		if before[key] != down && before[key] != after[key] {
			t.Fatalf("key %d moved from %s to %s though its target is up", key, before[key], after[key])
		}
	}
}

func TestRingHashOnHeaderAndCookie(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		set  func(r *http.Request, user string)
	}{
		{
			name: "header",
			opts: Options{Policy: config.BalanceConsistentHash, HashOn: config.HashOnHeader, HashKey: "X-User"},
			set:  func(r *http.Request, user string) { r.Header.Set("X-User", user) },
		},
		{
			name: "cookie",
			opts: Options{Policy: config.BalanceConsistentHash, HashOn: config.HashOnCookie, HashKey: "session"},
			set:  func(r *http.Request, user string) { r.AddCookie(&http.Cookie{Name: "session", Value: user}) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, newTargets(t, 1, 1, 1, 1), tt.opts)

			spread := map[int]bool{}
			for user := range 50 {
				name := fmt.Sprintf("user-%d", user)
				first := -1
				// Each user sticks to one target from any client address.
				for client := range 5 {
					r := request(fmt.Sprintf("192.0.2.%d:1000", client))
					tt.set(r, name)
					got, _ := b.Pick(r, allUp)
					if first >= 0 && got != first {
						t.Fatalf("%s got target %d from client %d, want %d", name, got, client, first)
					}
					first = got
				}
				spread[first] = true
			}
			if len(spread) < 3 {
				t.Errorf("50 users reached %d targets, want at least 3", len(spread))
			}

			// Without the key the request hashes on its client address.
			plain := request("192.0.2.77:1000")
			a, _ := b.Pick(plain, allUp)
			again, _ := b.Pick(request("192.0.2.77:2000"), allUp)
			if a != again {
				t.Errorf("keyless requests from one address got targets %d and %d, want one", a, again)
			}
		})
	}
}

func TestPointCounts(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		want    []int
	}{
		{name: "equal", weights: []int{1, 1}, want: []int{160, 160}},
		{name: "common divisor", weights: []int{10, 20}, want: []int{160, 320}},
		{name: "scaled to cap", weights: []int{1000, 1}, want: []int{65470, 65}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pointCounts(tt.weights)
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("target %d has %d points, want %d", i, got[i], tt.want[i])
				}
			}
		})
	}
}
