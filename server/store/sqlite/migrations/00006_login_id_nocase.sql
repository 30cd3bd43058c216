-- +goose Up
-- Login IDs are unique without regard to case: "Admin1" and "admin1" are one
-- ID (two would let one pass for the other), and an ID is found whatever case
-- it is typed in. Login IDs are ASCII, so lower() is the whole folding. A
-- database that already holds two IDs differing only in case stops here with
-- a unique-constraint error: rename one of them (inkan-server user) first.
CREATE UNIQUE INDEX users_login_id_lower ON users (lower(login_id));

-- +goose Down
DROP INDEX users_login_id_lower;
