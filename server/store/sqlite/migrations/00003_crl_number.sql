-- +goose Up
-- The CRL number (RFC 5280 §5.2.3) must only grow, and the CRL is now cached
-- between changes, so the number is a counter bumped in the transaction of
-- every change to the CRL (it was "withdrawn certificates + 1", computed on
-- every GET). It starts where that formula stands, above every number
-- already published.
CREATE TABLE crl_number (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    number INTEGER NOT NULL
);
INSERT INTO crl_number (id, number)
    SELECT 1, COUNT(*) + 1 FROM certificates
    WHERE status IN ('revoked', 'superseded') AND serial IS NOT NULL;

-- +goose Down
DROP TABLE crl_number;
