// Package sqlite is the embedded SQLite implementation of store.Store, the
// server's default storage: one file, nothing to install.
//
// It opens the database in WAL mode with foreign keys on and a busy timeout, so
// that the operator CLI can change records while the server runs. Writes are
// durable: synchronous=FULL, so a commit returns only after the WAL is synced
// to disk. They go through a single connection (SQLite has one writer anyway;
// queuing in-process avoids busy retries) with group commit: see [DB.Update].
// Reads go through a small pool. Hot queries are prepared once per connection.
// The schema is versioned by goose migrations embedded from migrations/.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating if needed) the database at path and brings its schema up
// to date.
//
// The database holds password hashes and session tokens' hashes, so the file
// and its -wal and -shm companions are made readable by the owner only
// (0600), however they were created before.
//
// No code of this package ever opens a file that SQLite may have open: closing
// any descriptor of a file drops every POSIX lock the process holds on it,
// SQLite's among them, and then another process (an operator's sqlite3) takes
// itself for the last user, checkpoints and unlinks the WAL under the server
// (SQLite's "How To Corrupt An SQLite Database File", section 2.2). So modes
// are set by path only, before SQLite opens anything, and a new database file
// is created here only when it does not exist yet (O_EXCL).
func Open(ctx context.Context, path string) (*DB, error) {
	if err := restrictFiles(path); err != nil {
		return nil, err
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(" + syncPragma + ")"
	base := fileURI(path, pragmas)
	write, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	if err := migrate(ctx, write); err != nil {
		errors.Join(read.Close(), write.Close())
		return nil, fmt.Errorf("migrate database %s: %w", path, err)
	}
	db, err := start(ctx, write, read)
	if err != nil {
		errors.Join(read.Close(), write.Close())
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.path = path
	return db, nil
}

// restrictFiles creates the database file at path with mode 0600 if it does
// not exist, and sets mode 0600 on an existing one and on its -wal and -shm
// files by path (chmod opens nothing). SQLite creates a new -wal or -shm with
// the database file's mode, so they are 0600 too.
func restrictFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		// Nobody can have had open a file that did not exist a moment ago.
		if err := f.Close(); err != nil {
			return fmt.Errorf("create database %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create database %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restrict %s to its owner: %w", p, err)
		}
	}
	return nil
}

func migrate(ctx context.Context, write *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, write, mustSub(migrations, "migrations"))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Exclusive runs fn while holding an exclusive lock on the file PATH-NAME.lock
// beside the database, or returns false at once if another handle or process
// holds it. The operating system drops the lock when the holder dies.
func (db *DB) Exclusive(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	f, err := os.OpenFile(db.path+"-"+claimFileName(name)+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", name, err)
	}
	defer f.Close()
	got, err := tryLock(f)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", name, err)
	}
	if !got {
		return false, nil
	}
	defer unlock(f)
	return true, fn(ctx)
}

// claimFileName keeps the letters, digits, '.' and '_' of name.
func claimFileName(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' {
			return r
		}
		return '_'
	}, name)
}

func isUniqueViolation(err error) bool {
	return strings.Contains(err.Error(), "UNIQUE constraint failed") ||
		strings.Contains(err.Error(), "PRIMARY KEY constraint failed")
}

// mustAffect turns "no row changed" into store.ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// Times are stored as Unix nanoseconds (UTC), so they compare as integers.

func toDB(t time.Time) int64 { return t.UnixNano() }

func toDBPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

func fromDB(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromDBPtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromDB(n.Int64)
	return &t
}

// --- contracts

func (t *tx) CreateContract(c store.Contract) error {
	_, err := t.exec(`INSERT INTO contracts (id, name, created_at, certificate_mode_at) VALUES (?, ?, ?, ?)`,
		c.ID, c.Name, toDB(c.CreatedAt), toDBPtr(c.CertificateModeAt))
	return err
}

const contractCols = `id, name, created_at, certificate_mode_at`

func scanContract(row interface{ Scan(...any) error }) (store.Contract, error) {
	var c store.Contract
	var created int64
	var mode sql.NullInt64
	if err := row.Scan(&c.ID, &c.Name, &created, &mode); err != nil {
		return c, notFound(err)
	}
	c.CreatedAt, c.CertificateModeAt = fromDB(created), fromDBPtr(mode)
	return c, nil
}

func (t *tx) Contract(id string) (store.Contract, error) {
	return scanContract(t.queryRow(`SELECT `+contractCols+` FROM contracts WHERE id = ?`, id))
}

func (t *tx) Contracts() ([]store.Contract, error) {
	rows, err := t.query(`SELECT ` + contractCols + ` FROM contracts ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanContract)
}

func (t *tx) UpdateContract(c store.Contract) error {
	return mustAffect(t.exec(`UPDATE contracts SET name = ?, certificate_mode_at = ? WHERE id = ?`,
		c.Name, toDBPtr(c.CertificateModeAt), c.ID))
}

func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// --- users

const userCols = `login_id, contract_id, role, display_name, email, password_hash, failed_logins, locked, last_login_at, created_at, current_cert_id`

func scanUser(row interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var role string
	var lastLogin, certID sql.NullInt64
	var created int64
	if err := row.Scan(&u.LoginID, &u.ContractID, &role, &u.DisplayName, &u.Email, &u.PasswordHash,
		&u.FailedLogins, &u.Locked, &lastLogin, &created, &certID); err != nil {
		return u, notFound(err)
	}
	u.Role, u.LastLoginAt, u.CreatedAt = wire.Role(role), fromDBPtr(lastLogin), fromDB(created)
	if certID.Valid {
		u.CurrentCertID = &certID.Int64
	}
	return u, nil
}

func (t *tx) CreateUser(u store.User) error {
	_, err := t.exec(`INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.LoginID, u.ContractID, string(u.Role), u.DisplayName, u.Email, u.PasswordHash,
		u.FailedLogins, u.Locked, toDBPtr(u.LastLoginAt), toDB(u.CreatedAt), u.CurrentCertID)
	return err
}

func (t *tx) User(loginID string) (store.User, error) {
	return scanUser(t.queryRow(`SELECT `+userCols+` FROM users WHERE lower(login_id) = lower(?)`, loginID))
}

func (t *tx) Users(contractID string) ([]store.User, error) {
	rows, err := t.query(`SELECT `+userCols+` FROM users WHERE contract_id = ? ORDER BY created_at, login_id`, contractID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanUser)
}

func (t *tx) AdminCurrentCertificates(contractID string) ([]store.Certificate, error) {
	rows, err := t.query(`SELECT `+prefixCols("c.", certCols)+` FROM users u JOIN certificates c ON c.id = u.current_cert_id
		WHERE u.contract_id = ? AND u.role = 'admin' ORDER BY u.created_at, u.login_id`, contractID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanCert)
}

// prefixCols qualifies each column of cols (a comma-separated list) with prefix.
func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = prefix + parts[i]
	}
	return strings.Join(parts, ", ")
}

func (t *tx) UpdateUser(u store.User) error {
	return mustAffect(t.exec(`UPDATE users SET role = ?, display_name = ?, email = ?, password_hash = ?,
		failed_logins = ?, locked = ?, last_login_at = ?, current_cert_id = ? WHERE login_id = ?`,
		string(u.Role), u.DisplayName, u.Email, u.PasswordHash, u.FailedLogins, u.Locked,
		toDBPtr(u.LastLoginAt), u.CurrentCertID, u.LoginID))
}

func (t *tx) DeleteUser(loginID string) error {
	return mustAffect(t.exec(`DELETE FROM users WHERE login_id = ?`, loginID))
}

// --- certificates

const certCols = `id, login_id, contract_id, status, issued_at, pickup_deadline, serial, der, not_before, not_after, withdrawn_at, renewal_of`

func scanCert(row interface{ Scan(...any) error }) (store.Certificate, error) {
	var c store.Certificate
	var status string
	var issued, deadline int64
	var serial sql.NullString
	var nb, na, wd, renewalOf sql.NullInt64
	if err := row.Scan(&c.ID, &c.LoginID, &c.ContractID, &status, &issued, &deadline, &serial, &c.DER, &nb, &na, &wd, &renewalOf); err != nil {
		return c, notFound(err)
	}
	if renewalOf.Valid {
		c.RenewalOf = &renewalOf.Int64
	}
	c.Status, c.IssuedAt, c.PickupDeadline = store.CertStatus(status), fromDB(issued), fromDB(deadline)
	c.Serial, c.NotBefore, c.NotAfter, c.WithdrawnAt = serial.String, fromDBPtr(nb), fromDBPtr(na), fromDBPtr(wd)
	return c, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (t *tx) InsertCertificate(c store.Certificate) (int64, error) {
	res, err := t.exec(`INSERT INTO certificates (login_id, contract_id, status, issued_at, pickup_deadline, serial, der, not_before, not_after, withdrawn_at, renewal_of)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.LoginID, c.ContractID, string(c.Status), toDB(c.IssuedAt), toDB(c.PickupDeadline),
		nullString(c.Serial), c.DER, toDBPtr(c.NotBefore), toDBPtr(c.NotAfter), toDBPtr(c.WithdrawnAt), c.RenewalOf)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func (t *tx) Certificate(id int64) (store.Certificate, error) {
	return scanCert(t.queryRow(`SELECT `+certCols+` FROM certificates WHERE id = ?`, id))
}

func (t *tx) CertificateBySerial(serial string) (store.Certificate, error) {
	return scanCert(t.queryRow(`SELECT `+certCols+` FROM certificates WHERE serial = ?`, serial))
}

func (t *tx) UpdateCertificate(c store.Certificate) error {
	return mustAffect(t.exec(`UPDATE certificates SET status = ?, serial = ?, der = ?, not_before = ?, not_after = ?, withdrawn_at = ?
		WHERE id = ?`,
		string(c.Status), nullString(c.Serial), c.DER, toDBPtr(c.NotBefore), toDBPtr(c.NotAfter), toDBPtr(c.WithdrawnAt), c.ID))
}

func (t *tx) Certificates(loginID string) ([]store.Certificate, error) {
	rows, err := t.query(`SELECT `+certCols+` FROM certificates WHERE ? = '' OR lower(login_id) = lower(?) ORDER BY id DESC`, loginID, loginID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanCert)
}

func (t *tx) WithdrawnCertificates() ([]store.Certificate, error) {
	rows, err := t.query(`SELECT ` + certCols + ` FROM certificates
		WHERE status IN ('revoked', 'superseded') AND serial IS NOT NULL ORDER BY id`)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanCert)
}

func (t *tx) ActiveCertificatesExpiringBy(by time.Time) ([]store.Certificate, error) {
	rows, err := t.query(`SELECT `+certCols+` FROM certificates
		WHERE status = 'active' AND not_after <= ? ORDER BY not_after`, toDB(by))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanCert)
}

func (t *tx) CRLNumber() (int64, error) {
	var n int64
	err := t.queryRow(`SELECT number FROM crl_number WHERE id = 1`).Scan(&n)
	return n, notFound(err)
}

func (t *tx) NextCRLNumber() (int64, error) {
	var n int64
	err := t.queryRow(`UPDATE crl_number SET number = number + 1, signings = signings + 1 WHERE id = 1 RETURNING number`).Scan(&n)
	return n, notFound(err)
}

// BumpCRLNumber increments the CRL number at once: SQLite has one writer,
// which holds the whole transaction anyway.
func (t *tx) BumpCRLNumber() error {
	return mustAffect(t.exec(`UPDATE crl_number SET number = number + 1 WHERE id = 1`))
}

// CRLChanges needs no lock of its own: SQLite's one writer runs one Update at a time.
func (t *tx) CRLChanges() (int64, error) {
	var n int64
	err := t.queryRow(`SELECT number - signings FROM crl_number WHERE id = 1`).Scan(&n)
	return n, notFound(err)
}

func (t *tx) SignedCRLInfo(issuer string) (store.SignedCRL, error) {
	c := store.SignedCRL{Issuer: issuer}
	var at int64
	err := t.queryRow(`SELECT number, changes, this_update FROM crls WHERE issuer = ?`, issuer).Scan(&c.Number, &c.Changes, &at)
	c.ThisUpdate = fromDB(at)
	return c, notFound(err)
}

func (t *tx) SignedCRL(issuer string) (store.SignedCRL, error) {
	c := store.SignedCRL{Issuer: issuer}
	var at int64
	err := t.queryRow(`SELECT number, changes, this_update, der FROM crls WHERE issuer = ?`, issuer).Scan(&c.Number, &c.Changes, &at, &c.DER)
	c.ThisUpdate = fromDB(at)
	return c, notFound(err)
}

func (t *tx) PutSignedCRL(c store.SignedCRL) error {
	err := mustAffect(t.exec(`INSERT INTO crls (issuer, number, changes, this_update, der) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (issuer) DO UPDATE SET number = excluded.number, changes = excluded.changes, this_update = excluded.this_update, der = excluded.der
		WHERE crls.number < excluded.number`, c.Issuer, c.Number, c.Changes, toDB(c.ThisUpdate), c.DER))
	if errors.Is(err, store.ErrNotFound) {
		return store.ErrConflict // a CRL with this number or a higher one is stored already
	}
	return err
}

// --- sessions

func (t *tx) CreateSession(s store.Session) error {
	_, err := t.exec(`INSERT INTO sessions (token_hash, login_id, cert_serial, created_at, expires_at, previous_login_at) VALUES (?, ?, ?, ?, ?, ?)`,
		s.TokenHash, s.LoginID, s.CertSerial, toDB(s.CreatedAt), toDB(s.ExpiresAt), toDBPtr(s.PreviousLoginAt))
	return err
}

func (t *tx) Session(tokenHash string) (store.Session, error) {
	var s store.Session
	var created, expires int64
	var previous sql.NullInt64
	err := t.queryRow(`SELECT token_hash, login_id, cert_serial, created_at, expires_at, previous_login_at FROM sessions WHERE token_hash = ?`, tokenHash).
		Scan(&s.TokenHash, &s.LoginID, &s.CertSerial, &created, &expires, &previous)
	if err != nil {
		return s, notFound(err)
	}
	s.CreatedAt, s.ExpiresAt, s.PreviousLoginAt = fromDB(created), fromDB(expires), fromDBPtr(previous)
	return s, nil
}

func (t *tx) DeleteSession(tokenHash string) error {
	return mustAffect(t.exec(`DELETE FROM sessions WHERE token_hash = ?`, tokenHash))
}

func (t *tx) DeleteSessionsOf(loginID string) error {
	_, err := t.exec(`DELETE FROM sessions WHERE login_id = ?`, loginID)
	return err
}

func (t *tx) DeleteExpiredSessions(before time.Time) (int64, error) {
	res, err := t.exec(`DELETE FROM sessions WHERE expires_at < ?`, toDB(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// --- mail

func (t *tx) MailSent(certID int64, days int) (bool, error) {
	var n int
	err := t.queryRow(`SELECT COUNT(*) FROM mail_sent WHERE cert_id = ? AND days = ?`, certID, days).Scan(&n)
	return n > 0, err
}

func (t *tx) RecordMail(certID int64, days int, at time.Time) error {
	_, err := t.exec(`INSERT INTO mail_sent (cert_id, days, sent_at) VALUES (?, ?, ?)`, certID, days, toDB(at))
	return err
}

// --- audit

func (t *tx) AppendAudit(e store.AuditEntry) error {
	_, err := t.exec(`INSERT INTO audit (at, actor, action, target, remote_addr, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		toDB(e.At), e.Actor, e.Action, e.Target, e.RemoteAddr, e.Detail)
	return err
}

func (t *tx) Audit(limit int) ([]store.AuditEntry, error) {
	rows, err := t.query(`SELECT at, actor, action, target, remote_addr, detail FROM audit ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (store.AuditEntry, error) {
		var e store.AuditEntry
		var at int64
		err := row.Scan(&at, &e.Actor, &e.Action, &e.Target, &e.RemoteAddr, &e.Detail)
		e.At = fromDB(at)
		return e, err
	})
}
