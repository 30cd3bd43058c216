-- +goose Up
-- A renewal records which certificate it replaced, so that a renewal repeated
-- with the same key (its answer was lost) can be told from a certificate
-- superseded by a new issue.
ALTER TABLE certificates ADD COLUMN renewal_of INTEGER REFERENCES certificates(id);

-- Renewals made before this column existed: a renewal's record is inserted with
-- its pickup deadline equal to its issuance time (an issue's window is at least a
-- day), in the same transaction that supersedes the certificate it replaces.
UPDATE certificates SET renewal_of = (
    SELECT o.id FROM certificates o
    WHERE o.login_id = certificates.login_id AND o.status = 'superseded'
      AND o.withdrawn_at = certificates.issued_at AND o.id < certificates.id
    ORDER BY o.id DESC LIMIT 1)
WHERE pickup_deadline = issued_at AND serial IS NOT NULL;

-- +goose Down
ALTER TABLE certificates DROP COLUMN renewal_of;
