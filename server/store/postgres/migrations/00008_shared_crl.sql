-- +goose Up
-- Twin of sqlite/migrations/00008_shared_crl.sql: each issuing CA's signed
-- CRL, shared by every server, with the count of changes it lists
-- (crl_number.number - crl_number.signings when it was signed).
ALTER TABLE crl_number ADD COLUMN signings BIGINT NOT NULL DEFAULT 0;
CREATE TABLE crls (
    issuer      TEXT PRIMARY KEY,
    number      BIGINT NOT NULL,
    changes     BIGINT NOT NULL,
    this_update TIMESTAMPTZ NOT NULL,
    der         BYTEA NOT NULL
);

-- +goose Down
DROP TABLE crls;
ALTER TABLE crl_number DROP COLUMN signings;
