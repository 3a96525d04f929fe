package balancer

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"portcullis.dev/tenants/config"
)

// states is a Candidates with fixed availability and loads.
type states struct {
	down  map[int]bool
	loads map[int]int64
}

func (s states) Available(i int) bool { return !s.down[i] }
func (s states) Load(i int) int64     { return s.loads[i] }

var allUp = states{}

func mustURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	parsed, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return parsed
}

func newTargets(t testing.TB, weights ...int) []Target {
	t.Helper()
	targets := make([]Target, 0, len(weights))
	for i, weight := range weights {
		targets = append(targets, Target{URL: mustURL(t, fmt.Sprintf("http://127.0.0.1:%d", 9001+i)), Weight: weight})
	}
	return targets
}

func mustNew(t testing.TB, targets []Target, opts Options) *Balancer {
	t.Helper()
	b, err := New(targets, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

func request(remote string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remote
	return r
}

// count picks n times and returns the picks per target.
func count(b *Balancer, n int, c Candidates) []int {
	got := make([]int, b.Len())
	r := request("127.0.0.1:5000")
	for range n {
		i, ok := b.Pick(r, c)
		if ok {
			got[i]++
		}
	}
	return got
}

func TestRoundRobinShares(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		want    []int
	}{
		{name: "single target", weights: []int{0}, want: []int{12}},
		{name: "zero means one", weights: []int{0, 0, 0}, want: []int{4, 4, 4}},
		{name: "weighted", weights: []int{1, 2, 3}, want: []int{2, 4, 6}},
		{name: "negative means one", weights: []int{-5, 1}, want: []int{6, 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, newTargets(t, tt.weights...), Options{})

			got := count(b, 12, allUp)
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("target %d picked %d times, want %d", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestRoundRobinSpreadsPicks(t *testing.T) {
	b := mustNew(t, newTargets(t, 2, 1), Options{Policy: config.BalanceRoundRobin})

	// Smooth round robin yields heavy, light, heavy for weights 2 and 1.
	want := []int{0, 1, 0, 0, 1, 0}
	for n, target := range want {
		if got, _ := b.Pick(request("127.0.0.1:1"), allUp); got != target {
			t.Errorf("pick %d = %d, want %d", n, got, target)
		}
	}
}

func TestRoundRobinSkipsUnavailable(t *testing.T) {
	b := mustNew(t, newTargets(t, 1, 2, 3), Options{})

	got := count(b, 8, states{down: map[int]bool{2: true}})
	if got[2] != 0 {
		t.Errorf("unavailable target picked %d times, want 0", got[2])
	}
	if got[0] != 3 || got[1] != 5 {
		// 8 picks over weights 1 and 2 cannot split evenly; smooth round
		// robin gives the heavier target the extra pick.
		t.Errorf("picks = %v, want [3 5 0]", got)
	}
}

func TestPickNoneAvailable(t *testing.T) {
	none := states{down: map[int]bool{0: true, 1: true}}
	for _, policy := range []string{config.BalanceRoundRobin, config.BalanceLeastConn, config.BalanceConsistentHash} {
		t.Run(policy, func(t *testing.T) {
			b := mustNew(t, newTargets(t, 1, 1), Options{Policy: policy})
			if i, ok := b.Pick(request("127.0.0.1:1"), none); ok {
				t.Errorf("Pick = %d, true; want false with every target down", i)
			}
		})
	}
}

func TestRoundRobinConcurrent(t *testing.T) {
	b := mustNew(t, newTargets(t, 1, 1), Options{})

	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for range 4 {
		wg.Go(func() {
			for range 100 {
				target, _ := b.Pick(request("127.0.0.1:1"), allUp)
				mu.Lock()
				counts[target]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	for target, got := range counts {
		if got != 200 {
			t.Errorf("target %d picked %d times, want 200", target, got)
		}
	}
}

func TestLeastConnPicksLowestLoad(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		loads   map[int]int64
		want    int
	}{
		{name: "fewest in flight", weights: []int{1, 1, 1}, loads: map[int]int64{0: 5, 1: 2, 2: 7}, want: 1},
		{name: "weight divides load", weights: []int{1, 4}, loads: map[int]int64{0: 2, 1: 6}, want: 1},
		{name: "light target idle", weights: []int{1, 4}, loads: map[int]int64{0: 0, 1: 1}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustNew(t, newTargets(t, tt.weights...), Options{Policy: config.BalanceLeastConn})
			for range 5 {
				if got, _ := b.Pick(request("127.0.0.1:1"), states{loads: tt.loads}); got != tt.want {
					t.Errorf("Pick = %d, want %d", got, tt.want)
				}
			}
		})
	}
}

func TestLeastConnSharesTies(t *testing.T) {
	b := mustNew(t, newTargets(t, 1, 1, 1), Options{Policy: config.BalanceLeastConn})

	got := count(b, 300, allUp)
	for i, picks := range got {
		if picks != 100 {
			t.Errorf("target %d picked %d times with equal loads, want 100", i, picks)
		}
	}
}

func TestLeastConnFollowsLoad(t *testing.T) {
	b := mustNew(t, newTargets(t, 1, 3), Options{Policy: config.BalanceLeastConn})

	// Requests that never finish pile up as load: weight 3 takes three
	// times the share of weight 1.
	loads := map[int]int64{}
	for range 400 {
		i, _ := b.Pick(request("127.0.0.1:1"), states{loads: loads})
		loads[i]++
	}
	if loads[0] != 100 || loads[1] != 300 {
		t.Errorf("loads = %v, want 100 and 300", loads)
	}
}

func TestNewRejectsInvalid(t *testing.T) {
	tests := []struct {
		name    string
		targets []Target
		opts    Options
	}{
		{name: "no targets", targets: nil},
		{name: "missing URL", targets: []Target{{Weight: 1}}},
		{name: "unknown policy", targets: []Target{{URL: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}}}, opts: Options{Policy: "random"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.targets, tt.opts); err == nil {
				t.Error("New returned no error, want one")
			}
		})
	}
}
