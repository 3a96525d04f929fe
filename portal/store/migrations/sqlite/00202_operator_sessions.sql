-- +goose Up
-- Web sessions of the operator. The operator has no account, so a sign-in
-- with the operator token gets a random session id, and this table keeps
-- only its SHA-256. The operator token itself is never stored here.
CREATE TABLE operator_sessions (
	id integer PRIMARY KEY AUTOINCREMENT,
	session_sha256 text NOT NULL,
	created_at datetime NOT NULL,
	expires_at datetime NOT NULL
);
CREATE UNIQUE INDEX idx_operator_sessions_sha256 ON operator_sessions(session_sha256);

-- +goose Down
DROP TABLE operator_sessions;
