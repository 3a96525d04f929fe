-- +goose Up
-- The newest version in an install's range that a release did not move
-- the install to, because a binding that follows the install fails it: a
-- JSON object {"version", "binding", "vector", "message", "at"}, or ''
-- when no version is held back.
ALTER TABLE plugin_installs ADD COLUMN held_back text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE plugin_installs DROP COLUMN held_back;
