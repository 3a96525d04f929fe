package router

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"portcullis.dev/tenants/config"
)

// fuzzSegments are the pieces that fuzzRoutes builds paths from. A small
// alphabet makes overlapping routes, and so ties, likely.
var fuzzSegments = []string{"a", "b", "ab", "{p}", "{q}", "{rest...}", ""}

// fuzzRoutes decodes a route set from data: per route, one byte for the
// kind, two for segments, one for priority, one for method and conditions.
func fuzzRoutes(data []byte) []config.Route {
	var routes []config.Route
	for i := 0; len(data) >= 5 && len(routes) < 12; i++ {
		kind, first, second, priority, flags := data[0], data[1], data[2], data[3], data[4]
		data = data[5:]

		path := "/" + fuzzSegments[int(first)%len(fuzzSegments)]
		if second%3 != 0 {
			path += "/" + fuzzSegments[int(second)%len(fuzzSegments)]
		}
		switch kind % 3 {
		case 0:
			path = strings.NewReplacer("{", "", "}", "", ".", "").Replace(path)
		case 1:
			path = config.ExactMarker + strings.NewReplacer("{", "", "}", "", ".", "").Replace(path)
		}
		route := config.Route{Name: fmt.Sprintf("r%d", i), Paths: []string{path}, Priority: int(priority%3) - 1}
		if route.Validate() != nil && kind%3 == 2 {
			// An invalid pattern (a catch-all not last, a repeated name)
			// never reaches the edge; use the prefix form instead.
			route.Paths = []string{strings.NewReplacer("{", "", "}", "", ".", "").Replace(path)}
		}
		if flags&1 != 0 {
			route.Methods = []string{"GET"}
		}
		if flags&2 != 0 {
			route.Hosts = []string{"*.example"}
		}
		if flags&4 != 0 {
			route.Headers = []config.Matcher{{Name: "X-Env", Value: text("beta")}}
		}
		if flags&8 != 0 {
			route.Query = []config.Matcher{{Name: "debug"}}
		}
		routes = append(routes, route)
	}
	return routes
}

// referenceMatch finds the winning route by checking every path of every
// route with regular expressions and ranking the matches with sort keys.
func referenceMatch(routes []config.Route, req *Request) (string, map[string]string, bool) {
	type found struct {
		key    []int
		name   string
		params map[string]string
	}
	var matches []found
	for i, route := range routes {
		if !referenceConditions(&route, req) {
			continue
		}
		for j, path := range route.Paths {
			params, ok := referencePath(path, req.Path)
			if ok {
				matches = append(matches, found{key: referenceKey(&route, path, i*config.MaxPaths+j), name: route.Name, params: params})
			}
		}
	}
	if len(matches) == 0 {
		return "", nil, false
	}

	best := slices.MinFunc(matches, func(a, b found) int { return slices.Compare(a.key, b.key) })
	return best.name, best.params, true
}

func referencePath(path, requestPath string) (map[string]string, bool) {
	kind, bare, segments := config.ParsePath(path)
	switch kind {
	case config.PathExact:
		return nil, requestPath == bare
	case config.PathPrefix:
		return nil, strings.HasPrefix(requestPath, bare)
	}

	expression := "^"
	for _, segment := range segments {
		switch {
		case segment.CatchAll:
			expression += "/(?P<" + segment.Param + ">.*)"
		case segment.Param != "":
			expression += "/(?P<" + segment.Param + ">[^/]+)"
		default:
			expression += "/" + regexp.QuoteMeta(segment.Literal)
		}
	}
	pattern := regexp.MustCompile(expression + "$")
	match := pattern.FindStringSubmatch(requestPath)
	if match == nil {
		return nil, false
	}
	params := map[string]string{}
	for i, name := range pattern.SubexpNames() {
		if name != "" {
			params[name] = match[i]
		}
	}
	return params, true
}

// referenceKey is the sort key of a matching path: smaller wins.
func referenceKey(route *config.Route, path string, order int) []int {
	kind, bare, segments := config.ParsePath(path)
	conditions := len(route.Headers) + len(route.Query)
	if len(route.Hosts) > 0 {
		conditions++
	}

	key := []int{-route.Priority, int(kind)}
	switch kind {
	case config.PathPrefix:
		key = append(key, -len(bare))
	case config.PathPattern:
		for _, segment := range segments {
			key = append(key, segmentRank(segment))
		}
		// The end of a pattern ranks after every segment, so that of
		// two patterns with equal leading segments the longer wins.
		key = append(key, 3)
		key = append(key, slices.Repeat([]int{3}, config.MaxPaths-len(segments))...)
	}
	return append(key, -conditions, order)
}

func referenceConditions(route *config.Route, req *Request) bool {
	if len(route.Methods) > 0 && !slices.Contains(route.Methods, req.Method) && !(req.Method == "HEAD" && slices.Contains(route.Methods, "GET")) {
		return false
	}
	host := req.Host
	if name, _, err := net.SplitHostPort(host); err == nil {
		host = name
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if len(route.Hosts) > 0 && !(strings.HasSuffix(host, ".example") && len(host) > len(".example")) {
		return false
	}
	for _, m := range route.Headers {
		if !slices.Contains(req.Header.Values(m.Name), *m.Value) {
			return false
		}
	}
	query, _ := url.ParseQuery(req.RawQuery)
	for _, m := range route.Query {
		if !query.Has(m.Name) {
			return false
		}
	}
	return true
}

func FuzzTableMatch(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0, 2, 3, 1, 1, 0}, "/a/b", "GET", "x.example", "debug")
	f.Add([]byte{2, 3, 1, 1, 0, 2, 5, 1, 1, 15}, "/ab/c/d", "HEAD", "example", "")
	f.Add([]byte{1, 0, 3, 2, 4, 2, 0, 4, 0, 8, 0, 2, 2, 0, 0}, "/a", "POST", "A.EXAMPLE:80", "debug=1")
	f.Add([]byte{2, 4, 5, 0, 0, 2, 3, 4, 2, 2}, "//b/../a/", "GET", "", "")

	f.Fuzz(func(t *testing.T, data []byte, rawPath, method, host, query string) {
		routes := fuzzRoutes(data)
		path, err := CleanPath(rawPath)
		if err != nil {
			return
		}
		request := &Request{Method: method, Host: host, Path: path.Decoded, Header: http.Header{"X-Env": {"beta"}}, RawQuery: query}

		got, ok := newTable(routes...).Match(request)
		wantName, wantParams, wantOK := referenceMatch(routes, request)
		if ok != wantOK || got.Value != wantName {
			t.Fatalf("Match(%q) = %q, %v; reference = %q, %v; routes %+v", path.Decoded, got.Value, ok, wantName, wantOK, routes)
		}
		if len(got.Params) > 0 || len(wantParams) > 0 {
			if !maps.Equal(got.Params, wantParams) {
				t.Fatalf("Match(%q) params = %v, reference %v", path.Decoded, got.Params, wantParams)
			}
		}
	})
}

func FuzzCleanPath(f *testing.F) {
	for _, seed := range []string{"/", "/a/../b", "/%2e%2E/x", "//a//b/", "/a%2Fb", "/caf%c3%a9", "/a;b%3B", "*", "/%", "/a/./", "/\x00", "/é"} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, escaped string) {
		path, err := CleanPath(escaped)
		if err != nil || !strings.HasPrefix(escaped, "/") {
			return
		}

		decoded, err := url.PathUnescape(path.Escaped)
		if err != nil || decoded != path.Decoded {
			t.Fatalf("CleanPath(%q).Escaped %q decodes to %q, %v; want %q", escaped, path.Escaped, decoded, err, path.Decoded)
		}
		for _, segment := range strings.Split(path.Escaped, "/")[1:] {
			if segment == "." || segment == ".." || strings.Contains(strings.ToUpper(segment), "%2F") {
				t.Fatalf("CleanPath(%q) = %q, which keeps segment %q", escaped, path.Escaped, segment)
			}
		}
		if strings.Contains(path.Escaped, "//") {
			t.Fatalf("CleanPath(%q) = %q, which keeps an empty segment", escaped, path.Escaped)
		}
		again, err := CleanPath(path.Escaped)
		if err != nil || again != path {
			t.Fatalf("CleanPath is not idempotent on %q: %+v, %v; want %+v", escaped, again, err, path)
		}
		parsed, err := url.Parse("http://h" + path.Escaped)
		if err != nil || parsed.EscapedPath() != path.Escaped {
			t.Fatalf("net/url does not keep %q as the escaped path: %v", path.Escaped, err)
		}
	})
}
