-- +goose Up
-- Plugin package fields of a plugin version: its README and its test
-- vectors, a JSON array that publishing runs and edges run before a swap.
ALTER TABLE plugin_versions ADD COLUMN readme text NOT NULL DEFAULT '';
ALTER TABLE plugin_versions ADD COLUMN test_vectors text NOT NULL DEFAULT '[]';

-- +goose Down
ALTER TABLE plugin_versions DROP COLUMN test_vectors;
ALTER TABLE plugin_versions DROP COLUMN readme;
