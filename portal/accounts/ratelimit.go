package accounts

import (
	"math"
	"sync"
	"time"
)

// Limiter is an in-memory token bucket per key, such as an email address or
// a client address. It is safe for concurrent use. Its state is per process,
// so each portal replica counts on its own.
type Limiter struct {
	burst    float64
	interval time.Duration
	maxKeys  int
	now      func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens  float64
	updated time.Time
}

// NewLimiter returns a Limiter that allows burst attempts per key at once
// and one more each interval. It tracks at most maxKeys keys: when a new
// key would exceed that, it deletes the keys whose bucket is full. If no
// bucket is full, it rejects the new key until one refills.
func NewLimiter(burst int, interval time.Duration, maxKeys int) *Limiter {
	return &Limiter{
		burst:    float64(burst),
		interval: interval,
		maxKeys:  maxKeys,
		now:      time.Now,
		buckets:  make(map[string]*bucket),
	}
}

// Allow takes one attempt from the key's bucket. When the bucket is empty it
// returns false and how long until the next attempt is allowed.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()

	now := l.now()
	current := l.buckets[key]
	if current == nil {
		if len(l.buckets) >= l.maxKeys && !l.forgetFull(now) {
			return false, l.interval
		}
		current = &bucket{tokens: l.burst, updated: now}
		l.buckets[key] = current
	}

	l.refill(current, now)
	if current.tokens < 1 {
		wait := time.Duration(math.Ceil((1 - current.tokens) * float64(l.interval)))
		return false, wait
	}
	current.tokens--
	return true, 0
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	elapsed := now.Sub(b.updated)
	if elapsed > 0 {
		b.tokens = math.Min(l.burst, b.tokens+float64(elapsed)/float64(l.interval))
		b.updated = now
	}
}

// forgetFull deletes the buckets that have refilled completely, which hold
// no information, and reports whether it deleted any.
func (l *Limiter) forgetFull(now time.Time) bool {
	deleted := false
	for key, b := range l.buckets {
		l.refill(b, now)
		if b.tokens >= l.burst {
			delete(l.buckets, key)
			deleted = true
		}
	}
	return deleted
}
