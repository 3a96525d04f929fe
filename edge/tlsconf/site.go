package tlsconf

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"

	"portcullis.dev/tenants/bundle"
)

// Site is the TLS state of one tenant at one bundle: its verified custom
// domains with their parsed certificates, and its routes' redirect and
// HSTS policies. A Site never changes once built.
type Site struct {
	Tenant   string
	Revision int64
	Hash     string

	// certificates maps each verified hostname to its certificate, or to
	// nil for a domain without one.
	certificates map[string]*tls.Certificate
	routes       map[string]RoutePolicy
}

// NewSite builds the Site of a bundle. A certificate that does not parse
// is left out, so its hostname gets the default certificate, and is
// reported in the error next to the Site, which is never nil.
func NewSite(b *bundle.Bundle) (*Site, error) {
	site := &Site{
		Tenant:       strings.ToLower(b.Tenant),
		Revision:     b.Revision,
		Hash:         b.Hash,
		certificates: make(map[string]*tls.Certificate, len(b.Domains)),
		routes:       make(map[string]RoutePolicy, len(b.Routes)),
	}

	var errs []error
	for _, domain := range b.Domains {
		hostname := Hostname(domain.Hostname)
		site.certificates[hostname] = nil
		if domain.CertificatePEM == "" {
			continue
		}
		cert, err := tls.X509KeyPair([]byte(domain.CertificatePEM), []byte(domain.PrivateKeyPEM))
		if err != nil {
			errs = append(errs, fmt.Errorf("certificate of domain %q: %w", hostname, err))
			continue
		}
		site.certificates[hostname] = &cert
	}

	for _, route := range b.Routes {
		site.routes[route.Name] = newRoutePolicy(route.HTTPSRedirect, route.HSTS)
	}
	return site, errors.Join(errs...)
}

// Serves reports whether hostname is a verified custom domain of the
// tenant in this bundle.
func (s *Site) Serves(hostname string) bool {
	if s == nil {
		return false
	}
	_, found := s.certificates[Hostname(hostname)]
	return found
}

// Certificate returns the certificate of a custom hostname, or nil when
// the hostname has none or is not the tenant's.
func (s *Site) Certificate(hostname string) *tls.Certificate {
	if s == nil {
		return nil
	}
	return s.certificates[Hostname(hostname)]
}

// Route returns the policy of the named route, the zero policy for an
// unknown route.
func (s *Site) Route(name string) RoutePolicy {
	if s == nil {
		return RoutePolicy{}
	}
	return s.routes[name]
}

// Sites holds the newest Site of each tenant, and the one before it, so
// that a request still on the previous runtime finds that runtime's
// policies while the new one swaps in. It is safe for concurrent use.
//
// NOTE: a tenant's Sites stay after L1 evicts its runtime, so memory grows
// with the number of tenants this edge ever loaded, by their parsed
// certificates and route policies.
type Sites struct {
	mu       sync.RWMutex
	current  map[string]*Site
	previous map[string]*Site
}

// NewSites returns an empty Sites.
func NewSites() *Sites {
	return &Sites{current: map[string]*Site{}, previous: map[string]*Site{}}
}

// Store records site as its tenant's newest, unless a newer revision is
// stored already.
func (s *Sites) Store(site *Site) {
	s.mu.Lock()
	defer s.mu.Unlock()

	current := s.current[site.Tenant]
	switch {
	case current == nil:
		s.current[site.Tenant] = site
	case site.Revision > current.Revision:
		s.previous[site.Tenant] = current
		s.current[site.Tenant] = site
	case site.Revision == current.Revision:
		s.current[site.Tenant] = site
	}
}

// Current returns the tenant's newest Site, or nil.
func (s *Sites) Current(tenant string) *Site {
	s.mu.RLock()
	defer s.mu.RUnlock()

	return s.current[strings.ToLower(tenant)]
}

// Get returns the tenant's Site built from the bundle with the hash, or
// the newest one when neither stored Site has that hash.
func (s *Sites) Get(tenant, hash string) *Site {
	s.mu.RLock()
	defer s.mu.RUnlock()

	tenant = strings.ToLower(tenant)
	if previous := s.previous[tenant]; previous != nil && previous.Hash == hash {
		return previous
	}
	return s.current[tenant]
}
