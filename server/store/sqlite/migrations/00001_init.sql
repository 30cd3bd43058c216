-- +goose Up
CREATE TABLE contracts (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    certificate_mode_at INTEGER
);

CREATE TABLE certificates (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    login_id        TEXT NOT NULL,
    contract_id     TEXT NOT NULL REFERENCES contracts(id),
    status          TEXT NOT NULL CHECK (status IN ('awaiting_pickup', 'active', 'revoked', 'superseded')),
    issued_at       INTEGER NOT NULL,
    pickup_deadline INTEGER NOT NULL,
    serial          TEXT UNIQUE,
    der             BLOB,
    not_before      INTEGER,
    not_after       INTEGER,
    withdrawn_at    INTEGER
);
CREATE INDEX certificates_login_id ON certificates(login_id);
CREATE INDEX certificates_status_not_after ON certificates(status, not_after);

-- Users are deleted outright; their certificates stay (revoked), so the CRL and
-- OCSP keep answering for them. Hence no foreign key from certificates to users.
CREATE TABLE users (
    login_id        TEXT PRIMARY KEY,
    contract_id     TEXT NOT NULL REFERENCES contracts(id),
    role            TEXT NOT NULL CHECK (role IN ('admin', 'approver', 'general')),
    display_name    TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked          INTEGER NOT NULL DEFAULT 0,
    last_login_at   INTEGER,
    created_at      INTEGER NOT NULL,
    current_cert_id INTEGER REFERENCES certificates(id)
);
CREATE INDEX users_contract_id ON users(contract_id);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    login_id    TEXT NOT NULL REFERENCES users(login_id) ON DELETE CASCADE,
    cert_serial TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE mail_sent (
    cert_id INTEGER NOT NULL REFERENCES certificates(id),
    days    INTEGER NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (cert_id, days)
);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    remote_addr TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE audit;
DROP TABLE mail_sent;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE certificates;
DROP TABLE contracts;
