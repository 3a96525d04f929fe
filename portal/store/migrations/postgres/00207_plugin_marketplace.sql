-- +goose Up
-- The plugin marketplace. Publishers own namespaces, and a plugin name is
-- "namespace/name" except in the operator's namespace, whose plugins keep
-- their bare names. Each version carries the portal's ed25519 signature and
-- its deprecate and yank marks. Tenants install plugins at a pinned version
-- or a range, and bindings may follow the installed version. Edges report
-- error counts per plugin version in their heartbeats.
CREATE TABLE plugin_namespaces (
	id BIGSERIAL PRIMARY KEY,
	name VARCHAR(63) NOT NULL,
	owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_plugin_namespaces_name ON plugin_namespaces(name);

CREATE TABLE plugin_namespace_members (
	id BIGSERIAL PRIMARY KEY,
	namespace_id BIGINT NOT NULL REFERENCES plugin_namespaces(id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_plugin_namespace_members ON plugin_namespace_members(namespace_id, user_id);
CREATE INDEX idx_plugin_namespace_members_user ON plugin_namespace_members(user_id);

ALTER TABLE plugin_versions ALTER COLUMN name TYPE VARCHAR(127);
ALTER TABLE plugin_versions ADD COLUMN namespace VARCHAR(63) NOT NULL DEFAULT 'portcullis';
ALTER TABLE plugin_versions ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE plugin_versions ADD COLUMN signature TEXT NOT NULL DEFAULT '';
ALTER TABLE plugin_versions ADD COLUMN deprecated_at TIMESTAMPTZ;
ALTER TABLE plugin_versions ADD COLUMN yanked_at TIMESTAMPTZ;
ALTER TABLE plugin_versions ADD COLUMN notice TEXT NOT NULL DEFAULT '';
CREATE INDEX idx_plugin_versions_namespace ON plugin_versions(namespace);

CREATE TABLE plugin_installs (
	id BIGSERIAL PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	plugin VARCHAR(127) NOT NULL,
	version_range VARCHAR(64) NOT NULL DEFAULT '',
	plugin_version_id BIGINT NOT NULL REFERENCES plugin_versions(id) ON DELETE RESTRICT,
	previous_version_id BIGINT REFERENCES plugin_versions(id) ON DELETE SET NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_plugin_installs_tenant_plugin ON plugin_installs(tenant_id, plugin);
CREATE INDEX idx_plugin_installs_plugin ON plugin_installs(plugin);
CREATE INDEX idx_plugin_installs_version ON plugin_installs(plugin_version_id);

ALTER TABLE bindings ADD COLUMN follows_install BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE plugin_error_counts (
	id BIGSERIAL PRIMARY KEY,
	edge VARCHAR(200) NOT NULL,
	plugin VARCHAR(127) NOT NULL,
	version VARCHAR(128) NOT NULL,
	errors BIGINT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_plugin_error_counts_key ON plugin_error_counts(edge, plugin, version);
CREATE INDEX idx_plugin_error_counts_plugin ON plugin_error_counts(plugin, version);

-- +goose Down
DROP TABLE plugin_error_counts;
ALTER TABLE bindings DROP COLUMN follows_install;
DROP TABLE plugin_installs;
DROP INDEX idx_plugin_versions_namespace;
ALTER TABLE plugin_versions DROP COLUMN notice;
ALTER TABLE plugin_versions DROP COLUMN yanked_at;
ALTER TABLE plugin_versions DROP COLUMN deprecated_at;
ALTER TABLE plugin_versions DROP COLUMN signature;
ALTER TABLE plugin_versions DROP COLUMN description;
ALTER TABLE plugin_versions DROP COLUMN namespace;
ALTER TABLE plugin_versions ALTER COLUMN name TYPE VARCHAR(63);
DROP TABLE plugin_namespace_members;
DROP TABLE plugin_namespaces;
