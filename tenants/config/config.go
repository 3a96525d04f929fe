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
}

// Upstream is a named group of backend targets that routes send traffic to.
type Upstream struct {
	Name    string   `json:"name"`
	Targets []Target `json:"targets"`
}

// Target is one backend of an upstream. Weight is relative to the other
// targets of the same upstream; zero means 1.
type Target struct {
	URL    string `json:"url"`
	Weight int    `json:"weight"`
}

// Route matches requests of a tenant and sends them to an upstream. A path
// matches as a prefix; an empty method list matches every method.
type Route struct {
	Name     string   `json:"name"`
	Paths    []string `json:"paths"`
	Methods  []string `json:"methods"`
	Upstream string   `json:"upstream"`
}

// Binding attaches one published plugin version to a tenant's traffic. An
// empty Route applies the plugin to every route of the tenant.
type Binding struct {
	ID      string          `json:"id"`
	Plugin  string          `json:"plugin"`
	Version string          `json:"version"`
	Route   string          `json:"route"`
	Config  json.RawMessage `json:"config"`
}
