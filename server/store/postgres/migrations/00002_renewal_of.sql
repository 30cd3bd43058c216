-- +goose Up
-- Twin of sqlite/migrations/00002_renewal_of.sql. A PostgreSQL database never
-- held renewals made before the column, so there is nothing to fill in.
ALTER TABLE certificates ADD COLUMN renewal_of BIGINT REFERENCES certificates(id);

-- One live (waiting or active) certificate per ID, as the life-cycle rules
-- keep it: with several servers writing, the database holds the line too.
CREATE UNIQUE INDEX certificates_one_live_per_id ON certificates(login_id)
    WHERE status IN ('awaiting_pickup', 'active');

-- +goose Down
DROP INDEX certificates_one_live_per_id;
ALTER TABLE certificates DROP COLUMN renewal_of;
