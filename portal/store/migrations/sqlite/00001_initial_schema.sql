-- +goose Up
-- The schema that gorm's AutoMigrate created before versioned migrations.
-- IF NOT EXISTS lets a database made by AutoMigrate adopt this version.
CREATE TABLE IF NOT EXISTS `tenants` (`id` integer PRIMARY KEY AUTOINCREMENT,`slug` text NOT NULL,`name` text NOT NULL,`revision` integer NOT NULL,`created_at` datetime,`updated_at` datetime);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_tenants_slug` ON `tenants`(`slug`);
CREATE TABLE IF NOT EXISTS `upstreams` (`id` integer PRIMARY KEY AUTOINCREMENT,`tenant_id` integer NOT NULL,`name` text NOT NULL,`targets` text NOT NULL,`created_at` datetime,`updated_at` datetime,CONSTRAINT `fk_upstreams_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON DELETE CASCADE);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_upstreams_tenant_name` ON `upstreams`(`tenant_id`,`name`);
CREATE TABLE IF NOT EXISTS `routes` (`id` integer PRIMARY KEY AUTOINCREMENT,`tenant_id` integer NOT NULL,`name` text NOT NULL,`paths` text NOT NULL,`methods` text NOT NULL,`upstream_id` integer NOT NULL,`created_at` datetime,`updated_at` datetime,CONSTRAINT `fk_routes_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON DELETE CASCADE,CONSTRAINT `fk_routes_upstream` FOREIGN KEY (`upstream_id`) REFERENCES `upstreams`(`id`) ON DELETE RESTRICT);
CREATE INDEX IF NOT EXISTS `idx_routes_upstream_id` ON `routes`(`upstream_id`);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_routes_tenant_name` ON `routes`(`tenant_id`,`name`);
CREATE TABLE IF NOT EXISTS `plugin_versions` (`id` integer PRIMARY KEY AUTOINCREMENT,`name` text NOT NULL,`version` text NOT NULL,`source` text NOT NULL,`sha256` text NOT NULL,`config_schema` text NOT NULL,`created_at` datetime);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_plugin_versions_name_version` ON `plugin_versions`(`name`,`version`);
CREATE TABLE IF NOT EXISTS `bindings` (`id` integer PRIMARY KEY AUTOINCREMENT,`public_id` text NOT NULL,`tenant_id` integer NOT NULL,`plugin_version_id` integer NOT NULL,`route_id` integer,`config` text NOT NULL,`created_at` datetime,`updated_at` datetime,CONSTRAINT `fk_bindings_route` FOREIGN KEY (`route_id`) REFERENCES `routes`(`id`) ON DELETE RESTRICT,CONSTRAINT `fk_bindings_tenant` FOREIGN KEY (`tenant_id`) REFERENCES `tenants`(`id`) ON DELETE CASCADE,CONSTRAINT `fk_bindings_plugin_version` FOREIGN KEY (`plugin_version_id`) REFERENCES `plugin_versions`(`id`) ON DELETE RESTRICT);
CREATE INDEX IF NOT EXISTS `idx_bindings_route_id` ON `bindings`(`route_id`);
CREATE INDEX IF NOT EXISTS `idx_bindings_plugin_version_id` ON `bindings`(`plugin_version_id`);
CREATE INDEX IF NOT EXISTS `idx_bindings_tenant_id` ON `bindings`(`tenant_id`);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_bindings_public_id` ON `bindings`(`public_id`);
CREATE TABLE IF NOT EXISTS `change_events` (`id` integer PRIMARY KEY AUTOINCREMENT,`tenant` text NOT NULL,`revision` integer NOT NULL,`kind` text NOT NULL,`resource` text NOT NULL,`time` datetime);
CREATE UNIQUE INDEX IF NOT EXISTS `idx_change_events_tenant_revision` ON `change_events`(`tenant`,`revision`);

-- +goose Down
DROP TABLE change_events;
DROP TABLE bindings;
DROP TABLE plugin_versions;
DROP TABLE routes;
DROP TABLE upstreams;
DROP TABLE tenants;
