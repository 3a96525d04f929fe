package edge

import (
	"net"
	"path"
	"strings"

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
