-- +goose Up
-- Edge enrollment tokens, stored as the hex SHA-256 of the token.
CREATE TABLE edge_tokens (
	id BIGSERIAL PRIMARY KEY,
	token_sha256 VARCHAR(64) NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_edge_tokens_sha256 ON edge_tokens(token_sha256);

-- One row per edge node, replaced by each heartbeat.
CREATE TABLE edge_nodes (
	node_id VARCHAR(100) PRIMARY KEY,
	region VARCHAR(63) NOT NULL,
	token_id BIGINT NOT NULL,
	position BIGINT NOT NULL DEFAULT 0,
	revisions TEXT NOT NULL DEFAULT '{}',
	healthy BOOLEAN NOT NULL DEFAULT TRUE,
	detail TEXT NOT NULL DEFAULT '',
	registered_at TIMESTAMPTZ NOT NULL,
	last_seen_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE edge_nodes;
DROP TABLE edge_tokens;
