-- +goose Up
-- Load balancing, retries, protocol, TLS and health checks of an upstream.
-- settings is a JSON object of those fields without the TLS client key;
-- client_key_sealed holds the AES-256-GCM ciphertext of that key, bound to
-- the tenant id and upstream name, or '' when there is none.
ALTER TABLE upstreams ADD COLUMN settings text NOT NULL DEFAULT '{}';
ALTER TABLE upstreams ADD COLUMN client_key_sealed text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE upstreams DROP COLUMN client_key_sealed;
ALTER TABLE upstreams DROP COLUMN settings;
