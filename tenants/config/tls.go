package config

import (
	"fmt"
	"net/netip"
	"strings"
)

// Limits of custom domains and of HSTS.
const (
	// MaxHostnameLength is the longest hostname in its text form (RFC 1035
	// section 2.3.4 allows 255 octets on the wire, which is 253 characters
	// without the trailing dot).
	MaxHostnameLength = 253
	// MaxLabelLength is the longest label of a hostname (RFC 1035 section
	// 2.3.4).
	MaxLabelLength = 63
	// MaxHSTSMaxAge bounds HSTS.MaxAge: two years in seconds, the value
	// that browsers' preload lists ask for.
	MaxHSTSMaxAge = 2 * 365 * 24 * 60 * 60
)

// HSTS is a route's HTTP Strict Transport Security policy (RFC 6797). The
// edge sends it only on responses over TLS, because RFC 6797 section 7.2
// forbids the header over plain HTTP.
type HSTS struct {
	// MaxAge is the max-age directive in seconds, 0 to MaxHSTSMaxAge. Zero
	// makes browsers drop the policy.
	MaxAge int `json:"max_age"`
	// IncludeSubdomains adds the includeSubDomains directive.
	IncludeSubdomains bool `json:"include_subdomains,omitempty"`
	// Preload adds the preload directive.
	Preload bool `json:"preload,omitempty"`
}

// Header returns the value of the Strict-Transport-Security header.
func (h *HSTS) Header() string {
	value := fmt.Sprintf("max-age=%d", h.MaxAge)
	if h.IncludeSubdomains {
		value += "; includeSubDomains"
	}
	if h.Preload {
		value += "; preload"
	}
	return value
}

// Validate checks the policy. Preload needs includeSubDomains and a max-age
// of at least one year, as the preload lists require.
func (h *HSTS) Validate() error {
	if h.MaxAge < 0 || h.MaxAge > MaxHSTSMaxAge {
		return invalid("hsts.max_age", "max_age %d is out of range: use 0 to %d seconds", h.MaxAge, MaxHSTSMaxAge)
	}
	if h.Preload && (!h.IncludeSubdomains || h.MaxAge < MaxHSTSMaxAge/2) {
		return invalid("hsts.preload", "preload needs include_subdomains true and a max_age of at least %d seconds (one year)", MaxHSTSMaxAge/2)
	}
	return nil
}

// validateTLS checks the route's HTTPS redirect and HSTS fields.
func (r *Route) validateTLS() error {
	if r.HSTS == nil {
		return nil
	}
	return r.HSTS.Validate()
}

// NormalizeHostname returns the lowercase form of a custom domain's
// hostname without a trailing dot, or an error that names the rule it
// breaks. A hostname has at least two labels of letters, digits and
// hyphens, none starting or ending with a hyphen. IP literals and wildcards
// are rejected, because the edge chooses certificates by exact server name.
func NormalizeHostname(field, hostname string) (string, error) {
	name := strings.ToLower(strings.TrimSuffix(hostname, "."))

	if name == "" {
		return "", invalid(field, "hostname is empty: use a DNS name such as api.example.com")
	}
	if len(name) > MaxHostnameLength {
		return "", invalid(field, "hostname is %d characters, above the limit of %d", len(name), MaxHostnameLength)
	}
	if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err == nil {
		return "", invalid(field, "%q is an IP address: use a DNS name such as api.example.com", hostname)
	}
	if strings.Contains(name, "*") {
		return "", invalid(field, "%q is a wildcard, which custom domains do not support: add each hostname on its own", hostname)
	}

	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return "", invalid(field, "%q has one label: use a fully qualified name such as api.example.com", hostname)
	}
	for _, label := range labels {
		if err := checkLabel(field, hostname, label); err != nil {
			return "", err
		}
	}
	if isAllDigits(labels[len(labels)-1]) {
		return "", invalid(field, "%q ends in a numeric label, which no top-level domain has: use a DNS name such as api.example.com", hostname)
	}
	return name, nil
}

func checkLabel(field, hostname, label string) error {
	if label == "" {
		return invalid(field, "%q has an empty label: remove the repeated or leading dot", hostname)
	}
	if len(label) > MaxLabelLength {
		return invalid(field, "%q has a label of %d characters, above the limit of %d", hostname, len(label), MaxLabelLength)
	}
	if label[0] == '-' || label[len(label)-1] == '-' {
		return invalid(field, "%q has a label that starts or ends with a hyphen", hostname)
	}
	for _, c := range label {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return invalid(field, "%q contains %q: use letters, digits, hyphens and dots only, with internationalized names in their xn-- form", hostname, c)
		}
	}
	return nil
}

func isAllDigits(label string) bool {
	for _, c := range label {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
