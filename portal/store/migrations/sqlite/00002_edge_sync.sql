-- +goose Up
-- Edge enrollment tokens, stored as the hex SHA-256 of the token.
CREATE TABLE edge_tokens (
	id integer PRIMARY KEY AUTOINCREMENT,
	token_sha256 text NOT NULL,
	created_at datetime NOT NULL
);
CREATE UNIQUE INDEX idx_edge_tokens_sha256 ON edge_tokens(token_sha256);

-- One row per edge node, replaced by each heartbeat.
CREATE TABLE edge_nodes (
	node_id text PRIMARY KEY,
	region text NOT NULL,
	token_id integer NOT NULL,
	position integer NOT NULL DEFAULT 0,
	revisions text NOT NULL DEFAULT '{}',
	healthy integer NOT NULL DEFAULT 1,
	detail text NOT NULL DEFAULT '',
	registered_at datetime NOT NULL,
	last_seen_at datetime NOT NULL
);

-- +goose Down
DROP TABLE edge_nodes;
DROP TABLE edge_tokens;
