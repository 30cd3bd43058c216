-- +goose Up
-- Twin of sqlite/migrations/00004_session_indexes.sql.
CREATE INDEX sessions_login_id ON sessions(login_id);
CREATE INDEX sessions_expires_at ON sessions(expires_at);

-- +goose Down
DROP INDEX sessions_expires_at;
DROP INDEX sessions_login_id;
