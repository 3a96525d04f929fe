package config

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError reports one invalid field of a resource: the JSON path of the
// field and what to change.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

func invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

var (
	slugPattern    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	namePattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	versionPattern = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
)

// Limits on the size of one resource. They keep a single tenant's bundle
// small enough to compile and ship quickly.
const (
	MaxTargets      = 64
	MaxPaths        = 32
	MaxPathLength   = 1024
	MaxNameLength   = 63
	MaxTenantName   = 200
	MaxConfigLength = 64 << 10

	// DefaultTimeoutMS and MaxTimeoutMS bound one hook call of a binding.
	DefaultTimeoutMS = 50
	MaxTimeoutMS     = 1000
	// MaxPriority bounds Binding.Priority in both directions.
	MaxPriority = 100000
	// MaxAllowHosts bounds Binding.AllowHosts.
	MaxAllowHosts = 16
)

var allowHostPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})?(:[0-9]{1,5})?$`)

// ValidateSlug checks that slug is a lowercase DNS label.
func ValidateSlug(field, slug string) error {
	if !slugPattern.MatchString(slug) {
		return invalid(field, "%q is not a valid slug: use 1 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit", slug)
	}
	return nil
}

// ValidateName checks the name of an upstream, route or plugin.
func ValidateName(field, name string) error {
	if !namePattern.MatchString(name) {
		return invalid(field, "%q is not a valid name: use 1 to 63 letters, digits, dots, underscores and hyphens, starting with a letter or digit", name)
	}
	return nil
}

// ValidateVersion checks that version is a semantic version such as "1.2.0".
func ValidateVersion(field, version string) error {
	if !versionPattern.MatchString(version) {
		return invalid(field, "%q is not a semantic version: use MAJOR.MINOR.PATCH such as \"1.0.0\"", version)
	}
	return nil
}

// Validate checks a tenant.
func (t *Tenant) Validate() error {
	if err := ValidateSlug("slug", t.Slug); err != nil {
		return err
	}
	return validateDisplayName("name", t.Name)
}

// validateDisplayName checks a human-readable name: present, valid UTF-8,
// free of control characters, and at most MaxTenantName characters.
func validateDisplayName(field, name string) error {
	trimmed := strings.TrimSpace(name)
	switch {
	case trimmed == "":
		return invalid(field, "%s is missing or blank: give 1 to %d characters", field, MaxTenantName)
	case !utf8.ValidString(name):
		return invalid(field, "%s is not valid UTF-8: send it as UTF-8 text", field)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return invalid(field, "%s contains a control character: remove it", field)
	case utf8.RuneCountInString(trimmed) > MaxTenantName:
		return invalid(field, "%s is %d characters long: use at most %d", field, utf8.RuneCountInString(trimmed), MaxTenantName)
	}
	return nil
}

// Validate checks an upstream and its targets.
func (u *Upstream) Validate() error {
	if err := ValidateName("name", u.Name); err != nil {
		return err
	}
	if len(u.Targets) == 0 || len(u.Targets) > MaxTargets {
		return invalid("targets", "an upstream needs 1 to %d targets, got %d", MaxTargets, len(u.Targets))
	}
	for i, target := range u.Targets {
		if err := target.validate(fmt.Sprintf("targets[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

func (t *Target) validate(field string) error {
	parsed, err := url.Parse(t.URL)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return invalid(field+".url", "%q is not a valid target: use an absolute http:// or https:// URL such as \"http://127.0.0.1:9000\"", t.URL)
	}
	if parsed.RawQuery != "" || parsed.Fragment != "" || parsed.User != nil {
		return invalid(field+".url", "%q must not carry a query, fragment or user info", t.URL)
	}
	if port := parsed.Port(); port != "" {
		number, err := strconv.Atoi(port)
		if err != nil || number < 1 || number > 65535 {
			return invalid(field+".url", "%q has port %q: use a port from 1 to 65535", t.URL, port)
		}
	}
	if t.Weight < 0 || t.Weight > 1000 {
		return invalid(field+".weight", "weight %d is out of range: use 0 to 1000 (0 means 1)", t.Weight)
	}
	return nil
}

var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
	http.MethodTrace: true, http.MethodConnect: true,
}

// Validate checks a route. It does not check that the upstream exists; the
// store does that because it needs the tenant's other resources.
func (r *Route) Validate() error {
	if err := ValidateName("name", r.Name); err != nil {
		return err
	}
	if len(r.Paths) == 0 || len(r.Paths) > MaxPaths {
		return invalid("paths", "a route needs 1 to %d paths, got %d", MaxPaths, len(r.Paths))
	}
	if err := validatePaths(r.Paths); err != nil {
		return err
	}
	if err := validateMethods(r.Methods); err != nil {
		return err
	}
	if err := ValidateName("upstream", r.Upstream); err != nil {
		return err
	}
	return nil
}

// validatePaths checks route path prefixes. The edge matches the decoded,
// cleaned request path, so a prefix with percent-encoding, dot segments or
// empty segments could never match and is rejected.
func validatePaths(paths []string) error {
	seen := make(map[string]bool, len(paths))
	for i, path := range paths {
		field := fmt.Sprintf("paths[%d]", i)
		if !strings.HasPrefix(path, "/") || len(path) > MaxPathLength || strings.ContainsAny(path, "?# \t\r\n") {
			return invalid(field, "%q is not a valid path prefix: start with \"/\", use at most %d characters and no query, fragment or spaces", path, MaxPathLength)
		}
		if strings.Contains(path, "%") {
			return invalid(field, "%q contains percent-encoding: write the path decoded, as requests are matched after decoding", path)
		}
		if hasDotOrEmptySegment(path) {
			return invalid(field, "%q contains \".\", \"..\" or empty segments: write the cleaned path, as requests are matched after cleaning", path)
		}
		if seen[path] {
			return invalid(field, "%q is listed twice: list each path once", path)
		}
		seen[path] = true
	}
	return nil
}

func hasDotOrEmptySegment(path string) bool {
	segments := strings.Split(path[1:], "/")
	for i, segment := range segments {
		last := i == len(segments)-1
		if segment == "." || segment == ".." || (segment == "" && !last) {
			return true
		}
	}
	return false
}

func validateMethods(methods []string) error {
	seen := make(map[string]bool, len(methods))
	for i, method := range methods {
		field := fmt.Sprintf("methods[%d]", i)
		if !knownMethods[method] {
			return invalid(field, "%q is not an HTTP method: use upper-case names such as \"GET\" or \"POST\"", method)
		}
		if seen[method] {
			return invalid(field, "%q is listed twice: list each method once", method)
		}
		seen[method] = true
	}
	return nil
}

// Validate checks a binding's own fields. The store checks that the plugin
// version and the route exist.
func (b *Binding) Validate() error {
	if err := ValidateName("plugin", b.Plugin); err != nil {
		return err
	}
	if err := ValidateVersion("version", b.Version); err != nil {
		return err
	}
	if b.Route != "" {
		if err := ValidateName("route", b.Route); err != nil {
			return err
		}
	}
	if len(b.Config) > MaxConfigLength {
		return invalid("config", "config is %d bytes, above the limit of %d", len(b.Config), MaxConfigLength)
	}
	if len(b.Config) > 0 && !isJSONObjectOrNull(b.Config) {
		return invalid("config", "config must be a JSON object such as {\"header\": \"X-Hello\"}")
	}
	return b.validateRunFields()
}

// validateRunFields checks priority, timeout_ms, on_error and allow_hosts.
func (b *Binding) validateRunFields() error {
	if b.Priority != nil && (*b.Priority < -MaxPriority || *b.Priority > MaxPriority) {
		return invalid("priority", "priority %d is out of range: use %d to %d", *b.Priority, -MaxPriority, MaxPriority)
	}
	if b.TimeoutMS < 0 || b.TimeoutMS > MaxTimeoutMS {
		return invalid("timeout_ms", "timeout_ms %d is out of range: use 1 to %d, or 0 for the default of %d", b.TimeoutMS, MaxTimeoutMS, DefaultTimeoutMS)
	}
	if b.OnError != "" && b.OnError != OnErrorOpen && b.OnError != OnErrorClosed {
		return invalid("on_error", "on_error %q is invalid: use %q to skip a failing plugin or %q to end the request with 500", b.OnError, OnErrorOpen, OnErrorClosed)
	}
	if len(b.AllowHosts) > MaxAllowHosts {
		return invalid("allow_hosts", "allow_hosts has %d entries, above the limit of %d", len(b.AllowHosts), MaxAllowHosts)
	}
	for i, host := range b.AllowHosts {
		if !allowHostPattern.MatchString(host) {
			return invalid(fmt.Sprintf("allow_hosts[%d]", i), "%q is not a host: use a name or address with an optional port, such as \"api.example.com\" or \"127.0.0.1:8080\", without a scheme", host)
		}
	}
	return nil
}
