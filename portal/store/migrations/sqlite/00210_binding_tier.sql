-- +goose Up
-- A binding's tier: '' follows the plugin version's reviewed flag,
-- 'sandboxed' runs it in a plugin worker process, 'trusted' inside the edge.
ALTER TABLE bindings ADD COLUMN tier text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE bindings DROP COLUMN tier;
