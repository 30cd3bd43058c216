-- +goose Up
-- Every pickup, renewal and login checks whether the contract is blocked by a
-- lapsed admin window, so it looks up the contract's admin IDs: a partial
-- index finds them without reading the contract's other users.
CREATE INDEX users_contract_admins ON users(contract_id) WHERE role = 'admin';

-- +goose Down
DROP INDEX users_contract_admins;
