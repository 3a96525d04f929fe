-- +goose Up
-- Tenant accounts: users who sign in with an email and a password, their
-- API and session tokens (stored as the hex SHA-256 of the token), their
-- roles per tenant, and the audit log of every change made through the API.
CREATE TABLE users (
	id integer PRIMARY KEY AUTOINCREMENT,
	public_id text NOT NULL,
	email text NOT NULL,
	name text NOT NULL,
	password_hash text NOT NULL,
	created_at datetime NOT NULL
);
CREATE UNIQUE INDEX idx_users_public_id ON users(public_id);
CREATE UNIQUE INDEX idx_users_email ON users(email);

CREATE TABLE user_tokens (
	id integer PRIMARY KEY AUTOINCREMENT,
	public_id text NOT NULL,
	user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	kind text NOT NULL,
	name text NOT NULL,
	token_sha256 text NOT NULL,
	created_at datetime NOT NULL,
	last_used_at datetime,
	expires_at datetime
);
CREATE UNIQUE INDEX idx_user_tokens_public_id ON user_tokens(public_id);
CREATE UNIQUE INDEX idx_user_tokens_sha256 ON user_tokens(token_sha256);
CREATE INDEX idx_user_tokens_user_id ON user_tokens(user_id);

CREATE TABLE memberships (
	id integer PRIMARY KEY AUTOINCREMENT,
	tenant_id integer NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	user_id integer NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role text NOT NULL,
	created_at datetime NOT NULL,
	updated_at datetime NOT NULL
);
CREATE UNIQUE INDEX idx_memberships_tenant_user ON memberships(tenant_id, user_id);
CREATE INDEX idx_memberships_user_id ON memberships(user_id);

-- The audit log keys on the tenant's slug, like change_events, so it
-- outlives a deleted tenant. Reads by tenant members start at the current
-- tenant's creation time.
CREATE TABLE audit_events (
	id integer PRIMARY KEY AUTOINCREMENT,
	time datetime NOT NULL,
	tenant text NOT NULL DEFAULT '',
	actor text NOT NULL,
	actor_user text NOT NULL DEFAULT '',
	method text NOT NULL,
	resource text NOT NULL,
	status integer NOT NULL,
	request_id text NOT NULL DEFAULT '',
	before text,
	after text
);
CREATE INDEX idx_audit_events_tenant_id ON audit_events(tenant, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE memberships;
DROP TABLE user_tokens;
DROP TABLE users;
