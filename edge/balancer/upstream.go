package balancer

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/url"

	"portcullis.dev/tenants/config"
)

// Upstream is the part of an upstream's config that the proxy reads with
// each pick: where health state lives, how to reach the targets and how
// often to retry.
type Upstream struct {
	// Tenant and Name key the targets' health state.
	Tenant string
	Name   string
	// Retries is the number of further targets tried after a failed
	// attempt.
	Retries int
	// Protocol is a config.Protocol* value.
	Protocol string
	// TLS is the client config for https:// targets. Nil means the
	// system roots and each target's host name.
	TLS *tls.Config
	// TLSID changes whenever the TLS settings change, so connection pools
	// are not shared between different settings.
	TLSID string
	// Passive configures passive health checks. Nil counts no failures.
	Passive *config.PassiveCheck
	// Timeouts are the route's timeouts. Zero fields mean the defaults.
	Timeouts config.Timeouts
}

// WithUpstream returns a copy of b that carries upstream. The copy shares
// b's policy state, so both spread requests as one balancer.
func (b *Balancer) WithUpstream(upstream Upstream) *Balancer {
	copied := *b
	copied.Upstream = upstream
	return &copied
}

// WithTimeouts returns a copy of b with the route timeouts set. The copy
// shares b's policy state.
func (b *Balancer) WithTimeouts(timeouts config.Timeouts) *Balancer {
	copied := *b
	copied.Upstream.Timeouts = timeouts
	return &copied
}

// URLs returns the target URLs as strings, in target order. Callers must
// not modify the returned slice.
func (b *Balancer) URLs() []string {
	return b.urls
}

// Build returns the balancer of one upstream of tenant, with its policy and
// the settings the proxy needs. It fails when a target URL is not an
// absolute http:// or https:// URL, the policy is unknown, or the TLS
// fields do not parse.
func Build(tenant string, upstream *config.Upstream) (*Balancer, error) {
	targets := make([]Target, 0, len(upstream.Targets))
	for _, target := range upstream.Targets {
		parsed, err := parseTarget(target.URL)
		if err != nil {
			return nil, err
		}
		targets = append(targets, Target{URL: parsed, Weight: target.Weight})
	}

	b, err := New(targets, Options{Policy: upstream.BalancePolicy(), HashOn: upstream.HashSource(), HashKey: upstream.HashKey})
	if err != nil {
		return nil, err
	}
	compiled, err := Compile(tenant, upstream)
	if err != nil {
		return nil, err
	}
	return b.WithUpstream(compiled), nil
}

// Compile returns the Upstream settings of one upstream of tenant. It fails
// when the TLS fields do not parse.
func Compile(tenant string, upstream *config.Upstream) (Upstream, error) {
	compiled := Upstream{
		Tenant:   tenant,
		Name:     upstream.Name,
		Retries:  upstream.RetryCount(),
		Protocol: upstream.ProtocolName(),
	}
	if upstream.HealthCheck != nil {
		compiled.Passive = upstream.HealthCheck.Passive
	}
	if upstream.TLS == nil {
		return compiled, nil
	}

	tlsConfig, err := upstream.TLS.ClientConfig()
	if err != nil {
		return Upstream{}, err
	}
	digest := sha256.Sum256([]byte(upstream.TLS.CAPEM + "\x00" + upstream.TLS.ClientCertPEM + "\x00" + upstream.TLS.ClientKeyPEM + "\x00" + upstream.TLS.ServerName))
	compiled.TLS = tlsConfig
	compiled.TLSID = hex.EncodeToString(digest[:8])
	return compiled, nil
}

func parseTarget(raw string) (*url.URL, error) {
	parsed, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target %q is invalid: %w", raw, err)
	}
	if (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, fmt.Errorf("target %q is invalid: use an absolute http:// or https:// URL", raw)
	}
	return parsed, nil
}
