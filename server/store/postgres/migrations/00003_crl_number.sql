-- +goose Up
-- Twin of sqlite/migrations/00003_crl_number.sql: the CRL number, a counter
-- bumped (under its row lock) in the transaction of every change to the CRL.
CREATE TABLE crl_number (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    number BIGINT NOT NULL
);
INSERT INTO crl_number (id, number)
    SELECT 1, COUNT(*) + 1 FROM certificates
    WHERE status IN ('revoked', 'superseded') AND serial IS NOT NULL;

-- +goose Down
DROP TABLE crl_number;
