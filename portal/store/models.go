package store

import (
	"time"
)

// The rows below map the database schema, which the SQL files under
// migrations/ define. Tenant resources carry TenantID, and every query of
// them filters on it.

type tenantRow struct {
	ID       uint   `gorm:"primaryKey"`
	Slug     string `gorm:"size:63;not null;uniqueIndex"`
	Name     string `gorm:"size:200;not null"`
	Revision int64  `gorm:"not null"`
	// DebugHeaders is config.Tenant.DebugHeaders.
	DebugHeaders bool `gorm:"not null;default:false"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (tenantRow) TableName() string { return "tenants" }

type upstreamRow struct {
	ID       uint       `gorm:"primaryKey"`
	TenantID uint       `gorm:"not null;uniqueIndex:idx_upstreams_tenant_name,priority:1"`
	Tenant   *tenantRow `gorm:"constraint:OnDelete:CASCADE"`
	Name     string     `gorm:"size:63;not null;uniqueIndex:idx_upstreams_tenant_name,priority:2"`
	// Targets is the JSON array of config.Target.
	Targets   string `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (upstreamRow) TableName() string { return "upstreams" }

type routeRow struct {
	ID       uint       `gorm:"primaryKey"`
	TenantID uint       `gorm:"not null;uniqueIndex:idx_routes_tenant_name,priority:1"`
	Tenant   *tenantRow `gorm:"constraint:OnDelete:CASCADE"`
	Name     string     `gorm:"size:63;not null;uniqueIndex:idx_routes_tenant_name,priority:2"`
	// Paths and Methods are JSON arrays of strings.
	Paths      string       `gorm:"not null"`
	Methods    string       `gorm:"not null"`
	UpstreamID uint         `gorm:"not null;index"`
	Upstream   *upstreamRow `gorm:"constraint:OnDelete:RESTRICT"`
	// Settings is a JSON object of the route's hosts, headers, query,
	// priority, max_body_bytes and timeouts.
	Settings string `gorm:"not null;default:'{}'"`
	// HTTPSRedirect and HSTS are config.Route's; HSTS is JSON, "" for none.
	HTTPSRedirect bool   `gorm:"column:https_redirect;not null;default:false"`
	HSTS          string `gorm:"column:hsts;not null;default:''"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (routeRow) TableName() string { return "routes" }

type pluginVersionRow struct {
	ID      uint   `gorm:"primaryKey"`
	Name    string `gorm:"size:63;not null;uniqueIndex:idx_plugin_versions_name_version,priority:1"`
	Version string `gorm:"size:128;not null;uniqueIndex:idx_plugin_versions_name_version,priority:2"`
	Source  string `gorm:"not null"`
	// SHA256 is the hex SHA-256 of Source.
	SHA256 string `gorm:"column:sha256;size:64;not null"`
	// ConfigSchema is the JSON Schema that binding configs must match.
	ConfigSchema string `gorm:"not null"`
	// Priority is the default priority of the version's bindings.
	Priority int `gorm:"not null;default:0"`
	// Readme is the version's README in Markdown.
	Readme string `gorm:"not null;default:''"`
	// TestVectors is the JSON array of the version's test vectors.
	TestVectors string `gorm:"not null;default:'[]'"`
	CreatedAt   time.Time
}

func (pluginVersionRow) TableName() string { return "plugin_versions" }

type bindingRow struct {
	ID              uint              `gorm:"primaryKey"`
	PublicID        string            `gorm:"size:32;not null;uniqueIndex"`
	TenantID        uint              `gorm:"not null;index"`
	Tenant          *tenantRow        `gorm:"constraint:OnDelete:CASCADE"`
	PluginVersionID uint              `gorm:"not null;index"`
	PluginVersion   *pluginVersionRow `gorm:"constraint:OnDelete:RESTRICT"`
	// RouteID is nil when the binding applies to every route of the tenant.
	RouteID *uint     `gorm:"index"`
	Route   *routeRow `gorm:"constraint:OnDelete:RESTRICT"`
	// ConsumerID is set for a binding that applies to one consumer.
	ConsumerID *uint
	// Config is the binding's config as a compact JSON object.
	Config string `gorm:"not null"`
	// Priority overrides the plugin version's priority when not nil.
	Priority *int
	// TimeoutMS is the hook deadline, 0 for the default.
	TimeoutMS int `gorm:"column:timeout_ms;not null;default:0"`
	// OnError is "", "open" or "closed".
	OnError string `gorm:"size:8;not null;default:''"`
	// Enabled is a pointer so that gorm writes false instead of the default.
	Enabled *bool `gorm:"not null;default:true"`
	// AllowHosts is the JSON array of config.Binding.AllowHosts.
	AllowHosts string `gorm:"not null;default:'[]'"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (bindingRow) TableName() string { return "bindings" }

// changeEventRow records one committed change of a tenant's config. It keys
// on the slug, not the tenant id, so the log outlives a deleted tenant and a
// tenant created again with the same slug continues its revisions.
type changeEventRow struct {
	ID       uint   `gorm:"primaryKey"`
	Tenant   string `gorm:"size:63;not null;uniqueIndex:idx_change_events_tenant_revision,priority:1"`
	Revision int64  `gorm:"not null;uniqueIndex:idx_change_events_tenant_revision,priority:2"`
	Kind     string `gorm:"size:16;not null"`
	Resource string `gorm:"size:200;not null"`
	Time     time.Time
}

func (changeEventRow) TableName() string { return "change_events" }
