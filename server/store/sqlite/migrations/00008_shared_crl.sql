-- +goose Up
-- The signed CRL of each issuing CA, kept in the database so that every
-- server sharing it serves the same CRL under one number, and one server at
-- a time signs the next. crl_number.changed is the number the last change to
-- what CRLs list reached: a stored CRL numbered above it is current. It
-- starts at the number itself, so the first CRL after the upgrade is signed
-- afresh under a number never used.
ALTER TABLE crl_number ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
UPDATE crl_number SET changed = number;
CREATE TABLE crls (
    issuer      TEXT PRIMARY KEY,
    number      INTEGER NOT NULL,
    this_update INTEGER NOT NULL,
    der         BLOB NOT NULL
);

-- +goose Down
DROP TABLE crls;
ALTER TABLE crl_number DROP COLUMN changed;
