// Package demo holds what `portcullis serve --demo` adds: an upstream that
// echoes requests, and the tenant, route and plugin that point at it.
package demo

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
)

// maxEchoBody is the largest request body the upstream reads and echoes.
const maxEchoBody = 64 << 10

// Echo is the response body of the demo upstream for every request.
type Echo struct {
	Upstream string            `json:"upstream"`
	Method   string            `json:"method"`
	Path     string            `json:"path"`
	Query    string            `json:"query"`
	Proto    string            `json:"proto"`
	Headers  map[string]string `json:"headers"`
	Body     string            `json:"body,omitempty"`
}

// Upstream returns a handler that responds to every request with its own
// method, path, query, headers and body as JSON.
func Upstream(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxEchoBody))

		echo := Echo{
			Upstream: name,
			Method:   r.Method,
			Path:     r.URL.Path,
			Query:    r.URL.RawQuery,
			Proto:    r.Proto,
			Headers:  flattenHeaders(r.Header),
			Body:     string(body),
		}

		w.Header().Set("Content-Type", "application/json")
		encoder := json.NewEncoder(w)
		encoder.SetIndent("", "  ")
		_ = encoder.Encode(echo)
	})
}

func flattenHeaders(header http.Header) map[string]string {
	names := make([]string, 0, len(header))
	for name := range header {
		names = append(names, name)
	}
	sort.Strings(names)

	flat := make(map[string]string, len(names))
	for _, name := range names {
		flat[name] = header.Get(name)
	}
	return flat
}
