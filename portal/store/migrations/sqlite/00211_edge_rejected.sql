-- +goose Up
-- The revisions an edge refused to serve: a JSON object of tenant slug to
-- {"revision", "reason"}, or '' when the edge reported none.
ALTER TABLE edge_nodes ADD COLUMN rejected text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE edge_nodes DROP COLUMN rejected;
