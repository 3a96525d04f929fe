package edge

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"path"
	"strings"

	"portcullis.dev/edge/runtime"
	"portcullis.dev/edge/tlsconf"
	"portcullis.dev/tenants/bundle"
	"portcullis.dev/tenants/config"
)

// tenantFromHost returns the tenant slug that host names under baseDomain:
// "Acme.localhost:8443" names "acme". The port is ignored, case does not
// matter (RFC 4343) and one trailing dot of an absolute name is allowed. The
// second result is false when host is not "<slug>.<baseDomain>" with a valid
// slug.
func tenantFromHost(host, baseDomain string) (string, bool) {
	if hostname, _, err := net.SplitHostPort(host); err == nil {
		host = hostname
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))

	slug, found := strings.CutSuffix(host, "."+baseDomain)
	if !found || config.ValidateSlug("host", slug) != nil {
		return "", false
	}
	return slug, true
}

// tenantForHost returns the tenant slug of a request's Host: a name under
// the base domain first, then a verified custom domain. A custom domain
// counts only when both the domain index and the tenant's own bundle list
// it, so an index that lags behind a domain's move to another tenant
// cannot route the old tenant's traffic. It loads the tenant's runtime to
// read its bundle's domains.
func (e *Edge) tenantForHost(ctx context.Context, host string) (string, bool) {
	if slug, ok := tenantFromHost(host, e.baseDomain); ok {
		return slug, true
	}

	hostname := tlsconf.Hostname(host)
	slug, ok := e.cfg.Domains.Lookup(hostname)
	if !ok {
		return "", false
	}
	if _, err := e.store.Runtime(ctx, slug); err != nil {
		// The caller loads the runtime again and reports the error.
		return slug, true
	}
	return slug, e.sites.Current(slug).Serves(hostname)
}

// certificateFor is the GetCertificate of the edge's TLS config: the
// tenant's certificate for a verified custom domain named by SNI, or nil
// for the default certificate. It loads the tenant's runtime when L1 does
// not hold it, so the first handshake of a tenant waits for its bundle.
func (e *Edge) certificateFor(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	hostname := tlsconf.Hostname(hello.ServerName)
	if _, underBase := tenantFromHost(hostname, e.baseDomain); hostname == "" || underBase {
		return nil, nil
	}
	slug, ok := e.cfg.Domains.Lookup(hostname)
	if !ok {
		return nil, nil
	}

	if _, err := e.store.Runtime(hello.Context(), slug); err != nil {
		e.log.Debug("default certificate served: tenant not loaded", "tenant", slug, "server_name", hostname, "error", err)
		return nil, nil
	}
	return e.sites.Current(slug).Certificate(hostname), nil
}

// serverTLSConfig returns the TLS config of the HTTPS and HTTP/3
// listeners.
func (e *Edge) serverTLSConfig() *tls.Config {
	return tlsconf.ServerConfig(e.cfg.TLSConfig, e.certificateFor)
}

// storeSite records the certificates and route policies of a bundle that
// passed its build, for the handshakes and requests that follow.
func (e *Edge) storeSite(b *bundle.Bundle) {
	site, err := tlsconf.NewSite(b)
	if err != nil {
		e.log.Error("certificate left out; its hostname gets the default certificate", "tenant", b.Tenant, "revision", b.Revision, "error", err)
	}
	e.sites.Store(site)
}

// applyRoutePolicy sets HSTS or redirects to HTTPS, following the route's
// policy. It returns true when it wrote a redirect.
func (e *Edge) applyRoutePolicy(w http.ResponseWriter, r *http.Request, rt *runtime.Runtime, route string) bool {
	policy := e.sites.Get(rt.Tenant, rt.Hash).Route(route)
	port := int(e.httpsPort.Load())
	if port == 0 {
		port = 443
	}
	return policy.Apply(w, r, tlsconf.IsSecure(r, e.cfg.TrustedProxies), port)
}

// cleanPath removes "." and ".." segments and repeated slashes from a
// request path, the way net/http's ServeMux does, and keeps a trailing
// slash. The edge routes and forwards the cleaned path, so "/public/../admin"
// cannot reach the upstream of one route with the plugins of another. Paths
// that do not start with "/" (such as "*") are returned unchanged.
func cleanPath(requestPath string) string {
	if requestPath == "" || requestPath[0] != '/' {
		return requestPath
	}

	cleaned := path.Clean(requestPath)
	if strings.HasSuffix(requestPath, "/") && cleaned != "/" {
		cleaned += "/"
	}
	return cleaned
}
