// Package balancer spreads requests over the targets of one upstream by
// weighted round-robin.
package balancer

import (
	"errors"
	"fmt"
	"net/url"
	"sync"
)

// Target is one backend and its relative weight. A weight of zero or less
// counts as 1.
type Target struct {
	URL    *url.URL
	Weight int
}

// Balancer picks targets by smooth weighted round-robin: over any run of
// total-weight picks, each target is picked weight times, and picks of the
// same target are spread out instead of coming in bursts. It is safe for
// concurrent use.
type Balancer struct {
	mu      sync.Mutex
	targets []*url.URL
	weights []int
	current []int
	total   int
}

// New returns a Balancer over targets. It returns an error when targets is
// empty or a target has no URL.
func New(targets []Target) (*Balancer, error) {
	if len(targets) == 0 {
		return nil, errors.New("balancer needs at least one target")
	}

	b := &Balancer{current: make([]int, len(targets))}
	for i, target := range targets {
		if target.URL == nil {
			return nil, fmt.Errorf("target %d has no URL", i)
		}

		weight := max(target.Weight, 1)
		b.targets = append(b.targets, target.URL)
		b.weights = append(b.weights, weight)
		b.total += weight
	}
	return b, nil
}

// Next returns the target for the next request. Callers must not modify the
// returned URL.
func (b *Balancer) Next() *url.URL {
	if len(b.targets) == 1 {
		return b.targets[0]
	}

	b.mu.Lock()
	defer b.mu.Unlock()

	// Every target gains its weight, the one with the highest running
	// score is picked, and the pick pays back the total weight.
	best := 0
	for i, weight := range b.weights {
		b.current[i] += weight
		if b.current[i] > b.current[best] {
			best = i
		}
	}
	b.current[best] -= b.total
	return b.targets[best]
}

// Len returns the number of targets.
func (b *Balancer) Len() int {
	return len(b.targets)
}
