package proxy

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"slices"
	"strings"
)

// viaName is the pseudonym the edge adds to Via (RFC 9110 section 7.6.3).
const viaName = "portcullis"

// forward sets X-Forwarded-For, X-Forwarded-Host, X-Forwarded-Proto and
// Forwarded (RFC 7239) on pr.Out. When the client address is in trusted,
// the client's own values are kept: its address is appended to the
// X-Forwarded-For chain, its X-Forwarded-Host and X-Forwarded-Proto win,
// and a Forwarded element for this hop follows the client's elements.
// Otherwise the headers describe this connection alone.
func forward(pr *httputil.ProxyRequest, trusted []netip.Prefix) {
	pr.SetXForwarded()
	element := forwardedElement(pr.In)
	if !isTrusted(pr.In.RemoteAddr, trusted) {
		pr.Out.Header.Set("Forwarded", element)
		return
	}

	in, out := pr.In.Header, pr.Out.Header
	if prior := in.Values("X-Forwarded-For"); len(prior) > 0 {
		chain := append(slices.Clone(prior), out.Get("X-Forwarded-For"))
		out.Set("X-Forwarded-For", strings.Join(chain, ", "))
	}
	if host := in.Get("X-Forwarded-Host"); host != "" {
		out.Set("X-Forwarded-Host", host)
	}
	if proto := in.Get("X-Forwarded-Proto"); proto == "http" || proto == "https" {
		out.Set("X-Forwarded-Proto", proto)
	}

	prior := in.Values("Forwarded")
	out.Set("Forwarded", strings.Join(append(slices.Clone(prior), element), ", "))
}

// forwardedElement returns the RFC 7239 element for the hop from the
// client to the edge, such as `for=192.0.2.7;host="acme.example";proto=https`.
// IPv6 addresses are bracketed and quoted (RFC 7239 section 6).
func forwardedElement(r *http.Request) string {
	node := "unknown"
	if addrPort, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		addr := addrPort.Addr().Unmap()
		node = addr.String()
		if addr.Is6() {
			node = `"[` + node + `]"`
		}
	}

	proto := "http"
	if r.TLS != nil || r.ProtoMajor == 3 {
		proto = "https"
	}
	return fmt.Sprintf("for=%s;host=%s;proto=%s", node, quote(r.Host), proto)
}

// quote returns s as an HTTP quoted-string (RFC 9110 section 5.6.4).
func quote(s string) string {
	return `"` + quoteEscaper.Replace(s) + `"`
}

// quoteEscaper escapes backslashes and double quotes in a quoted-string.
// A Replacer is safe for concurrent use, so one serves every request.
var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// isTrusted reports whether the IP of remoteAddr ("ip:port") is in one of
// the trusted prefixes. An unparsable address is not trusted.
func isTrusted(remoteAddr string, trusted []netip.Prefix) bool {
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

// removeProxyHeaders deletes every request header whose name starts with
// "Proxy-". They address a forward proxy on the client's side (RFC 9110
// section 11.7) or are the non-standard Proxy-Connection, and never concern
// the upstream. ReverseProxy removes only Proxy-Authorization and
// Proxy-Connection itself.
func removeProxyHeaders(header http.Header) {
	for name := range header {
		if strings.HasPrefix(name, "Proxy-") {
			delete(header, name)
		}
	}
}

// addVia appends "<version> portcullis" to Via, where version is that of
// the message received: "1.1", "2" or "3" (RFC 9110 section 7.6.3).
func addVia(header http.Header, major, minor int) {
	version := fmt.Sprintf("%d", major)
	if major == 1 {
		version = fmt.Sprintf("%d.%d", major, minor)
	}
	header.Add("Via", version+" "+viaName)
}
