-- +goose Up
CREATE TABLE tenants (
	id BIGSERIAL PRIMARY KEY,
	slug VARCHAR(63) NOT NULL,
	name VARCHAR(200) NOT NULL,
	revision BIGINT NOT NULL,
	created_at TIMESTAMPTZ,
	updated_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX idx_tenants_slug ON tenants(slug);

CREATE TABLE upstreams (
	id BIGSERIAL PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	name VARCHAR(63) NOT NULL,
	targets TEXT NOT NULL,
	created_at TIMESTAMPTZ,
	updated_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX idx_upstreams_tenant_name ON upstreams(tenant_id, name);

CREATE TABLE routes (
	id BIGSERIAL PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	name VARCHAR(63) NOT NULL,
	paths TEXT NOT NULL,
	methods TEXT NOT NULL,
	upstream_id BIGINT NOT NULL REFERENCES upstreams(id) ON DELETE RESTRICT,
	created_at TIMESTAMPTZ,
	updated_at TIMESTAMPTZ
);
CREATE INDEX idx_routes_upstream_id ON routes(upstream_id);
CREATE UNIQUE INDEX idx_routes_tenant_name ON routes(tenant_id, name);

CREATE TABLE plugin_versions (
	id BIGSERIAL PRIMARY KEY,
	name VARCHAR(63) NOT NULL,
	version VARCHAR(128) NOT NULL,
	source TEXT NOT NULL,
	sha256 VARCHAR(64) NOT NULL,
	config_schema TEXT NOT NULL,
	created_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX idx_plugin_versions_name_version ON plugin_versions(name, version);

CREATE TABLE bindings (
	id BIGSERIAL PRIMARY KEY,
	public_id VARCHAR(32) NOT NULL,
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	plugin_version_id BIGINT NOT NULL REFERENCES plugin_versions(id) ON DELETE RESTRICT,
	route_id BIGINT REFERENCES routes(id) ON DELETE RESTRICT,
	config TEXT NOT NULL,
	created_at TIMESTAMPTZ,
	updated_at TIMESTAMPTZ
);
CREATE INDEX idx_bindings_route_id ON bindings(route_id);
CREATE INDEX idx_bindings_plugin_version_id ON bindings(plugin_version_id);
CREATE INDEX idx_bindings_tenant_id ON bindings(tenant_id);
CREATE UNIQUE INDEX idx_bindings_public_id ON bindings(public_id);

-- id is the change feed position. Writers append under a transaction-level
-- advisory lock, so ids become visible in increasing order.
CREATE TABLE change_events (
	id BIGSERIAL PRIMARY KEY,
	tenant VARCHAR(63) NOT NULL,
	revision BIGINT NOT NULL,
	kind VARCHAR(16) NOT NULL,
	resource VARCHAR(200) NOT NULL,
	time TIMESTAMPTZ
);
CREATE UNIQUE INDEX idx_change_events_tenant_revision ON change_events(tenant, revision);

-- +goose Down
DROP TABLE change_events;
DROP TABLE bindings;
DROP TABLE plugin_versions;
DROP TABLE routes;
DROP TABLE upstreams;
DROP TABLE tenants;
