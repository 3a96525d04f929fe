package router

import (
	"cmp"

	"portcullis.dev/tenants/config"
)

// candidate is one path of one route, with what it takes to rank and match
// it.
type candidate[T any] struct {
	kind     config.PathKind
	path     string
	segments []config.Segment
	// params counts the parameters of a pattern.
	params   int
	priority int
	// order is the position of the route and path in New's entries.
	order      int
	conditions *conditions
	value      T
}

func newCandidate[T any](path string, priority int, conds *conditions, order int, value T) *candidate[T] {
	kind, bare, segments := config.ParsePath(path)
	params := 0
	for _, segment := range segments {
		if segment.Param != "" {
			params++
		}
	}
	return &candidate[T]{kind: kind, path: bare, segments: segments, params: params, priority: priority, order: order, conditions: conds, value: value}
}

// compare orders candidates from the one that wins to the one that loses:
//
//  1. higher priority,
//  2. exact before pattern before prefix,
//  3. the more specific path. Of two prefixes the longer wins. Patterns
//     are compared segment by segment from the left, a literal before a
//     parameter before a catch-all, and then the one with more segments
//     wins,
//  4. more conditions (a host list counts one, each header and query
//     matcher one),
//  5. lower order.
//
// Two different candidates never compare equal, because their orders
// differ.
func compare[T any](a, b *candidate[T]) int {
	if c := cmp.Compare(b.priority, a.priority); c != 0 {
		return c
	}
	if c := cmp.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	if c := comparePaths(a, b); c != 0 {
		return c
	}
	if c := cmp.Compare(b.conditions.count, a.conditions.count); c != 0 {
		return c
	}
	return cmp.Compare(a.order, b.order)
}

// comparePaths ranks the paths of two candidates of the same kind.
func comparePaths[T any](a, b *candidate[T]) int {
	switch a.kind {
	case config.PathPrefix:
		return cmp.Compare(len(b.path), len(a.path))
	case config.PathPattern:
		for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
			if c := cmp.Compare(segmentRank(a.segments[i]), segmentRank(b.segments[i])); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(b.segments), len(a.segments))
	}
	return 0
}

func segmentRank(s config.Segment) int {
	switch {
	case s.CatchAll:
		return 2
	case s.Param != "":
		return 1
	}
	return 0
}
