-- +goose Up
-- The plugin marketplace. Publishers own namespaces, and a plugin name is
-- "namespace/name" except in the operator's namespace, whose plugins keep
-- their bare names. Each version carries the portal's ed25519 signature and
-- its deprecate and yank marks. Tenants install plugins at a pinned version
-- or a range, and bindings may follow the installed version. Edges report
-- error counts per plugin version in their heartbeats.
CREATE TABLE plugin_namespaces (
	id integer PRIMARY KEY AUTOINCREMENT,
	name text NOT NULL,
	owner_id integer REFERENCES users(id) ON DELETE SET NULL,
	created_at datetime NOT NULL
);
CREATE UNIQUE INDEX idx_plugin_namespaces_name ON plugin_namespaces(name);

CREATE TABLE plugin_namespace_members (
	id integer PRIMARY KEY AUTOINCREMENT,
	namespace_id integer NOT NULL REFERENCES plugin_namespaces(id) ON DELETE CASCADE,
	user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at datetime NOT NULL
);
CREATE UNIQUE INDEX idx_plugin_namespace_members ON plugin_namespace_members(namespace_id, user_id);
CREATE INDEX idx_plugin_namespace_members_user ON plugin_namespace_members(user_id);

ALTER TABLE plugin_versions ADD COLUMN namespace text NOT NULL DEFAULT 'portcullis';
ALTER TABLE plugin_versions ADD COLUMN description text NOT NULL DEFAULT '';
ALTER TABLE plugin_versions ADD COLUMN signature text NOT NULL DEFAULT '';
ALTER TABLE plugin_versions ADD COLUMN deprecated_at datetime;
ALTER TABLE plugin_versions ADD COLUMN yanked_at datetime;
ALTER TABLE plugin_versions ADD COLUMN notice text NOT NULL DEFAULT '';
CREATE INDEX idx_plugin_versions_namespace ON plugin_versions(namespace);

CREATE TABLE plugin_installs (
	id integer PRIMARY KEY AUTOINCREMENT,
	tenant_id integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	plugin text NOT NULL,
	version_range text NOT NULL DEFAULT '',
	plugin_version_id integer NOT NULL REFERENCES plugin_versions(id) ON DELETE RESTRICT,
	previous_version_id integer REFERENCES plugin_versions(id) ON DELETE SET NULL,
	created_at datetime NOT NULL,
	updated_at datetime NOT NULL
);
CREATE UNIQUE INDEX idx_plugin_installs_tenant_plugin ON plugin_installs(tenant_id, plugin);
CREATE INDEX idx_plugin_installs_plugin ON plugin_installs(plugin);
CREATE INDEX idx_plugin_installs_version ON plugin_installs(plugin_version_id);

ALTER TABLE bindings ADD COLUMN follows_install boolean NOT NULL DEFAULT false;

CREATE TABLE plugin_error_counts (
	id integer PRIMARY KEY AUTOINCREMENT,
	edge text NOT NULL,
	plugin text NOT NULL,
	version text NOT NULL,
	errors integer NOT NULL,
	updated_at datetime NOT NULL
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
DROP TABLE plugin_namespace_members;
DROP TABLE plugin_namespaces;
