-- +goose Up
-- The signed CRL of each issuing CA, kept in the database so that every
-- server sharing it serves the same CRL under one number, and one server at
-- a time signs the next. crl_number.signings counts the numbers taken for
-- signing (every other increment of the number is a change to what CRLs
-- list), so number - signings counts the changes; crls.changes is that count
-- when the CRL was signed, and the CRL is current while the count stands.
-- A server of an older version bumps the number alone, which counts as a
-- change: a rolling upgrade never leaves a stale CRL current.
ALTER TABLE crl_number ADD COLUMN signings INTEGER NOT NULL DEFAULT 0;
CREATE TABLE crls (
    issuer      TEXT PRIMARY KEY,
    number      INTEGER NOT NULL,
    changes     INTEGER NOT NULL,
    this_update INTEGER NOT NULL,
    der         BLOB NOT NULL
);

-- +goose Down
DROP TABLE crls;
ALTER TABLE crl_number DROP COLUMN signings;
