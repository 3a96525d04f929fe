// Package config defines the tenant configuration that the portal stores and
// the edge serves: tenants, upstreams, routes and plugin bindings, with the
// validation rules they share.
package config

import (
	"encoding/json"
)

// Tenant is one customer of the service. Its slug is a DNS label, so the edge
// serves it at "<slug>.<base domain>".
type Tenant struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
	// DebugHeaders makes the edge add X-Portcullis-Plugins, the plugin
	// versions that handled the request, to each response.
	DebugHeaders bool `json:"debug_headers,omitempty"`
}

// Binding attaches one published plugin version to a tenant's traffic. Its
// scope is one of three: the whole tenant (Route and Consumer empty), one
// route (Route set) or one consumer (Consumer set) on every route. For one
// plugin, a consumer-scope binding replaces a route-scope one, which
// replaces a tenant-scope one.
//
// The run-time fields are optional, and their zero values keep the
// defaults: the plugin's own priority, DefaultTimeoutMS, OnErrorClosed and
// enabled.
type Binding struct {
	ID      string          `json:"id"`
	Plugin  string          `json:"plugin"`
	Version string          `json:"version"`
	Route   string          `json:"route"`
	Config  json.RawMessage `json:"config"`

	// Consumer names the consumer whose requests the binding applies to,
	// once a plugin has identified the consumer with ctx.consumer.set.
	Consumer string `json:"consumer,omitempty"`

	// Priority orders the plugins of one phase: higher runs first. Nil
	// means the priority that the plugin version was published with.
	Priority *int `json:"priority,omitempty"`
	// TimeoutMS bounds each hook call, 1 to MaxTimeoutMS. Zero means
	// DefaultTimeoutMS.
	TimeoutMS int `json:"timeout_ms,omitempty"`
	// OnError is OnErrorOpen or OnErrorClosed. Empty means OnErrorClosed.
	OnError string `json:"on_error,omitempty"`
	// Enabled false keeps the binding without running it. Nil means true.
	Enabled *bool `json:"enabled,omitempty"`
	// AllowHosts lists the hosts, as "host" or "host:port", that the
	// plugin may reach with ctx.http. Empty allows none.
	AllowHosts []string `json:"allow_hosts,omitempty"`
	// Tier chooses where the binding's hooks run: TierSandboxed in a worker
	// process, TierTrusted inside the edge process. Empty follows the plugin
	// version's reviewed flag. Only an operator may set TierTrusted.
	Tier string `json:"tier,omitempty"`
}

// Values of Binding.Tier.
const (
	// TierSandboxed runs the binding's hooks in a plugin worker process.
	TierSandboxed = "sandboxed"
	// TierTrusted runs the binding's hooks inside the edge process.
	TierTrusted = "trusted"
)

// Values of Binding.OnError.
const (
	// OnErrorOpen skips a failing plugin and serves the request on.
	OnErrorOpen = "open"
	// OnErrorClosed ends the request with a 500 problem document.
	OnErrorClosed = "closed"
)

// IsEnabled reports whether the binding runs.
func (b *Binding) IsEnabled() bool {
	return b.Enabled == nil || *b.Enabled
}

// Timeout returns the binding's hook deadline in milliseconds.
func (b *Binding) Timeout() int {
	if b.TimeoutMS == 0 {
		return DefaultTimeoutMS
	}
	return b.TimeoutMS
}
