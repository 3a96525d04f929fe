// Package balancer picks the target of an upstream for each request, by one
// of three policies: smooth weighted round robin, least connections, or a
// consistent-hash ring. Every policy honours per-target weights and skips
// the targets that the caller reports unavailable.
package balancer

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"portcullis.dev/tenants/config"
)

// Target is one backend and its relative weight. A weight of zero or less
// counts as 1.
type Target struct {
	URL    *url.URL
	Weight int
}

// Candidates reports the state of an upstream's targets at pick time, by
// index in the order given to New.
type Candidates interface {
	// Available reports whether target i may receive the request: it is
	// healthy and was not already tried for this request.
	Available(i int) bool
	// Load returns the number of requests in flight to target i.
	Load(i int) int64
}

// Options choose the policy of a Balancer. The zero value is weighted
// round robin.
type Options struct {
	// Policy is a config.Balance* value. Empty means round robin.
	Policy string
	// HashOn is a config.HashOn* value, used by the consistent-hash
	// policy. Empty means the client address.
	HashOn string
	// HashKey names the header or cookie that HashOn reads.
	HashKey string
}

// Balancer picks targets by its policy. It is safe for concurrent use.
type Balancer struct {
	// Upstream carries the upstream settings that the proxy needs.
	Upstream Upstream

	targets []*url.URL
	urls    []string
	weights []int
	picker  picker
	hashOn  string
	hashKey string
}

// picker is one policy. hash is the consistent-hash key's hash, zero for
// the other policies.
type picker interface {
	pick(hash uint64, c Candidates) (int, bool)
}

// New returns a Balancer over targets. It returns an error when targets is
// empty, a target has no URL, or the options name an unknown policy.
func New(targets []Target, opts Options) (*Balancer, error) {
	if len(targets) == 0 {
		return nil, errors.New("balancer needs at least one target")
	}
	if len(targets) > config.MaxTargets {
		return nil, fmt.Errorf("balancer has %d targets, above the limit of %d", len(targets), config.MaxTargets)
	}

	b := &Balancer{hashOn: opts.HashOn, hashKey: opts.HashKey}
	for i, target := range targets {
		if target.URL == nil {
			return nil, fmt.Errorf("target %d has no URL", i)
		}
		b.targets = append(b.targets, target.URL)
		b.urls = append(b.urls, target.URL.String())
		b.weights = append(b.weights, max(target.Weight, 1))
	}

	switch opts.Policy {
	case "", config.BalanceRoundRobin:
		b.picker = newRoundRobin(b.weights)
	case config.BalanceLeastConn:
		b.picker = &leastConn{weights: b.weights}
	case config.BalanceConsistentHash:
		b.picker = newRing(b.targets, b.weights)
	default:
		return nil, fmt.Errorf("balance policy %q is unknown: use %q, %q or %q", opts.Policy, config.BalanceRoundRobin, config.BalanceLeastConn, config.BalanceConsistentHash)
	}
	return b, nil
}

// Pick returns the index of the target for r among the available
// candidates, or false when none is available.
func (b *Balancer) Pick(r *http.Request, c Candidates) (int, bool) {
	var hash uint64
	if _, hashed := b.picker.(*ring); hashed {
		hash = b.hashOf(r)
	}
	return b.picker.pick(hash, c)
}

// Target returns the URL of target i. Callers must not modify it.
func (b *Balancer) Target(i int) *url.URL {
	return b.targets[i]
}

// Len returns the number of targets.
func (b *Balancer) Len() int {
	return len(b.targets)
}

// hashOf returns the hash of the value that the consistent hash reads from
// r, prefixed by its kind. A request without the header or cookie hashes on
// its client address, so it still lands on a stable target.
func (b *Balancer) hashOf(r *http.Request) uint64 {
	switch b.hashOn {
	case config.HashOnHeader:
		if value := r.Header.Get(b.hashKey); value != "" {
			return hashParts("h:", value)
		}
	case config.HashOnCookie:
		if cookie, err := r.Cookie(b.hashKey); err == nil && cookie.Value != "" {
			return hashParts("c:", cookie.Value)
		}
	}
	return hashParts("a:", clientHost(r.RemoteAddr))
}

// clientHost returns the host part of a "host:port" remote address.
func clientHost(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}
