-- +goose Up
-- Each edge process reports a random instance id that it picks at start.
-- The portal keeps the last two it saw for a node id, when the last one
-- changed, and when two processes last took turns reporting the node id,
-- so that it can report a node id that two running edges share.
ALTER TABLE edge_nodes ADD COLUMN instance text NOT NULL DEFAULT '';
ALTER TABLE edge_nodes ADD COLUMN previous_instance text NOT NULL DEFAULT '';
ALTER TABLE edge_nodes ADD COLUMN instance_changed_at datetime NULL;
ALTER TABLE edge_nodes ADD COLUMN conflict_at datetime NULL;

-- +goose Down
ALTER TABLE edge_nodes DROP COLUMN conflict_at;
ALTER TABLE edge_nodes DROP COLUMN instance_changed_at;
ALTER TABLE edge_nodes DROP COLUMN previous_instance;
ALTER TABLE edge_nodes DROP COLUMN instance;
