-- +goose Up
-- Tenant accounts: users who sign in with an email and a password, their
-- API and session tokens (stored as the hex SHA-256 of the token), their
-- roles per tenant, and the audit log of every change made through the API.
CREATE TABLE users (
	id BIGSERIAL PRIMARY KEY,
	public_id VARCHAR(32) NOT NULL,
	email VARCHAR(254) NOT NULL,
	name VARCHAR(200) NOT NULL,
	password_hash TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_users_public_id ON users(public_id);
CREATE UNIQUE INDEX idx_users_email ON users(email);

CREATE TABLE user_tokens (
	id BIGSERIAL PRIMARY KEY,
	public_id VARCHAR(32) NOT NULL,
	user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	kind VARCHAR(16) NOT NULL,
	name VARCHAR(200) NOT NULL,
	token_sha256 VARCHAR(64) NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	last_used_at TIMESTAMPTZ,
	expires_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX idx_user_tokens_public_id ON user_tokens(public_id);
CREATE UNIQUE INDEX idx_user_tokens_sha256 ON user_tokens(token_sha256);
CREATE INDEX idx_user_tokens_user_id ON user_tokens(user_id);

CREATE TABLE memberships (
	id BIGSERIAL PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role VARCHAR(16) NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_memberships_tenant_user ON memberships(tenant_id, user_id);
CREATE INDEX idx_memberships_user_id ON memberships(user_id);

-- The audit log keys on the tenant's slug, like change_events, so it
-- outlives a deleted tenant. Reads by tenant members start at the current
-- tenant's creation time.
CREATE TABLE audit_events (
	id BIGSERIAL PRIMARY KEY,
	time TIMESTAMPTZ NOT NULL,
	tenant VARCHAR(63) NOT NULL DEFAULT '',
	actor VARCHAR(254) NOT NULL,
	actor_user VARCHAR(32) NOT NULL DEFAULT '',
	method VARCHAR(16) NOT NULL,
	resource TEXT NOT NULL,
	status INTEGER NOT NULL,
	request_id VARCHAR(64) NOT NULL DEFAULT '',
	before TEXT,
	after TEXT
);
CREATE INDEX idx_audit_events_tenant_id ON audit_events(tenant, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE memberships;
DROP TABLE user_tokens;
DROP TABLE users;
