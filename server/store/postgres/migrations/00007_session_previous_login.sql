-- +goose Up
-- Twin of sqlite/migrations/00007_session_previous_login.sql.
ALTER TABLE sessions ADD COLUMN previous_login_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE sessions DROP COLUMN previous_login_at;
