package balancer

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
)

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	parsed, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return parsed
}

func TestBalancerShares(t *testing.T) {
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
			var targets []Target
			index := map[*url.URL]int{}
			for i, weight := range tt.weights {
				target := mustURL(t, fmt.Sprintf("http://127.0.0.1:%d", 9001+i))
				index[target] = i
				targets = append(targets, Target{URL: target, Weight: weight})
			}
			b, err := New(targets)
			if err != nil {
				t.Fatalf("New: %v", err)
			}

			got := make([]int, len(tt.weights))
			for range 12 {
				got[index[b.Next()]]++
			}
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("target %d picked %d times, want %d", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestBalancerSpreadsPicks(t *testing.T) {
	heavy := mustURL(t, "http://127.0.0.1:1")
	light := mustURL(t, "http://127.0.0.1:2")
	b, err := New([]Target{{URL: heavy, Weight: 2}, {URL: light, Weight: 1}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	// Smooth round-robin yields heavy, light, heavy for weights 2 and 1.
	want := []*url.URL{heavy, light, heavy, heavy, light, heavy}
	for i, target := range want {
		if got := b.Next(); got != target {
			t.Errorf("pick %d = %s, want %s", i, got, target)
		}
	}
}

func TestBalancerConcurrent(t *testing.T) {
	b, err := New([]Target{{URL: mustURL(t, "http://127.0.0.1:1")}, {URL: mustURL(t, "http://127.0.0.1:2")}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for range 4 {
		wg.Go(func() {
			for range 100 {
				target := b.Next()
				mu.Lock()
				counts[target.String()]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	for target, got := range counts {
		if got != 200 {
			t.Errorf("target %s picked %d times, want 200", target, got)
		}
	}
}

func TestNewRejectsInvalid(t *testing.T) {
	tests := []struct {
		name    string
		targets []Target
	}{
		{name: "no targets", targets: nil},
		{name: "missing URL", targets: []Target{{Weight: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.targets); err == nil {
				t.Error("New returned no error, want one")
			}
		})
	}
}
