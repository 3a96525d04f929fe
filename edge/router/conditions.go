package router

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"portcullis.dev/tenants/config"
)

// conditions are the parts of a route besides its paths that a request
// must match. All paths of a route share them.
type conditions struct {
	methods []string
	// hosts are exact lower-case names; suffixes are the ".example.com" of
	// "*.example.com".
	hosts    []string
	suffixes []string
	headers  []matcher
	query    []matcher
	// count is the number of conditions that compare ranks by: one for a
	// host list, one for each header and query matcher.
	count int
}

// matcher is a header or query condition. A nil value requires only
// presence.
type matcher struct {
	name  string
	value *string
}

func compileConditions(route *config.Route) *conditions {
	conds := &conditions{methods: route.Methods}
	for _, host := range route.Hosts {
		host = strings.ToLower(host)
		if suffix, ok := strings.CutPrefix(host, "*"); ok {
			conds.suffixes = append(conds.suffixes, suffix)
		} else {
			conds.hosts = append(conds.hosts, host)
		}
	}
	for _, header := range route.Headers {
		conds.headers = append(conds.headers, matcher{name: textproto.CanonicalMIMEHeaderKey(header.Name), value: header.Value})
	}
	for _, arg := range route.Query {
		conds.query = append(conds.query, matcher{name: arg.Name, value: arg.Value})
	}

	conds.count = len(conds.headers) + len(conds.query)
	if len(route.Hosts) > 0 {
		conds.count++
	}
	return conds
}

// requestView is a Request with the host and query worked out once, on
// first use.
type requestView struct {
	*Request
	host      string
	hostReady bool
	query     url.Values
}

func (v *requestView) normalizedHost() string {
	if !v.hostReady {
		v.host, v.hostReady = normalizeHost(v.Host), true
	}
	return v.host
}

func (v *requestView) queryValues() url.Values {
	if v.query == nil {
		// A malformed pair is skipped, and the others still count.
		v.query, _ = url.ParseQuery(v.RawQuery)
	}
	return v.query
}

func (c *conditions) match(v *requestView) bool {
	if !allows(c.methods, v.Method) {
		return false
	}
	if (len(c.hosts) > 0 || len(c.suffixes) > 0) && !c.matchHost(v.normalizedHost()) {
		return false
	}
	for _, m := range c.headers {
		if !m.matchValues(v.Header[m.name]) {
			return false
		}
	}
	if len(c.query) > 0 {
		query := v.queryValues()
		for _, m := range c.query {
			if !m.matchValues(query[m.name]) {
				return false
			}
		}
	}
	return true
}

func (c *conditions) matchHost(host string) bool {
	for _, name := range c.hosts {
		if host == name {
			return true
		}
	}
	for _, suffix := range c.suffixes {
		if len(host) > len(suffix) && strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

// matchValues reports whether the values of one header or argument satisfy
// m: any value at all for presence, else one value equal to m.value.
func (m matcher) matchValues(values []string) bool {
	if m.value == nil {
		return len(values) > 0
	}
	for _, value := range values {
		if value == *m.value {
			return true
		}
	}
	return false
}

// normalizeHost returns host without port and trailing dot, in lower case:
// "API.Acme.example.:8443" becomes "api.acme.example".
func normalizeHost(host string) string {
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			host = host[:end+1]
		}
	} else if colon := strings.LastIndexByte(host, ':'); colon >= 0 {
		host = host[:colon]
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
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
