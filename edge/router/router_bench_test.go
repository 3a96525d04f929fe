package router

import (
	"fmt"
	"net/http"
	"testing"

	"portcullis.dev/tenants/config"
)

// benchRoutes returns n routes of mixed kinds, as a tenant with many
// services would have: a prefix, an exact path and a pattern per service,
// with a method list on every second route.
func benchRoutes(n int) []config.Route {
	routes := make([]config.Route, 0, n)
	for i := 0; len(routes) < n; i++ {
		service := fmt.Sprintf("svc%d", i)
		routes = append(routes, config.Route{Name: service + "-api", Paths: []string{"/" + service + "/api"}, Methods: []string{"GET", "POST"}})
		routes = append(routes, config.Route{Name: service + "-health", Paths: []string{"=/" + service + "/healthz"}})
		routes = append(routes, config.Route{Name: service + "-item", Paths: []string{"/" + service + "/items/{id}"}, Methods: []string{"GET"}})
	}
	return routes[:n]
}

func BenchmarkTableMatch(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		routes := benchRoutes(n)
		table := newTable(routes...)
		// The request targets a route in the middle of the table, or the
		// only one.
		middle := n / 3 / 2
		requests := map[string]*Request{
			"prefix":  {Method: "GET", Host: "acme.localhost", Path: fmt.Sprintf("/svc%d/api/users", middle), Header: http.Header{}},
			"pattern": {Method: "GET", Host: "acme.localhost", Path: fmt.Sprintf("/svc%d/items/42", middle), Header: http.Header{}},
			"miss":    {Method: "GET", Host: "acme.localhost", Path: "/nothing/here", Header: http.Header{}},
		}
		if n < 3 {
			// The table has no pattern route.
			delete(requests, "pattern")
		}
		for name, request := range requests {
			b.Run(fmt.Sprintf("routes=%d/%s", n, name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					table.Match(request)
				}
			})
		}
	}
}
