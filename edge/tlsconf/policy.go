package tlsconf

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"portcullis.dev/tenants/config"
)

// RoutePolicy is a route's HTTPS redirect and HSTS setting.
type RoutePolicy struct {
	// HTTPSRedirect redirects plain HTTP requests to HTTPS with 308.
	HTTPSRedirect bool
	// HSTS is the Strict-Transport-Security value, empty for none.
	HSTS string
}

func newRoutePolicy(redirect bool, hsts *config.HSTS) RoutePolicy {
	policy := RoutePolicy{HTTPSRedirect: redirect}
	if hsts != nil {
		policy.HSTS = hsts.Header()
	}
	return policy
}

// IsSecure reports whether the client's request came over TLS: HTTPS on
// TCP, HTTP/3 (always TLS), or plain HTTP from a trusted proxy whose
// X-Forwarded-Proto, as the nearest proxy set it, is "https".
func IsSecure(r *http.Request, trusted []netip.Prefix) bool {
	if r.TLS != nil || r.ProtoMajor == 3 {
		return true
	}
	values := r.Header.Values("X-Forwarded-Proto")
	if len(values) == 0 || !fromTrusted(r.RemoteAddr, trusted) {
		return false
	}
	last := values[len(values)-1]
	if comma := strings.LastIndex(last, ","); comma >= 0 {
		last = last[comma+1:]
	}
	return strings.EqualFold(strings.TrimSpace(last), "https")
}

func fromTrusted(remoteAddr string, trusted []netip.Prefix) bool {
	addrPort, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return false
	}
	addr := addrPort.Addr().Unmap()
	for _, prefix := range trusted {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// Apply enforces the policy on a request before it is routed on. For a
// secure request (see IsSecure) it sets Strict-Transport-Security (RFC 6797
// section 7.1). Otherwise, with HTTPSRedirect, it writes a 308 to the same
// host, path and query on httpsPort, which is left out when it is 443, and
// returns true, so the caller sends nothing more. 308 keeps the method and
// body (RFC 9110 section 15.4.9).
func (p RoutePolicy) Apply(w http.ResponseWriter, r *http.Request, secure bool, httpsPort int) bool {
	if secure {
		if p.HSTS != "" {
			w.Header().Set("Strict-Transport-Security", p.HSTS)
		}
		return false
	}
	if !p.HTTPSRedirect {
		return false
	}

	http.Redirect(w, r, httpsURL(r, httpsPort), http.StatusPermanentRedirect)
	return true
}

// httpsURL returns the request's URL with scheme https and the port of
// the edge's TLS listener.
func httpsURL(r *http.Request, httpsPort int) string {
	host := r.Host
	if name, _, err := net.SplitHostPort(host); err == nil {
		host = name
	}
	if httpsPort != 0 && httpsPort != 443 {
		host = net.JoinHostPort(host, strconv.Itoa(httpsPort))
	} else if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + host + "]"
	}

	target := "https://" + host + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	return target
}
