package balancer

import (
	"net/url"
	"slices"
	"strconv"
)

// Limits of the consistent-hash ring.
const (
	// PointsPerWeight is the number of virtual nodes that one unit of
	// weight puts on the ring, after the weights are divided by their
	// greatest common divisor.
	PointsPerWeight = 160
	// MaxRingPoints bounds the ring. Above it every target's point count
	// is scaled down in proportion.
	MaxRingPoints = 1 << 16
)

// ring is a consistent-hash ring with virtual nodes. Each target owns
// points placed by hashing its URL, and a key goes to the owner of the
// first point at or after the key's hash. Removing a target moves only the
// keys of its points, as long as the weights' greatest common divisor and
// the scaling under MaxRingPoints stay the same.
type ring struct {
	points  []point
	targets int
}

type point struct {
	hash   uint64
	target int
}

func newRing(targets []*url.URL, weights []int) *ring {
	counts := pointCounts(weights)

	r := &ring{targets: len(targets)}
	for i, target := range targets {
		name := target.String()
		for replica := range counts[i] {
			r.points = append(r.points, point{hash: hashString(name + "#" + strconv.Itoa(replica)), target: i})
		}
	}
	slices.SortFunc(r.points, func(a, b point) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return a.target - b.target
	})
	return r
}

// pointCounts returns the number of points of each target: its weight over
// the weights' greatest common divisor, times PointsPerWeight, scaled down
// to fit MaxRingPoints.
func pointCounts(weights []int) []int {
	divisor := 0
	for _, weight := range weights {
		divisor = gcd(divisor, weight)
	}

	total := 0
	for _, weight := range weights {
		total += weight / divisor * PointsPerWeight
	}

	counts := make([]int, len(weights))
	for i, weight := range weights {
		count := weight / divisor * PointsPerWeight
		if total > MaxRingPoints {
			count = count * MaxRingPoints / total
		}
		counts[i] = max(count, 1)
	}
	return counts
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// pick walks the ring from the key's hash to the first point of an
// available target. It stops once it has seen every target.
func (r *ring) pick(hash uint64, c Candidates) (int, bool) {
	start, _ := slices.BinarySearchFunc(r.points, hash, func(p point, h uint64) int {
		switch {
		case p.hash < h:
			return -1
		case p.hash > h:
			return 1
		}
		return 0
	})

	var seen uint64
	all := uint64(1)<<r.targets - 1
	if r.targets == 64 {
		all = ^uint64(0)
	}
	for step := range len(r.points) {
		target := r.points[(start+step)%len(r.points)].target
		bit := uint64(1) << target
		if seen&bit != 0 {
			continue
		}
		if c.Available(target) {
			return target, true
		}
		seen |= bit
		if seen == all {
			break
		}
	}
	return 0, false
}

// hashString is 64-bit FNV-1a followed by the SplitMix64 finalizer, which
// spreads the similar strings of one target's points over the ring. It is
// stable across processes, so every edge maps a key to the same target.
func hashString(text string) uint64 {
	return hashParts(text, "")
}

// hashParts returns hashString(prefix + text) without building the string.
func hashParts(prefix, text string) uint64 {
	hash := uint64(fnvOffset)
	hash = fnvAdd(hash, prefix)
	hash = fnvAdd(hash, text)

	hash ^= hash >> 30
	hash *= 0xbf58476d1ce4e5b9
	hash ^= hash >> 27
	hash *= 0x94d049bb133111eb
	hash ^= hash >> 31
	return hash
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnvAdd(hash uint64, text string) uint64 {
	for i := 0; i < len(text); i++ {
		hash ^= uint64(text[i])
		hash *= fnvPrime
	}
	return hash
}
