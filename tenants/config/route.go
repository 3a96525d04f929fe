package config

import (
	"fmt"
	"regexp"
	"strings"
)

// Route matches requests of a tenant and sends them to an upstream. A path
// is a prefix ("/api"), an exact path ("=/healthz") or a pattern with
// parameters ("/users/{id}", "/files/{path...}"); see PathKind. An empty
// method list matches every method. docs/paths.md states the order in which
// the edge compares the routes that match one request.
type Route struct {
	Name     string   `json:"name"`
	Paths    []string `json:"paths"`
	Methods  []string `json:"methods"`
	Upstream string   `json:"upstream"`

	// Hosts lists the request hosts the route matches: exact names such as
	// "api.acme.example" or wildcards such as "*.acme.example", which
	// match one or more labels in front of the suffix. Case does not
	// matter. Empty matches every host of the tenant.
	Hosts []string `json:"hosts,omitempty"`
	// Headers lists request headers that must all match.
	Headers []Matcher `json:"headers,omitempty"`
	// Query lists query arguments that must all match.
	Query []Matcher `json:"query,omitempty"`
	// Priority orders routes that match the same request: higher wins
	// before the path is compared. Zero is the default, and the range is
	// -MaxRoutePriority to MaxRoutePriority.
	Priority int `json:"priority,omitempty"`
	// MaxBodyBytes bounds the request body in bytes, 1 to
	// MaxBodyBytesCeiling. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64 `json:"max_body_bytes,omitempty"`

	// HTTPSRedirect redirects plain HTTP requests with 308 to the same URL
	// over HTTPS (see tls.go).
	HTTPSRedirect bool `json:"https_redirect,omitempty"`
	// HSTS is the Strict-Transport-Security policy sent over TLS. Nil
	// sends none.
	HSTS *HSTS `json:"hsts,omitempty"`

	// Timeouts bound the route's exchange with its upstream (timeouts.go).
	Timeouts Timeouts `json:"timeouts,omitzero"`
}

// Matcher is one header or query condition of a route. With Value nil the
// header or argument only has to be present; otherwise one of its values
// must equal Value exactly, case included.
type Matcher struct {
	Name  string  `json:"name"`
	Value *string `json:"value,omitempty"`
}

// Limits of a route's matching fields and body.
const (
	// MaxRouteHosts bounds Route.Hosts.
	MaxRouteHosts = 32
	// MaxRouteMatchers bounds Route.Headers and Route.Query each.
	MaxRouteMatchers = 16
	// MaxMatcherLength bounds a matcher's name and value in bytes.
	MaxMatcherLength = 256
	// MaxRoutePriority bounds Route.Priority in both directions.
	MaxRoutePriority = 100000
	// DefaultMaxBodyBytes is the body limit of a route without
	// max_body_bytes: 10 MiB.
	DefaultMaxBodyBytes = 10 << 20
	// MaxBodyBytesCeiling is the largest max_body_bytes: 1 GiB.
	MaxBodyBytesCeiling = 1 << 30
)

// BodyLimit returns the route's request body limit in bytes.
func (r *Route) BodyLimit() int64 {
	if r.MaxBodyBytes == 0 {
		return DefaultMaxBodyBytes
	}
	return r.MaxBodyBytes
}

// PathKind is the kind of a route path, which decides how it matches a
// request path.
type PathKind int

// Kinds of route paths, in the order the edge prefers them when routes of
// equal priority match one request.
const (
	// PathExact, written "=/healthz", matches that path only.
	PathExact PathKind = iota
	// PathPattern, written with parameter segments such as "/users/{id}"
	// or a final catch-all such as "/files/{path...}", matches paths with
	// the same literal segments.
	PathPattern
	// PathPrefix, any other path such as "/api", matches every path that
	// starts with it as a string, so "/api" also matches "/apis".
	PathPrefix
)

// ExactMarker starts an exact route path.
const ExactMarker = "="

// Segment is one "/"-separated part of a pattern path: a literal, a
// parameter "{name}" or a final catch-all "{name...}".
type Segment struct {
	// Literal is the text of a literal segment.
	Literal string
	// Param is the parameter name, empty for a literal.
	Param string
	// CatchAll marks "{name...}", which matches the rest of the path.
	CatchAll bool
}

var paramPattern = regexp.MustCompile(`^\{([A-Za-z_][A-Za-z0-9_]{0,31})(\.\.\.)?\}$`)

// ParsePath returns the kind of a route path, the path without the exact
// marker, and the segments of a pattern. A path whose braces do not form
// whole parameter segments is a prefix, as every path was before patterns
// existed; Validate rejects such paths in new routes.
func ParsePath(path string) (PathKind, string, []Segment) {
	if rest, ok := strings.CutPrefix(path, ExactMarker); ok {
		return PathExact, rest, nil
	}
	if !strings.Contains(path, "{") {
		return PathPrefix, path, nil
	}

	segments, err := parsePattern(path)
	if err != nil {
		return PathPrefix, path, nil
	}
	return PathPattern, path, segments
}

// Problems of a path pattern that parsePattern reports.
const (
	notParameter = iota
	catchAllNotLast
	repeatedParameter
)

// patternError is a problem of a path pattern, with the segment or
// parameter name it concerns.
type patternError struct {
	problem int
	name    string
}

func (e *patternError) Error() string {
	switch e.problem {
	case catchAllNotLast:
		return fmt.Sprintf("catch-all %q is not the last segment: move it to the end", e.name)
	case repeatedParameter:
		return fmt.Sprintf("parameter %q appears twice: give each parameter its own name", e.name)
	}
	return fmt.Sprintf("segment %q is not a parameter: write {name} or {name...} as a whole segment, with a name of 1 to 32 letters, digits and underscores", e.name)
}

// parsePattern splits a path with braces into segments. It fails when a
// brace is not part of a whole parameter segment, a catch-all is not last,
// or a parameter name repeats.
func parsePattern(path string) ([]Segment, error) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	segments := make([]Segment, 0, len(parts))
	names := map[string]bool{}
	for i, part := range parts {
		if !strings.ContainsAny(part, "{}") {
			segments = append(segments, Segment{Literal: part})
			continue
		}

		match := paramPattern.FindStringSubmatch(part)
		switch {
		case match == nil:
			return nil, &patternError{problem: notParameter, name: part}
		case match[2] != "" && i != len(parts)-1:
			return nil, &patternError{problem: catchAllNotLast, name: part}
		case names[match[1]]:
			return nil, &patternError{problem: repeatedParameter, name: match[1]}
		}
		names[match[1]] = true
		segments = append(segments, Segment{Param: match[1], CatchAll: match[2] != ""})
	}
	return segments, nil
}
