// Package router matches a request to one of a tenant's routes by path,
// method, host, headers, query and priority, and holds the path policy
// (CleanPath) that the edge applies before matching.
package router

import (
	"net/http"
	"slices"
	"strings"

	"portcullis.dev/tenants/config"
)

// Entry is one route of a Table and the value that Match returns for it.
type Entry[T any] struct {
	Route *config.Route
	Value T
}

// Request is the part of an HTTP request that Match reads.
type Request struct {
	Method string
	// Host is the Host header; the port, one trailing dot and case do not
	// matter.
	Host string
	// Path is the decoded path that CleanPath returned.
	Path string
	// Header may be nil.
	Header http.Header
	// RawQuery is the query without "?". It is parsed only when a
	// candidate route has query matchers.
	RawQuery string
}

// Result is the route that matched and the values of its parameters.
type Result[T any] struct {
	Value T
	// Params maps parameter names to their decoded values. It is nil for
	// exact and prefix paths.
	Params map[string]string
}

// Table matches requests to route values. It is immutable, so any number of
// goroutines may call Match at once.
//
// Exact paths sit in a map by path, and prefixes in a map by prefix that
// Match probes once per distinct prefix length. Patterns sit in a map by
// their first literal segment. A request therefore looks at the few
// candidates that can match its path rather than at every route.
type Table[T any] struct {
	exact    map[string][]*candidate[T]
	prefixes map[string][]*candidate[T]
	// prefixLengths are the distinct prefix lengths, longest first.
	prefixLengths []int
	patterns      map[string][]*candidate[T]
	// openPatterns are the patterns whose first segment is a parameter.
	openPatterns []*candidate[T]
}

// New builds a Table. Between routes that tie on every rule of Match, the
// one that comes first in entries wins.
func New[T any](entries []Entry[T]) *Table[T] {
	t := &Table[T]{
		exact:    map[string][]*candidate[T]{},
		prefixes: map[string][]*candidate[T]{},
		patterns: map[string][]*candidate[T]{},
	}
	for i, entry := range entries {
		conditions := compileConditions(entry.Route)
		for j, path := range entry.Route.Paths {
			t.add(newCandidate(path, entry.Route.Priority, conditions, i*config.MaxPaths+j, entry.Value))
		}
	}

	for _, list := range t.exact {
		slices.SortFunc(list, compare[T])
	}
	for prefix, list := range t.prefixes {
		slices.SortFunc(list, compare[T])
		if !slices.Contains(t.prefixLengths, len(prefix)) {
			t.prefixLengths = append(t.prefixLengths, len(prefix))
		}
	}
	slices.SortFunc(t.prefixLengths, func(a, b int) int { return b - a })
	for _, list := range t.patterns {
		slices.SortFunc(list, compare[T])
	}
	slices.SortFunc(t.openPatterns, compare[T])
	return t
}

func (t *Table[T]) add(c *candidate[T]) {
	switch c.kind {
	case config.PathExact:
		t.exact[c.path] = append(t.exact[c.path], c)
	case config.PathPrefix:
		t.prefixes[c.path] = append(t.prefixes[c.path], c)
	default:
		first := c.segments[0]
		if first.Param != "" {
			t.openPatterns = append(t.openPatterns, c)
		} else {
			t.patterns[first.Literal] = append(t.patterns[first.Literal], c)
		}
	}
}

// Match returns the route that serves req. Of the routes whose path,
// methods, hosts, headers and query all match, it returns the one that
// compare ranks first: highest priority, then exact before pattern before
// prefix, then the more specific path, then more conditions, then entry
// order. The second result is false when no route matches.
func (t *Table[T]) Match(req *Request) (Result[T], bool) {
	view := requestView{Request: req}
	var best *candidate[T]

	best = pick(t.exact[req.Path], best, &view, false)
	for _, length := range t.prefixLengths {
		if length <= len(req.Path) {
			best = pick(t.prefixes[req.Path[:length]], best, &view, false)
		}
	}
	if len(t.patterns) > 0 || len(t.openPatterns) > 0 {
		best = pick(t.patterns[firstSegment(req.Path)], best, &view, true)
		best = pick(t.openPatterns, best, &view, true)
	}

	if best == nil {
		var zero Result[T]
		return zero, false
	}
	result := Result[T]{Value: best.value}
	if best.kind == config.PathPattern {
		result.Params = make(map[string]string, best.params)
		matchSegments(best.segments, req.Path, result.Params)
	}
	return result, true
}

// pick returns the first candidate of the sorted list that matches and
// ranks before best, or best.
func pick[T any](list []*candidate[T], best *candidate[T], view *requestView, pattern bool) *candidate[T] {
	for _, c := range list {
		if best != nil && compare(c, best) >= 0 {
			return best
		}
		if pattern && !matchSegments(c.segments, view.Path, nil) {
			continue
		}
		if c.conditions.match(view) {
			return c
		}
	}
	return best
}

// firstSegment returns the first segment of a path: "users" of "/users/7".
func firstSegment(path string) string {
	rest := strings.TrimPrefix(path, "/")
	if slash := strings.IndexByte(rest, '/'); slash >= 0 {
		return rest[:slash]
	}
	return rest
}

// matchSegments reports whether path matches a pattern's segments and, when
// params is not nil, stores the parameter values in it.
func matchSegments(segments []config.Segment, path string, params map[string]string) bool {
	if !strings.HasPrefix(path, "/") {
		return false
	}

	rest := path[1:]
	for i, segment := range segments {
		if segment.CatchAll {
			if params != nil {
				params[segment.Param] = rest
			}
			return true
		}

		part, tail, more := strings.Cut(rest, "/")
		last := i == len(segments)-1
		if more == last {
			return false
		}
		if segment.Param == "" && part != segment.Literal {
			return false
		}
		if segment.Param != "" {
			if part == "" {
				return false
			}
			if params != nil {
				params[segment.Param] = part
			}
		}
		rest = tail
	}
	return true
}
