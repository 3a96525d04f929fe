package balancer

import (
	"sync"
	"sync/atomic"
)

// roundRobin is smooth weighted round robin: over any run of total-weight
// picks with every target available, each target is picked weight times,
// and picks of the same target are spread out instead of coming in bursts.
type roundRobin struct {
	mu      sync.Mutex
	weights []int
	current []int
}

func newRoundRobin(weights []int) *roundRobin {
	return &roundRobin{weights: weights, current: make([]int, len(weights))}
}

func (p *roundRobin) pick(_ uint64, c Candidates) (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()

	// Every available target gains its weight, the one with the highest
	// running score is picked, and the pick pays back the total weight of
	// the available targets.
	best, total := -1, 0
	for i, weight := range p.weights {
		if !c.Available(i) {
			continue
		}
		p.current[i] += weight
		total += weight
		if best < 0 || p.current[i] > p.current[best] {
			best = i
		}
	}
	if best < 0 {
		return 0, false
	}
	p.current[best] -= total
	return best, true
}

// leastConn picks the available target with the fewest requests in flight
// per unit of weight. Ties go to the first target after a rotating start,
// so idle targets share the traffic.
type leastConn struct {
	weights []int
	start   atomic.Uint32
}

func (p *leastConn) pick(_ uint64, c Candidates) (int, bool) {
	n := len(p.weights)
	offset := int(p.start.Add(1) % uint32(n))

	best := -1
	var bestLoad int64
	for step := range n {
		i := (offset + step) % n
		if !c.Available(i) {
			continue
		}

		// Compare load/weight as a cross product to stay in integers.
		load := c.Load(i)
		if best < 0 || load*int64(p.weights[best]) < bestLoad*int64(p.weights[i]) {
			best, bestLoad = i, load
		}
	}
	return best, best >= 0
}
