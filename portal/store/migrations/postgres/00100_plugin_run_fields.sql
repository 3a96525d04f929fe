-- +goose Up
-- Plugin host fields: a tenant's debug headers, a plugin version's default
-- priority, and a binding's priority, hook timeout, failure policy, switch
-- and outbound host allow-list.
ALTER TABLE tenants ADD COLUMN debug_headers boolean NOT NULL DEFAULT false;
ALTER TABLE plugin_versions ADD COLUMN priority bigint NOT NULL DEFAULT 0;
ALTER TABLE bindings ADD COLUMN priority bigint;
ALTER TABLE bindings ADD COLUMN timeout_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE bindings ADD COLUMN on_error varchar(8) NOT NULL DEFAULT '';
ALTER TABLE bindings ADD COLUMN enabled boolean NOT NULL DEFAULT true;
ALTER TABLE bindings ADD COLUMN allow_hosts text NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE bindings DROP COLUMN allow_hosts;
ALTER TABLE bindings DROP COLUMN enabled;
ALTER TABLE bindings DROP COLUMN on_error;
ALTER TABLE bindings DROP COLUMN timeout_ms;
ALTER TABLE bindings DROP COLUMN priority;
ALTER TABLE plugin_versions DROP COLUMN priority;
ALTER TABLE tenants DROP COLUMN debug_headers;
