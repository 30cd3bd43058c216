// Package postgres is the PostgreSQL implementation of store.Store, for a
// bank that outgrows one server: several `inkan-server serve` processes share
// one PostgreSQL database and behave as one server.
//
// # Several writers
//
// The life-cycle rules read a record, decide, and write it back, which SQLite's
// single writer makes safe. Here several processes write at once, so the
// database itself serializes what must be serialized:
//
//   - Inside Update, reading a user takes its row lock (SELECT … FOR NO KEY
//     UPDATE) until the transaction ends, and reading a certificate first takes
//     the lock of the user it belongs to. Every change of an ID's records
//     therefore runs one at a time, in the same lock order everywhere: the
//     lockout count, "one current certificate per ID", the repeat grace.
//   - The CRL number is one row bumped with UPDATE, so bumps queue on its row
//     lock and commit in order; a change's bump runs last, just before its
//     commit, so the lock is held only that long. A server about to sign a
//     new CRL takes the same lock (CRLChanges) and stores the CRL in the
//     crls table before it lets go: one server at a time signs, each number
//     names one CRL, and every server serves that one.
//   - A partial unique index allows one waiting or active certificate per ID.
//   - [DB.Exclusive] is a session-level advisory lock, which the server drops
//     when the holding process dies: the expiry e-mail sweep runs on one server
//     at a time.
//
// Update runs at READ COMMITTED and retries the whole function when the
// database aborts it for a deadlock or a serialization failure. View runs a
// read-only REPEATABLE READ transaction: one snapshot, as SQLite's readers see.
//
// The schema is versioned by goose migrations embedded from migrations/, each
// the twin of the SQLite migration with the same number; concurrent servers
// starting at once migrate under goose's advisory lock.
package postgres

import (
	"context"
	"crypto/x509"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a store.Store over one PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*DB)(nil)

// Options are the choices of [Open] beyond the URL.
type Options struct {
	// PasswordFile, when set, is a file whose first line is the database
	// password. Without it the password comes from the PGPASSWORD environment
	// variable or a PGPASSFILE / ~/.pgpass file, as with psql. A password in
	// the URL itself is accepted here, but the command line refuses it.
	PasswordFile string
	// MaxConns bounds the connection pool; 0 means 16.
	MaxConns int32
}

// IsURL reports whether s names a PostgreSQL database (postgres:// or postgresql://).
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// URLHasPassword reports whether the URL carries a password, which must not
// be typed on a command line where every user of the machine can read it.
func URLHasPassword(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	if _, ok := u.User.Password(); ok {
		return true
	}
	return u.Query().Has("password")
}

// Redact returns the URL with any password replaced, for messages and logs.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Open connects to the database at dbURL (a postgres:// URL; its sslmode,
// sslrootcert, sslcert and sslkey parameters ask for TLS as libpq's do) and
// brings its schema up to date. A refusal of the database (password, TLS,
// pg_hba.conf) is explained, in Japanese and English, in the error.
func Open(ctx context.Context, dbURL string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("database URL %s: データベースの URL を読めません / the URL cannot be used: %w", Redact(dbURL), err)
	}
	if opts.PasswordFile != "" {
		pw, err := readPassword(opts.PasswordFile)
		if err != nil {
			return nil, err
		}
		cfg.ConnConfig.Password = pw
	}
	cfg.MaxConns = 16
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "inkan-server"
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", Redact(dbURL), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %s%w", Redact(dbURL), explain(err, cfg.ConnConfig.Config), err)
	}
	db := &DB{pool: pool}
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate database %s: %w", Redact(dbURL), err)
	}
	return db, nil
}

// explain says what to do about a failed connection, ending in ": ", or
// returns "" when there is nothing to add to err.
func explain(err error, cfg pgconn.Config) string {
	var pg *pgconn.PgError
	var unknownCA x509.UnknownAuthorityError
	var badHost x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &pg) && pg.Code == "28P01" && cfg.Password == "":
		return fmt.Sprintf("データベースのパスワードがありません / the database asks for the password of %q and none was given: put it in a file (--db-password-file, database.password_file), PGPASSWORD or PGPASSFILE: ", cfg.User)
	case errors.As(err, &pg) && pg.Code == "28P01":
		return fmt.Sprintf("データベースがパスワードを受け付けませんでした / the database refused the password of %q: check the password file (--db-password-file, database.password_file), PGPASSWORD or PGPASSFILE: ", cfg.User)
	case errors.As(err, &pg) && pg.Code == "28000" && strings.Contains(pg.Message, "no encryption"):
		return "データベースが TLS なしの接続を拒否しました / the database accepts only TLS connections: add sslmode=verify-full&sslrootcert=FILE (the CA of the database's certificate) to the URL: "
	case errors.As(err, &pg) && pg.Code == "28000":
		return "データベースがこの接続を許可していません / the database's pg_hba.conf does not let this user connect from here: "
	case errors.As(err, &badHost):
		return fmt.Sprintf("データベースの証明書のホスト名が一致しません / the database's certificate is not for the host %q of the URL: use a name the certificate carries, or have the certificate made for this one: ", badHost.Host)
	case errors.As(err, &unknownCA):
		return "データベースの証明書を検証できません / the database's certificate is not signed by the CA of sslrootcert (or, without it, by a CA of this machine): give sslrootcert=FILE with the CA that signed it: "
	case errors.As(err, &invalid):
		return "データベースの証明書が無効です / the database's certificate is not valid (expired, or not for a server): "
	case strings.Contains(err.Error(), "server refused TLS connection"):
		return "データベースが TLS に対応していません / the database does not offer TLS, which the URL's sslmode requires: turn ssl on in its postgresql.conf: "
	}
	return ""
}

// Security says how connections to dbURL are protected, for the server's
// log, and whether that is enough: false when records would cross a network
// without TLS or with a certificate nobody checks.
func Security(dbURL string) (desc string, ok bool) {
	cfg, err := pgconn.ParseConfig(dbURL)
	if err != nil {
		return "unknown (" + err.Error() + ")", false
	}
	if strings.HasPrefix(cfg.Host, "/") {
		return "unix socket", true
	}
	loopback := cfg.Host == "localhost"
	if ip := net.ParseIP(cfg.Host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	plainFallback := false
	for _, f := range cfg.Fallbacks {
		plainFallback = plainFallback || f.TLSConfig == nil
	}
	switch t := cfg.TLSConfig; {
	case t == nil:
		return "no TLS (sslmode=disable)", loopback
	case plainFallback:
		return "TLS only if the database offers it, and its certificate not checked (sslmode=prefer or allow)", loopback
	case t.InsecureSkipVerify && t.VerifyPeerCertificate == nil:
		return "TLS, the database's certificate not checked (sslmode=require)", loopback
	case t.InsecureSkipVerify:
		return "TLS, the database's certificate checked against the CA but not its host name (sslmode=verify-ca)", true
	}
	return "TLS, the database's certificate and host name verified (sslmode=verify-full)", true
}

// readPassword reads the first line of a password file, which must be the
// owner's alone (as libpq asks of a .pgpass file).
func readPassword(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("データベースのパスワードファイルを読めません / read the database password file: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("データベースのパスワードファイル %s を他の利用者も読めます / the database password file %s can be read by other users (mode %04o): chmod 600 %s", path, path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("データベースのパスワードファイルを読めません / read the database password file: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("データベースのパスワードファイル %s が空です / the database password file %s is empty: its first line is the password", path, path)
	}
	return pw, nil
}

func (db *DB) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return err
	}
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub, goose.WithSessionLocker(locker))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Close closes the connection pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Pool is the connection pool, for the migration command and tests.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// View runs fn in a read-only REPEATABLE READ transaction.
func (db *DB) View(ctx context.Context, fn func(store.Tx) error) error {
	return db.run(ctx, `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`, false, fn)
}

// maxAttempts bounds the runs of one Update aborted by deadlocks or
// serialization failures.
const maxAttempts = 10

// Update runs fn in a READ COMMITTED transaction in which reading a user or a
// certificate locks the user's row; it runs fn again when the database
// aborted the transaction for a deadlock or a serialization failure.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.run(ctx, `BEGIN ISOLATION LEVEL READ COMMITTED`, true, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts {
			return err
		}
		// Back off a little, at random, so the transactions that collided do not collide again.
		select {
		case <-time.After(time.Duration(rand.IntN(attempt*5)+1) * time.Millisecond):
		case <-ctx.Done():
			return err
		}
	}
}

func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// run runs fn in a transaction that begin opens. Every statement is a
// round trip to the database, so the transaction saves two: BEGIN goes with
// its first statement, and the CRL-number bump with COMMIT, each pair in one
// pipeline (pgx.Batch).
func (db *DB) run(ctx context.Context, begin string, write bool, fn func(store.Tx) error) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	// The pool drops a connection that is closed or still in a transaction.
	defer conn.Release()
	t := &tx{ctx: ctx, conn: conn.Conn(), begin: begin, write: write}
	ended := false
	defer func() {
		// Rolled back on error and on panic alike. A connection whose
		// rollback fails is closed, which ends the transaction too.
		if t.begun && !ended {
			if _, err := t.conn.Exec(context.WithoutCancel(ctx), `ROLLBACK`); err != nil {
				t.conn.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	if !t.begun && t.bumps == 0 {
		return nil // fn ran no statement: there is nothing to commit
	}
	b := &pgx.Batch{}
	if t.bumps > 0 {
		// Last, so the counter's row lock is held only through the commit.
		b.Queue(`UPDATE crl_number SET number = number + $1 WHERE id = 1`, t.bumps)
	}
	b.Queue(`COMMIT`)
	br, err := t.batch(b)
	if err != nil {
		return err
	}
	if t.bumps > 0 {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("bump the CRL number: %w", err)
		}
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	ended = true
	if tag.String() != "COMMIT" {
		return fmt.Errorf("commit: %w", pgx.ErrTxCommitRollback)
	}
	return nil
}

// lockSpace is the first key of the advisory locks Exclusive takes, so they
// do not collide with other applications' locks in the same database.
const lockSpace = 0x696e6b61 // "inka"

// Exclusive runs fn while holding a session-level advisory lock named name
// (within the schema the store lives in) on a connection of its own, or returns false at once if another session
// holds it. The lock ends with fn, or with the connection if the process dies.
func (db *DB) Exclusive(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", name, err)
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext(current_schema() || '.' || $2))`, lockSpace, name).Scan(&got); err != nil {
		return false, fmt.Errorf("claim %s: %w", name, err)
	}
	if !got {
		return false, nil
	}
	defer func() {
		var released bool
		err := conn.QueryRow(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, hashtext(current_schema() || '.' || $2))`, lockSpace, name).Scan(&released)
		if err != nil || !released {
			// Closing the session is what surely ends its locks.
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
	}()
	return true, fn(ctx)
}

type tx struct {
	ctx  context.Context
	conn *pgx.Conn
	// begin opens the transaction; it goes to the database with the first
	// statement, in one round trip, and begun is set then.
	begin string
	begun bool
	write bool
	// locked are the users whose rows this transaction holds locked.
	locked map[string]bool
	// lockedRows are users as the statement that locked them read them, for
	// the next User of the same ID, until this transaction writes that user.
	lockedRows map[string]store.User
	// bumps are the CRL-number increments BumpCRLNumber left for the commit.
	bumps int64
}

// batch sends b's statements in one round trip, after BEGIN if the
// transaction has not begun. The caller reads the results in order and
// closes them.
func (t *tx) batch(b *pgx.Batch) (pgx.BatchResults, error) {
	if t.begun {
		return t.conn.SendBatch(t.ctx, b), nil
	}
	withBegin := &pgx.Batch{}
	withBegin.Queue(t.begin)
	withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
	t.begun = true
	br := t.conn.SendBatch(t.ctx, withBegin)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return br, nil
}

func (t *tx) queryRow(query string, args ...any) pgx.Row {
	if t.begun {
		return t.conn.QueryRow(t.ctx, query, args...)
	}
	b := &pgx.Batch{}
	b.Queue(query, args...)
	br, err := t.batch(b)
	if err != nil {
		return errRow{err}
	}
	return batchRow{br}
}

// batchRow is the one row of a batch's last statement.
type batchRow struct{ br pgx.BatchResults }

func (r batchRow) Scan(dest ...any) error {
	err := r.br.QueryRow().Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (t *tx) exec(query string, args ...any) (pgconn.CommandTag, error) {
	var tag pgconn.CommandTag
	var err error
	if t.begun {
		tag, err = t.conn.Exec(t.ctx, query, args...)
	} else {
		b := &pgx.Batch{}
		b.Queue(query, args...)
		var br pgx.BatchResults
		if br, err = t.batch(b); err != nil {
			return tag, err
		}
		tag, err = br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}
	if isUniqueViolation(err) {
		return tag, store.ErrConflict
	}
	return tag, err
}

func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23505"
}

// mustAffect turns "no row changed" into store.ErrNotFound.
func mustAffect(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// inserted turns "no row inserted" (ON CONFLICT DO NOTHING) into
// store.ErrConflict. The conflict is reported without a failed statement, so
// the transaction stays usable, as it does in SQLite.
func inserted(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrConflict
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// --- contracts

func (t *tx) CreateContract(c store.Contract) error {
	return inserted(t.exec(`INSERT INTO contracts (id, name, created_at, certificate_mode_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
		c.ID, c.Name, c.CreatedAt, c.CertificateModeAt))
}

const contractCols = `id, name, created_at, certificate_mode_at`

func scanContract(row pgx.Row) (store.Contract, error) {
	var c store.Contract
	if err := row.Scan(&c.ID, &c.Name, &c.CreatedAt, &c.CertificateModeAt); err != nil {
		return c, notFound(err)
	}
	c.CreatedAt, c.CertificateModeAt = c.CreatedAt.UTC(), utc(c.CertificateModeAt)
	return c, nil
}

func (t *tx) Contract(id string) (store.Contract, error) {
	return scanContract(t.queryRow(`SELECT `+contractCols+` FROM contracts WHERE id = $1`, id))
}

func (t *tx) Contracts() ([]store.Contract, error) {
	return collect(t, scanContract, `SELECT `+contractCols+` FROM contracts ORDER BY created_at, id`)
}

func (t *tx) UpdateContract(c store.Contract) error {
	return mustAffect(t.exec(`UPDATE contracts SET name = $1, certificate_mode_at = $2 WHERE id = $3`,
		c.Name, c.CertificateModeAt, c.ID))
}

func collect[T any](t *tx, scan func(pgx.Row) (T, error), query string, args ...any) ([]T, error) {
	var rows pgx.Rows
	var err error
	if t.begun {
		rows, err = t.conn.Query(t.ctx, query, args...)
	} else {
		b := &pgx.Batch{}
		b.Queue(query, args...)
		br, berr := t.batch(b)
		if berr != nil {
			return nil, berr
		}
		defer br.Close() // after rows.Close, below
		rows, err = br.Query()
	}
	if err != nil {
		return nil, err
	}
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

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	var role string
	if err := row.Scan(&u.LoginID, &u.ContractID, &role, &u.DisplayName, &u.Email, &u.PasswordHash,
		&u.FailedLogins, &u.Locked, &u.LastLoginAt, &u.CreatedAt, &u.CurrentCertID); err != nil {
		return u, notFound(err)
	}
	u.Role, u.LastLoginAt, u.CreatedAt = wire.Role(role), utc(u.LastLoginAt), u.CreatedAt.UTC()
	return u, nil
}

func (t *tx) CreateUser(u store.User) error {
	return inserted(t.exec(`INSERT INTO users (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
		u.LoginID, u.ContractID, string(u.Role), u.DisplayName, u.Email, u.PasswordHash,
		u.FailedLogins, u.Locked, u.LastLoginAt, u.CreatedAt, u.CurrentCertID))
}

func (t *tx) User(loginID string) (store.User, error) {
	if u, ok := t.lockedRows[loginID]; ok {
		// Read under the lock this transaction holds, and not written since:
		// the row cannot have changed.
		delete(t.lockedRows, loginID)
		return u, nil
	}
	q := `SELECT ` + userCols + ` FROM users WHERE lower(login_id) = lower($1)`
	if t.write {
		q += ` FOR NO KEY UPDATE`
	}
	u, err := scanUser(t.queryRow(q, loginID))
	if err == nil && t.write {
		if t.locked == nil {
			t.locked = map[string]bool{}
		}
		t.locked[loginID] = true
	}
	return u, err
}

func (t *tx) Users(contractID string) ([]store.User, error) {
	return collect(t, scanUser, `SELECT `+userCols+` FROM users WHERE contract_id = $1 ORDER BY created_at, login_id`, contractID)
}

func (t *tx) AdminCurrentCertificates(contractID string) ([]store.Certificate, error) {
	// A plain read, one statement, no row lock: the contract-blocked check
	// that asks this runs in every pickup, renewal and login of the contract,
	// and taking each admin's lock there would queue all of them behind one
	// row. What it reads is committed state, as of this statement.
	return collect(t, scanCert, `SELECT c.`+strings.ReplaceAll(certCols, ", ", ", c.")+`
		FROM users u JOIN certificates c ON c.id = u.current_cert_id
		WHERE u.contract_id = $1 AND u.role = 'admin' ORDER BY u.created_at, u.login_id`, contractID)
}

func (t *tx) UpdateUser(u store.User) error {
	delete(t.lockedRows, u.LoginID)
	return mustAffect(t.exec(`UPDATE users SET role = $1, display_name = $2, email = $3, password_hash = $4,
		failed_logins = $5, locked = $6, last_login_at = $7, current_cert_id = $8 WHERE login_id = $9`,
		string(u.Role), u.DisplayName, u.Email, u.PasswordHash, u.FailedLogins, u.Locked,
		u.LastLoginAt, u.CurrentCertID, u.LoginID))
}

func (t *tx) DeleteUser(loginID string) error {
	delete(t.lockedRows, loginID)
	return mustAffect(t.exec(`DELETE FROM users WHERE login_id = $1`, loginID))
}

// --- certificates

const certCols = `id, login_id, contract_id, status, issued_at, pickup_deadline, serial, der, not_before, not_after, withdrawn_at, renewal_of`

func scanCert(row pgx.Row) (store.Certificate, error) {
	var c store.Certificate
	var status string
	var serial *string
	if err := row.Scan(&c.ID, &c.LoginID, &c.ContractID, &status, &c.IssuedAt, &c.PickupDeadline, &serial, &c.DER,
		&c.NotBefore, &c.NotAfter, &c.WithdrawnAt, &c.RenewalOf); err != nil {
		return c, notFound(err)
	}
	if serial != nil {
		c.Serial = *serial
	}
	c.Status, c.IssuedAt, c.PickupDeadline = store.CertStatus(status), c.IssuedAt.UTC(), c.PickupDeadline.UTC()
	c.NotBefore, c.NotAfter, c.WithdrawnAt = utc(c.NotBefore), utc(c.NotAfter), utc(c.WithdrawnAt)
	return c, nil
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (t *tx) InsertCertificate(c store.Certificate) (int64, error) {
	var id int64
	err := t.queryRow(`INSERT INTO certificates (login_id, contract_id, status, issued_at, pickup_deadline, serial, der, not_before, not_after, withdrawn_at, renewal_of)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING RETURNING id`,
		c.LoginID, c.ContractID, string(c.Status), c.IssuedAt, c.PickupDeadline,
		nullString(c.Serial), c.DER, c.NotBefore, c.NotAfter, c.WithdrawnAt, c.RenewalOf).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, store.ErrConflict
	}
	return id, err
}

// lockedCert reads one certificate. In Update it first takes the lock of the
// certificate's user, so that the record read cannot change before the
// transaction ends, and user-then-certificate stays the one lock order.
func (t *tx) lockedCert(where string, arg any) (store.Certificate, error) {
	q := `SELECT ` + certCols + ` FROM certificates WHERE ` + where
	c, err := scanCert(t.queryRow(q, arg))
	if err != nil || !t.write || t.locked[c.LoginID] {
		return c, err
	}
	// Lock, then read again: the first read may predate a change committed
	// while we waited for the lock. Both go in one round trip (a pipeline);
	// the second statement's snapshot is taken after the first has the lock.
	// The locking read returns the user's newest row, which the caller
	// usually asks for next (User): it is kept for that.
	b := &pgx.Batch{}
	b.Queue(`SELECT `+userCols+` FROM users WHERE login_id = $1 FOR NO KEY UPDATE`, c.LoginID)
	b.Queue(q, arg)
	br, err := t.batch(b)
	if err != nil {
		return store.Certificate{}, err
	}
	u, err := scanUser(br.QueryRow())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		br.Close()
		return store.Certificate{}, fmt.Errorf("lock user %s: %w", c.LoginID, err)
	}
	if err == nil {
		if t.lockedRows == nil {
			t.lockedRows = map[string]store.User{}
		}
		t.lockedRows[u.LoginID] = u
	}
	c, err = scanCert(br.QueryRow())
	if cerr := br.Close(); err == nil && cerr != nil {
		return store.Certificate{}, cerr
	}
	if err == nil {
		if t.locked == nil {
			t.locked = map[string]bool{}
		}
		t.locked[c.LoginID] = true
	}
	return c, err
}

func (t *tx) Certificate(id int64) (store.Certificate, error) {
	return t.lockedCert(`id = $1`, id)
}

func (t *tx) CertificateBySerial(serial string) (store.Certificate, error) {
	return t.lockedCert(`serial = $1`, serial)
}

func (t *tx) UpdateCertificate(c store.Certificate) error {
	return mustAffect(t.exec(`UPDATE certificates SET status = $1, serial = $2, der = $3, not_before = $4, not_after = $5, withdrawn_at = $6
		WHERE id = $7`,
		string(c.Status), nullString(c.Serial), c.DER, c.NotBefore, c.NotAfter, c.WithdrawnAt, c.ID))
}

func (t *tx) Certificates(loginID string) ([]store.Certificate, error) {
	if loginID == "" {
		return collect(t, scanCert, `SELECT `+certCols+` FROM certificates ORDER BY id DESC`)
	}
	return collect(t, scanCert, `SELECT `+certCols+` FROM certificates WHERE lower(login_id) = lower($1) ORDER BY id DESC`, loginID)
}

func (t *tx) WithdrawnCertificates() ([]store.Certificate, error) {
	return collect(t, scanCert, `SELECT `+certCols+` FROM certificates
		WHERE status IN ('revoked', 'superseded') AND serial IS NOT NULL ORDER BY id`)
}

func (t *tx) ActiveCertificatesExpiringBy(by time.Time) ([]store.Certificate, error) {
	return collect(t, scanCert, `SELECT `+certCols+` FROM certificates
		WHERE status = 'active' AND not_after <= $1 ORDER BY not_after, id`, by)
}

func (t *tx) CRLNumber() (int64, error) {
	var n int64
	err := t.queryRow(`SELECT number FROM crl_number WHERE id = 1`).Scan(&n)
	return n, notFound(err)
}

func (t *tx) NextCRLNumber() (int64, error) {
	var n int64
	err := t.queryRow(`UPDATE crl_number SET number = number + 1 + $1, signings = signings + 1 WHERE id = 1 RETURNING number`, t.bumps).Scan(&n)
	t.bumps = 0
	return n, notFound(err)
}

// CRLChanges, inside Update, locks the counter's row (FOR UPDATE) until the
// transaction ends: a server that found the stored CRL stale signs the next
// one while the others wait, and they then find it current. The pending
// bumps of this transaction count.
func (t *tx) CRLChanges() (int64, error) {
	q := `SELECT number - signings FROM crl_number WHERE id = 1`
	if t.write {
		q += ` FOR UPDATE`
	}
	var n int64
	err := t.queryRow(q).Scan(&n)
	return n + t.bumps, notFound(err)
}

func (t *tx) SignedCRLInfo(issuer string) (store.SignedCRL, error) {
	c := store.SignedCRL{Issuer: issuer}
	err := t.queryRow(`SELECT number, changes, this_update FROM crls WHERE issuer = $1`, issuer).Scan(&c.Number, &c.Changes, &c.ThisUpdate)
	c.ThisUpdate = c.ThisUpdate.UTC()
	return c, notFound(err)
}

func (t *tx) SignedCRL(issuer string) (store.SignedCRL, error) {
	c := store.SignedCRL{Issuer: issuer}
	err := t.queryRow(`SELECT number, changes, this_update, der FROM crls WHERE issuer = $1`, issuer).Scan(&c.Number, &c.Changes, &c.ThisUpdate, &c.DER)
	c.ThisUpdate = c.ThisUpdate.UTC()
	return c, notFound(err)
}

func (t *tx) PutSignedCRL(c store.SignedCRL) error {
	err := mustAffect(t.exec(`INSERT INTO crls (issuer, number, changes, this_update, der) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (issuer) DO UPDATE SET number = excluded.number, changes = excluded.changes, this_update = excluded.this_update, der = excluded.der
		WHERE crls.number < excluded.number`, c.Issuer, c.Number, c.Changes, c.ThisUpdate, c.DER))
	if errors.Is(err, store.ErrNotFound) {
		return store.ErrConflict // a CRL with this number or a higher one is stored already
	}
	return err
}

// BumpCRLNumber leaves the increment for the end of the transaction: the
// counter is one row that every change to the CRL updates, and its lock,
// taken last, is then held only through the commit instead of through the
// rest of the change (signing, inserts, the audit row).
func (t *tx) BumpCRLNumber() error {
	if !t.write {
		return errors.New("bump the CRL number: read-only transaction")
	}
	t.bumps++
	return nil
}

// --- sessions

func (t *tx) CreateSession(s store.Session) error {
	return inserted(t.exec(`INSERT INTO sessions (token_hash, login_id, cert_serial, created_at, expires_at, previous_login_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		s.TokenHash, s.LoginID, s.CertSerial, s.CreatedAt, s.ExpiresAt, s.PreviousLoginAt))
}

func (t *tx) Session(tokenHash string) (store.Session, error) {
	var s store.Session
	err := t.queryRow(`SELECT token_hash, login_id, cert_serial, created_at, expires_at, previous_login_at FROM sessions WHERE token_hash = $1`, tokenHash).
		Scan(&s.TokenHash, &s.LoginID, &s.CertSerial, &s.CreatedAt, &s.ExpiresAt, &s.PreviousLoginAt)
	if err != nil {
		return s, notFound(err)
	}
	s.CreatedAt, s.ExpiresAt, s.PreviousLoginAt = s.CreatedAt.UTC(), s.ExpiresAt.UTC(), utc(s.PreviousLoginAt)
	return s, nil
}

func (t *tx) DeleteSession(tokenHash string) error {
	return mustAffect(t.exec(`DELETE FROM sessions WHERE token_hash = $1`, tokenHash))
}

func (t *tx) DeleteSessionsOf(loginID string) error {
	_, err := t.exec(`DELETE FROM sessions WHERE login_id = $1`, loginID)
	return err
}

func (t *tx) DeleteExpiredSessions(before time.Time) (int64, error) {
	tag, err := t.exec(`DELETE FROM sessions WHERE expires_at < $1`, before)
	return tag.RowsAffected(), err
}

// --- mail

func (t *tx) MailSent(certID int64, days int) (bool, error) {
	var sent bool
	err := t.queryRow(`SELECT EXISTS (SELECT 1 FROM mail_sent WHERE cert_id = $1 AND days = $2)`, certID, days).Scan(&sent)
	return sent, err
}

func (t *tx) RecordMail(certID int64, days int, at time.Time) error {
	return inserted(t.exec(`INSERT INTO mail_sent (cert_id, days, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, certID, days, at))
}

// --- audit

func (t *tx) AppendAudit(e store.AuditEntry) error {
	_, err := t.exec(`INSERT INTO audit (at, actor, action, target, remote_addr, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.At, e.Actor, e.Action, e.Target, e.RemoteAddr, e.Detail)
	return err
}

func (t *tx) Audit(limit int) ([]store.AuditEntry, error) {
	return collect(t, func(row pgx.Row) (store.AuditEntry, error) {
		var e store.AuditEntry
		err := row.Scan(&e.At, &e.Actor, &e.Action, &e.Target, &e.RemoteAddr, &e.Detail)
		e.At = e.At.UTC()
		return e, err
	}, `SELECT at, actor, action, target, remote_addr, detail FROM audit ORDER BY id DESC LIMIT $1`, limit)
}
