-- +goose Up
-- API clients of a tenant and their credentials. secret_sealed holds the
-- AES-256-GCM ciphertext of a key-auth key, JWT HMAC secret or HMAC secret;
-- password_hash holds the hash of a basic-auth password. key_sha256 is the
-- SHA-256 of a key-auth key, so that keys stay unique in a tenant.
CREATE TABLE consumers (
	id BIGSERIAL PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	name text NOT NULL,
	description text NOT NULL DEFAULT '',
	tags text NOT NULL DEFAULT '[]',
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_consumers_tenant_name ON consumers(tenant_id, name);

CREATE TABLE consumer_credentials (
	id BIGSERIAL PRIMARY KEY,
	public_id text NOT NULL,
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	consumer_id BIGINT NOT NULL REFERENCES consumers(id) ON DELETE CASCADE,
	type text NOT NULL,
	hint text NOT NULL DEFAULT '',
	username text NOT NULL DEFAULT '',
	key_id text NOT NULL DEFAULT '',
	algorithm text NOT NULL DEFAULT '',
	public_key text NOT NULL DEFAULT '',
	key_sha256 text,
	secret_sealed text NOT NULL DEFAULT '',
	password_hash text NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_consumer_credentials_public_id ON consumer_credentials(public_id);
CREATE INDEX idx_consumer_credentials_consumer_id ON consumer_credentials(consumer_id);
CREATE UNIQUE INDEX idx_consumer_credentials_tenant_key ON consumer_credentials(tenant_id, key_sha256);

-- +goose Down
DROP TABLE consumer_credentials;
DROP TABLE consumers;
