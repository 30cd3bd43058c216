-- +goose Up
-- The login before the session, so that every server (and a restarted one)
-- shows the same 前回ログイン for a session it did not open.
ALTER TABLE sessions ADD COLUMN previous_login_at INTEGER;

-- +goose Down
ALTER TABLE sessions DROP COLUMN previous_login_at;
