package tlsconf

import (
	"net"
	"strings"
	"sync/atomic"
)

// Index maps verified custom hostnames to the slugs of their tenants. The
// edge reads it on every request and handshake, and replaces it whole when
// the portal's domain index changes. The zero value is an empty index and
// is ready to use.
type Index struct {
	domains atomic.Pointer[map[string]string]
}

// Replace swaps in a new index. The caller must not modify domains
// afterwards.
func (i *Index) Replace(domains map[string]string) {
	normalized := make(map[string]string, len(domains))
	for hostname, slug := range domains {
		normalized[Hostname(hostname)] = strings.ToLower(slug)
	}
	i.domains.Store(&normalized)
}

// Lookup returns the tenant slug of hostname, which may carry a port.
func (i *Index) Lookup(hostname string) (string, bool) {
	if i == nil {
		return "", false
	}
	domains := i.domains.Load()
	if domains == nil {
		return "", false
	}
	slug, found := (*domains)[Hostname(hostname)]
	return slug, found
}

// Len returns the number of hostnames in the index.
func (i *Index) Len() int {
	domains := i.domains.Load()
	if domains == nil {
		return 0
	}
	return len(*domains)
}

// Hostname returns host without its port and one trailing dot, in
// lowercase (RFC 4343), the form that the index and sites use.
func Hostname(host string) string {
	if name, _, err := net.SplitHostPort(host); err == nil {
		host = name
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}
