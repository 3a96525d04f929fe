package config

import (
	"fmt"
	"net/url"
	"strconv"
)

// Upstream is a named group of backend targets that routes send traffic to,
// with how the edge balances, checks and reaches them. Every field but Name
// and Targets is optional, and its zero value keeps the default.
type Upstream struct {
	Name    string   `json:"name"`
	Targets []Target `json:"targets"`

	// Balance is the load-balancing policy: BalanceRoundRobin (smooth
	// weighted round robin), BalanceLeastConn or BalanceConsistentHash.
	// Empty means BalanceRoundRobin.
	Balance string `json:"balance,omitempty"`
	// HashOn is the consistent-hash key: HashOnClientAddr, HashOnHeader or
	// HashOnCookie. Empty means HashOnClientAddr. It is used only with
	// BalanceConsistentHash.
	HashOn string `json:"hash_on,omitempty"`
	// HashKey names the header or cookie whose value is hashed, such as
	// "X-User". It is required for HashOnHeader and HashOnCookie.
	HashKey string `json:"hash_key,omitempty"`
	// Retries is the number of further targets tried after a failed
	// attempt, 0 to MaxRetries. Nil means DefaultRetries.
	Retries *int `json:"retries,omitempty"`
	// Protocol is the protocol that the edge speaks to the targets: ProtocolAuto,
	// ProtocolHTTP1, ProtocolH2 or ProtocolH2C. Empty means ProtocolAuto.
	Protocol string `json:"protocol,omitempty"`
	// TLS configures https:// targets. Nil verifies them against the
	// system roots by their host name.
	TLS *UpstreamTLS `json:"tls,omitempty"`
	// HealthCheck configures active and passive health checks. Nil checks
	// nothing, so every target stays in the rotation.
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
}

// Target is one backend of an upstream. Weight is relative to the other
// targets of the same upstream; zero means 1.
type Target struct {
	URL    string `json:"url"`
	Weight int    `json:"weight"`
}

// Values of Upstream.Balance.
const (
	BalanceRoundRobin     = "round_robin"
	BalanceLeastConn      = "least_conn"
	BalanceConsistentHash = "consistent_hash"
)

// Values of Upstream.HashOn.
const (
	HashOnClientAddr = "client_addr"
	HashOnHeader     = "header"
	HashOnCookie     = "cookie"
)

// Values of Upstream.Protocol.
const (
	// ProtocolAuto speaks HTTP/1.1 to http:// targets and offers HTTP/2
	// and HTTP/1.1 by ALPN to https:// targets.
	ProtocolAuto = "auto"
	// ProtocolHTTP1 speaks HTTP/1.1 only.
	ProtocolHTTP1 = "http1"
	// ProtocolH2 speaks HTTP/2 over TLS only, so every target must be
	// https://.
	ProtocolH2 = "h2"
	// ProtocolH2C speaks HTTP/2 over cleartext TCP with prior knowledge
	// (RFC 9113 section 3.3), so every target must be http://.
	ProtocolH2C = "h2c"
)

// Limits and defaults of the upstream fields.
const (
	// DefaultRetries is the retry count of an upstream without one.
	DefaultRetries = 1
	// MaxRetries bounds Upstream.Retries.
	MaxRetries = 5
	// MaxHashKeyLength bounds Upstream.HashKey.
	MaxHashKeyLength = 128
)

// RetryCount returns the number of retries after a failed attempt.
func (u *Upstream) RetryCount() int {
	if u.Retries == nil {
		return DefaultRetries
	}
	return *u.Retries
}

// BalancePolicy returns the load-balancing policy with the default filled
// in.
func (u *Upstream) BalancePolicy() string {
	if u.Balance == "" {
		return BalanceRoundRobin
	}
	return u.Balance
}

// HashSource returns what the consistent hash reads, with the default
// filled in.
func (u *Upstream) HashSource() string {
	if u.HashOn == "" {
		return HashOnClientAddr
	}
	return u.HashOn
}

// ProtocolName returns the upstream protocol with the default filled in.
func (u *Upstream) ProtocolName() string {
	if u.Protocol == "" {
		return ProtocolAuto
	}
	return u.Protocol
}

// Validate checks an upstream and its targets.
func (u *Upstream) Validate() error {
	if err := ValidateName("name", u.Name); err != nil {
		return err
	}
	if len(u.Targets) == 0 || len(u.Targets) > MaxTargets {
		return invalid("targets", "an upstream needs 1 to %d targets, got %d", MaxTargets, len(u.Targets))
	}

	seen := make(map[string]bool, len(u.Targets))
	for i, target := range u.Targets {
		field := fmt.Sprintf("targets[%d]", i)
		if err := target.validate(field); err != nil {
			return err
		}
		if seen[target.URL] {
			return invalid(field+".url", "%q is listed twice: list each target once and raise its weight instead", target.URL)
		}
		seen[target.URL] = true
	}

	if err := u.validateBalance(); err != nil {
		return err
	}
	if u.Retries != nil && (*u.Retries < 0 || *u.Retries > MaxRetries) {
		return invalid("retries", "retries %d is out of range: use 0 to %d, or leave it out for the default of %d", *u.Retries, MaxRetries, DefaultRetries)
	}
	if err := u.validateProtocol(); err != nil {
		return err
	}
	if u.TLS != nil {
		if err := u.TLS.validate("tls"); err != nil {
			return err
		}
	}
	if u.HealthCheck != nil {
		return u.HealthCheck.validate("health_check")
	}
	return nil
}

func (t *Target) validate(field string) error {
	parsed, err := url.Parse(t.URL)
	if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return invalid(field+".url", "%q is not a valid target: use an absolute http:// or https:// URL such as \"https://api.example.com:8443\"", t.URL)
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

func (u *Upstream) validateBalance() error {
	switch u.Balance {
	case "", BalanceRoundRobin, BalanceLeastConn:
		if u.HashOn != "" || u.HashKey != "" {
			return invalid("hash_on", "hash_on and hash_key apply only to balance %q: remove them or set balance to %q", BalanceConsistentHash, BalanceConsistentHash)
		}
		return nil
	case BalanceConsistentHash:
	default:
		return invalid("balance", "balance %q is invalid: use %q, %q or %q", u.Balance, BalanceRoundRobin, BalanceLeastConn, BalanceConsistentHash)
	}

	switch u.HashOn {
	case "", HashOnClientAddr:
		if u.HashKey != "" {
			return invalid("hash_key", "hash_key %q is not used with hash_on %q: remove it, or hash on %q or %q", u.HashKey, HashOnClientAddr, HashOnHeader, HashOnCookie)
		}
		return nil
	case HashOnHeader, HashOnCookie:
	default:
		return invalid("hash_on", "hash_on %q is invalid: use %q, %q or %q", u.HashOn, HashOnClientAddr, HashOnHeader, HashOnCookie)
	}

	if u.HashKey == "" || len(u.HashKey) > MaxHashKeyLength || !isToken(u.HashKey) {
		return invalid("hash_key", "hash_key %q is not a valid %s name: give 1 to %d letters, digits or one of !#$%%&'*+-.^_`|~, such as \"X-User\"", u.HashKey, u.HashOn, MaxHashKeyLength)
	}
	return nil
}

func (u *Upstream) validateProtocol() error {
	var want string
	switch u.Protocol {
	case "", ProtocolAuto, ProtocolHTTP1:
		return nil
	case ProtocolH2:
		want = "https"
	case ProtocolH2C:
		want = "http"
	default:
		return invalid("protocol", "protocol %q is invalid: use %q, %q, %q or %q", u.Protocol, ProtocolAuto, ProtocolHTTP1, ProtocolH2, ProtocolH2C)
	}

	for i, target := range u.Targets {
		parsed, err := url.Parse(target.URL)
		if err == nil && parsed.Scheme != want {
			return invalid(fmt.Sprintf("targets[%d].url", i), "%q does not fit protocol %q: use a %s:// URL, or another protocol", target.URL, u.Protocol, want)
		}
	}
	return nil
}

// isToken reports whether name is an RFC 9110 section 5.6.2 token, the
// syntax of header and cookie names.
func isToken(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !alnum && !isTokenSymbol(c) {
			return false
		}
	}
	return name != ""
}

func isTokenSymbol(c byte) bool {
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
