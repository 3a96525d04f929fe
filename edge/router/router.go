// Package router matches a request's method and path to one of a tenant's
// routes.
package router

import (
	"net/http"
	"slices"
	"strings"
)

// Route is one entry of a Table: the path prefixes and methods it matches and
// the value that Match returns for it. An empty Methods list matches every
// method.
type Route[T any] struct {
	Prefixes []string
	Methods  []string
	Value    T
}

// Table matches requests to route values. It is immutable, so any number of
// goroutines may call Match at once.
type Table[T any] struct {
	entries []entry[T]
}

type entry[T any] struct {
	prefix  string
	methods []string
	value   T
}

// New builds a Table from routes. Between equal prefixes, the route that
// comes first in routes wins.
func New[T any](routes []Route[T]) *Table[T] {
	table := &Table[T]{}
	for _, route := range routes {
		for _, prefix := range route.Prefixes {
			table.entries = append(table.entries, entry[T]{prefix: prefix, methods: route.Methods, value: route.Value})
		}
	}

	// A stable sort keeps the order of routes among equal prefix lengths.
	slices.SortStableFunc(table.entries, func(a, b entry[T]) int {
		return len(b.prefix) - len(a.prefix)
	})
	return table
}

// Match returns the value of the route with the longest prefix of path that
// also allows method. The prefix is a plain string prefix, so "/api" also
// matches "/apis". The second result is false when no route matches.
func (t *Table[T]) Match(method, path string) (T, bool) {
	for _, candidate := range t.entries {
		if strings.HasPrefix(path, candidate.prefix) && allows(candidate.methods, method) {
			return candidate.value, true
		}
	}

	var zero T
	return zero, false
}

// allows reports whether a method list admits method. A list that names GET
// also admits HEAD, because RFC 9110 section 9.3.2 defines HEAD as GET
// without the content.
func allows(methods []string, method string) bool {
	if len(methods) == 0 {
		return true
	}

	for _, allowed := range methods {
		if allowed == method || (method == http.MethodHead && allowed == http.MethodGet) {
			return true
		}
	}
	return false
}
