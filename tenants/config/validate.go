package config

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FieldError reports one invalid field of a resource: the JSON path of the
// field and what to change.
type FieldError struct {
	Field string
	// Message is the English text, Format filled with Args.
	Message string
	// Format is the English printf format of Message, which a translator
	// looks up to render the message in another language. It is empty for
	// a FieldError built without Invalid.
	Format string
	// Args are the values of Format's verbs.
	Args []any
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// Invalid builds the FieldError of field with the message format filled
// with args. The format must be a string literal, so that the portal's
// translations can find it.
func Invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

func invalid(field, format string, args ...any) *FieldError {
	return Invalid(field, format, args...)
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
	if err := r.validateMatching(); err != nil {
		return err
	}
	if err := r.Timeouts.Validate(); err != nil {
		return err
	}
	return r.validateTLS()
}

// validatePaths checks route paths. The edge matches the decoded, cleaned
// request path (docs/paths.md), so a path with percent-encoding, dot
// segments, empty segments or a backslash could never match and is
// rejected.
func validatePaths(paths []string) error {
	seen := make(map[string]bool, len(paths))
	for i, path := range paths {
		field := fmt.Sprintf("paths[%d]", i)
		if err := validatePath(field, path); err != nil {
			return err
		}
		if seen[path] {
			return invalid(field, "%q is listed twice: list each path once", path)
		}
		seen[path] = true
	}
	return nil
}

func validatePath(field, path string) error {
	kind, bare, _ := ParsePath(path)
	if !strings.HasPrefix(bare, "/") || len(path) > MaxPathLength || strings.ContainsAny(bare, "?# \\") || strings.IndexFunc(bare, unicode.IsControl) >= 0 {
		return invalid(field, "%q is not a valid path: start with \"/\" (or \"=/\" for an exact path), use at most %d characters and no query, fragment, spaces, backslashes or control characters", path, MaxPathLength)
	}
	if strings.Contains(bare, "%") {
		return invalid(field, "%q contains percent-encoding: write the path decoded, as requests are matched after decoding", path)
	}
	if hasDotOrEmptySegment(bare) {
		return invalid(field, "%q contains \".\", \"..\" or empty segments: write the cleaned path, as requests are matched after cleaning", path)
	}
	if kind == PathPattern || !strings.ContainsAny(bare, "{}") {
		return nil
	}

	if kind == PathExact {
		return invalid(field, "%q mixes the exact marker \"=\" with braces: an exact path takes no parameters, so drop the \"=\" for a pattern such as \"/users/{id}\"", path)
	}
	_, err := parsePattern(bare)
	return invalidPattern(field, path, err)
}

// invalidPattern returns the field error of a path that parsePattern
// rejected with err, with a literal format per problem so that the portal
// can translate the whole message.
func invalidPattern(field, path string, err error) error {
	var problem *patternError
	if !errors.As(err, &problem) {
		return invalid(field, "%q is not a valid pattern: %v", path, err)
	}
	switch problem.problem {
	case catchAllNotLast:
		return invalid(field, "%q is not a valid pattern: catch-all %q is not the last segment: move it to the end", path, problem.name)
	case repeatedParameter:
		return invalid(field, "%q is not a valid pattern: parameter %q appears twice: give each parameter its own name", path, problem.name)
	}
	return invalid(field, "%q is not a valid pattern: segment %q is not a parameter: write {name} or {name...} as a whole segment, with a name of 1 to 32 letters, digits and underscores", path, problem.name)
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

var (
	routeHostPattern  = regexp.MustCompile(`^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	headerNamePattern = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// validateMatching checks hosts, headers, query, priority and
// max_body_bytes.
func (r *Route) validateMatching() error {
	if err := validateRouteHosts(r.Hosts); err != nil {
		return err
	}
	if err := validateMatchers("headers", r.Headers, true); err != nil {
		return err
	}
	if err := validateMatchers("query", r.Query, false); err != nil {
		return err
	}
	if r.Priority < -MaxRoutePriority || r.Priority > MaxRoutePriority {
		return invalid("priority", "priority %d is out of range: use %d to %d, where higher wins", r.Priority, -MaxRoutePriority, MaxRoutePriority)
	}
	if r.MaxBodyBytes < 0 || r.MaxBodyBytes > MaxBodyBytesCeiling {
		return invalid("max_body_bytes", "max_body_bytes %d is out of range: use 1 to %d, or 0 for the default of %d", r.MaxBodyBytes, MaxBodyBytesCeiling, DefaultMaxBodyBytes)
	}
	return nil
}

func validateRouteHosts(hosts []string) error {
	if len(hosts) > MaxRouteHosts {
		return invalid("hosts", "hosts has %d entries, above the limit of %d", len(hosts), MaxRouteHosts)
	}

	seen := make(map[string]bool, len(hosts))
	for i, host := range hosts {
		field := fmt.Sprintf("hosts[%d]", i)
		if len(host) > 253 || !routeHostPattern.MatchString(host) {
			return invalid(field, "%q is not a host name: use a name such as \"api.acme.example\" or a wildcard such as \"*.acme.example\", without scheme, port or path", host)
		}
		key := strings.ToLower(host)
		if seen[key] {
			return invalid(field, "%q is listed twice: list each host once", host)
		}
		seen[key] = true
	}
	return nil
}

// validateMatchers checks the header or query matchers in field. Header
// names are tokens (RFC 9110 section 5.1) and compare without case; query
// argument names are any text and compare exactly.
func validateMatchers(field string, matchers []Matcher, header bool) error {
	if len(matchers) > MaxRouteMatchers {
		return invalid(field, "%s has %d entries, above the limit of %d", field, len(matchers), MaxRouteMatchers)
	}

	seen := make(map[string]bool, len(matchers))
	for i, matcher := range matchers {
		item := fmt.Sprintf("%s[%d]", field, i)
		key := matcher.Name
		if header {
			key = strings.ToLower(key)
		}
		if err := validateMatcher(item, matcher, header); err != nil {
			return err
		}
		if seen[key] {
			return invalid(item+".name", "%q is listed twice: put one matcher per name", matcher.Name)
		}
		seen[key] = true
	}
	return nil
}

func validateMatcher(item string, matcher Matcher, header bool) error {
	switch {
	case matcher.Name == "":
		return invalid(item+".name", "name is missing: give the header or query argument to match")
	case len(matcher.Name) > MaxMatcherLength:
		return invalid(item+".name", "name is %d bytes long: use at most %d", len(matcher.Name), MaxMatcherLength)
	case header && !headerNamePattern.MatchString(matcher.Name):
		return invalid(item+".name", "%q is not a header name: use letters, digits and -, such as \"X-Env\"", matcher.Name)
	case !utf8.ValidString(matcher.Name) || strings.IndexFunc(matcher.Name, unicode.IsControl) >= 0:
		return invalid(item+".name", "%q contains invalid UTF-8 or a control character: remove it", matcher.Name)
	}
	if matcher.Value == nil {
		return nil
	}

	value := *matcher.Value
	switch {
	case len(value) > MaxMatcherLength:
		return invalid(item+".value", "value is %d bytes long: use at most %d", len(value), MaxMatcherLength)
	case !utf8.ValidString(value) || strings.IndexFunc(value, unicode.IsControl) >= 0:
		return invalid(item+".value", "value %q contains invalid UTF-8 or a control character: remove it", value)
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
	if b.Consumer != "" {
		if err := ValidateName("consumer", b.Consumer); err != nil {
			return err
		}
	}
	if b.Route != "" && b.Consumer != "" {
		return invalid("consumer", "a binding applies to one route or to one consumer, not both: leave route or consumer empty")
	}
	if len(b.Config) > MaxConfigLength {
		return invalid("config", "config is %d bytes, above the limit of %d", len(b.Config), MaxConfigLength)
	}
	if len(b.Config) > 0 && !isJSONObjectOrNull(b.Config) {
		return invalid("config", "config must be a JSON object such as {\"header\": \"X-Hello\"}")
	}
	return b.validateRunFields()
}

// validateRunFields checks priority, timeout_ms, on_error, tier and allow_hosts.
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
	if b.Tier != "" && b.Tier != TierSandboxed && b.Tier != TierTrusted {
		return invalid("tier", "tier %q is invalid: use %q to run the plugin in a worker process, %q (operator only) to run it inside the edge, or leave it empty to follow the version's reviewed flag", b.Tier, TierSandboxed, TierTrusted)
	}
	if len(b.AllowHosts) > MaxAllowHosts {
		return invalid("allow_hosts", "allow_hosts has %d entries, above the limit of %d", len(b.AllowHosts), MaxAllowHosts)
	}
	for i, host := range b.AllowHosts {
		if !ValidAllowHost(host) {
			return invalid(fmt.Sprintf("allow_hosts[%d]", i), "%q is not a host: use a name or address with an optional port, such as \"api.example.com\", \"203.0.113.7:8443\" or \"[2001:db8::7]:8443\", without a scheme", host)
		}
	}
	return nil
}

// ValidAllowHost reports whether host is an allow_hosts entry: a name or
// IPv4 address with an optional port, or an IPv6 address, bare or in
// brackets, with an optional port after the brackets.
func ValidAllowHost(host string) bool {
	if allowHostPattern.MatchString(host) {
		return true
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.Is6() && addr.Zone() == ""
	}
	if inner, found := strings.CutPrefix(host, "["); found && strings.HasSuffix(inner, "]") {
		addr, err := netip.ParseAddr(strings.TrimSuffix(inner, "]"))
		return err == nil && addr.Is6() && addr.Zone() == ""
	}
	addrPort, err := netip.ParseAddrPort(host)
	return err == nil && addrPort.Addr().Is6() && addrPort.Addr().Zone() == ""
}
