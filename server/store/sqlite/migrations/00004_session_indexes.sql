-- +goose Up
-- Ending an ID's sessions (lock, new password) and purging expired ones look
-- sessions up by login ID and by expiry: indexes keep both independent of
-- how many sessions there are.
CREATE INDEX sessions_login_id ON sessions(login_id);
CREATE INDEX sessions_expires_at ON sessions(expires_at);

-- +goose Down
DROP INDEX sessions_expires_at;
DROP INDEX sessions_login_id;
