-- +goose Up
-- Twin of sqlite/migrations/00008_shared_crl.sql: each issuing CA's signed
-- CRL, shared by every server, and the number of the last change to what
-- CRLs list.
ALTER TABLE crl_number ADD COLUMN changed BIGINT NOT NULL DEFAULT 0;
UPDATE crl_number SET changed = number;
CREATE TABLE crls (
    issuer      TEXT PRIMARY KEY,
    number      BIGINT NOT NULL,
    this_update TIMESTAMPTZ NOT NULL,
    der         BYTEA NOT NULL
);

-- +goose Down
DROP TABLE crls;
ALTER TABLE crl_number DROP COLUMN changed;
