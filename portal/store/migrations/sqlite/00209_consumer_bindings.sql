-- +goose Up
-- Consumer-scope bindings: a binding with consumer_id set applies to that
-- consumer's requests on every route of the tenant.
ALTER TABLE bindings ADD COLUMN consumer_id integer REFERENCES consumers(id) ON DELETE RESTRICT;
CREATE INDEX idx_bindings_consumer_id ON bindings(consumer_id);

-- +goose Down
DROP INDEX idx_bindings_consumer_id;
ALTER TABLE bindings DROP COLUMN consumer_id;
