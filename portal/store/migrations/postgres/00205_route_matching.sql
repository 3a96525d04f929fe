-- +goose Up
-- Matching and limits of a route beyond paths and methods: a JSON object
-- with hosts, headers, query, priority, max_body_bytes and timeouts, each
-- left out when empty or zero.
ALTER TABLE routes ADD COLUMN settings text NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE routes DROP COLUMN settings;
