-- +goose Up
-- The operator marks plugin versions as reviewed. Bindings of a reviewed
-- version run inside the edge process (the trusted tier); all others run in
-- sandboxed worker processes.
ALTER TABLE plugin_versions ADD COLUMN reviewed boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE plugin_versions DROP COLUMN reviewed;
