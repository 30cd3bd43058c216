// Package transfer moves a bank's records from its SQLite database into an
// empty PostgreSQL one, for a bank that outgrows one server: every row of
// every table, with its IDs, so that certificates, sessions, sent e-mail and
// the audit trail come across unchanged, and the CRL number where it stood,
// with the signed CRLs the servers serve.
//
// The copy reads one SQLite snapshot and writes one PostgreSQL transaction:
// it lands whole or not at all. Afterwards it counts the rows of every table
// on both sides and reads the SQLite counts again: a copy that lost a row, or
// a source that changed meanwhile (a server still running), is an error.
package transfer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/inkan-dev/inkan/server/store/postgres"
	"github.com/inkan-dev/inkan/server/store/sqlite"
)

// Tables are the tables copied, in an order that satisfies the foreign keys
// (users.current_cert_id is filled in after the certificates).
var Tables = []string{"contracts", "certificates", "users", "sessions", "mail_sent", "audit", "crl_number", "crls"}

// Counts is the number of rows of each table.
type Counts map[string]int64

// Report is what a transfer moved and checked.
type Report struct {
	Source, Target Counts
	// CRLNumber is the CRL number on both sides after the copy.
	CRLNumber int64
}

type column struct {
	name    string
	convert func(any) (any, error)
}

// columnsOf reads table's columns from the PostgreSQL schema, with how each
// SQLite value becomes a PostgreSQL one, and checks that SQLite has the same
// columns: a column on one side only (a migration without its twin) would
// lose data, so it stops the copy.
func columnsOf(ctx context.Context, src *sql.Tx, dst pgx.Tx, table string) ([]column, error) {
	rows, err := dst.Query(ctx, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
	if err != nil {
		return nil, err
	}
	var cols []column
	pgSet := map[string]bool{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		conv := asIs
		switch typ {
		case "timestamp with time zone":
			conv = asTime
		case "boolean":
			conv = asBool
		}
		cols = append(cols, column{name, conv})
		pgSet[name] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	srows, err := src.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer srows.Close()
	sqSet := map[string]bool{}
	for srows.Next() {
		var name string
		if err := srows.Scan(&name); err != nil {
			return nil, err
		}
		sqSet[name] = true
		if !pgSet[name] {
			return nil, fmt.Errorf("SQLite column %s.%s has no PostgreSQL twin: every SQLite migration needs one in server/store/postgres/migrations", table, name)
		}
	}
	if err := srows.Err(); err != nil {
		return nil, err
	}
	for name := range pgSet {
		if !sqSet[name] {
			return nil, fmt.Errorf("PostgreSQL column %s.%s has no SQLite twin", table, name)
		}
	}
	return cols, nil
}

func asIs(v any) (any, error) { return v, nil }

// asTime turns SQLite's Unix nanoseconds into a time (NULL stays NULL).
func asTime(v any) (any, error) {
	switch n := v.(type) {
	case nil:
		return nil, nil
	case int64:
		return time.Unix(0, n).UTC(), nil
	}
	return nil, fmt.Errorf("a time stored as %T, not Unix nanoseconds", v)
}

func asBool(v any) (any, error) {
	switch b := v.(type) {
	case int64:
		return b != 0, nil
	case bool:
		return b, nil
	}
	return nil, fmt.Errorf("a flag stored as %T", v)
}

// SQLiteToPostgres copies the SQLite database at path into the empty
// PostgreSQL database at dbURL and checks the copy. Both schemas are first
// brought up to date. Stop every server using the SQLite database first.
func SQLiteToPostgres(ctx context.Context, path, dbURL string, opts postgres.Options) (Report, error) {
	// Opening migrates the SQLite schema to the version the copy expects.
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		return Report{}, err
	}
	src.Close()
	ro, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return Report{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer ro.Close()
	dst, err := postgres.Open(ctx, dbURL, opts)
	if err != nil {
		return Report{}, err
	}
	defer dst.Close()

	snap, err := ro.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Report{}, fmt.Errorf("read %s: %w", path, err)
	}
	defer snap.Rollback()
	rep := Report{}
	if rep.Source, err = sqliteCounts(ctx, snap); err != nil {
		return rep, err
	}
	pg, err := dst.Pool().Begin(ctx)
	if err != nil {
		return rep, fmt.Errorf("begin: %w", err)
	}
	defer pg.Rollback(context.WithoutCancel(ctx))
	if err := checkEmpty(ctx, pg); err != nil {
		return rep, err
	}
	if err := checkTables(ctx, pg); err != nil {
		return rep, err
	}
	for _, table := range Tables {
		if err := copyTable(ctx, snap, pg, table); err != nil {
			return rep, fmt.Errorf("copy %s: %w", table, err)
		}
	}
	// New IDs continue after the copied ones.
	for _, table := range []string{"certificates", "audit"} {
		if _, err := pg.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), GREATEST((SELECT MAX(id) FROM %[1]s), 1), (SELECT COUNT(*) > 0 FROM %[1]s))`, table)); err != nil {
			return rep, fmt.Errorf("continue the IDs of %s: %w", table, err)
		}
	}
	if rep.Target, err = pgCounts(ctx, pg); err != nil {
		return rep, err
	}
	if err := compare(rep.Source, rep.Target); err != nil {
		return rep, err
	}
	var srcCRL, dstCRL int64
	if err := snap.QueryRowContext(ctx, `SELECT number FROM crl_number WHERE id = 1`).Scan(&srcCRL); err != nil {
		return rep, fmt.Errorf("read the CRL number: %w", err)
	}
	if err := pg.QueryRow(ctx, `SELECT number FROM crl_number WHERE id = 1`).Scan(&dstCRL); err != nil {
		return rep, fmt.Errorf("read the CRL number: %w", err)
	}
	if srcCRL != dstCRL {
		return rep, fmt.Errorf("CRL number %d in SQLite, %d copied", srcCRL, dstCRL)
	}
	rep.CRLNumber = dstCRL
	if err := compareCRLEntries(ctx, snap, pg); err != nil {
		return rep, err
	}
	if err := snap.Rollback(); err != nil {
		return rep, err
	}
	// Counted again outside the snapshot: a server still writing would show here.
	again, err := sqliteCounts(ctx, ro)
	if err != nil {
		return rep, err
	}
	if err := compare(rep.Source, again); err != nil {
		return rep, fmt.Errorf("the SQLite database changed during the copy (is a server still running on it? stop it and migrate into a fresh database): %w", err)
	}
	if err := pg.Commit(ctx); err != nil {
		return rep, fmt.Errorf("commit: %w", err)
	}
	return rep, nil
}

// compareCRLEntries checks that the CRL's content, every picked-up
// certificate revoked or superseded with its serial, time and status, reads
// the same from both sides.
func compareCRLEntries(ctx context.Context, src *sql.Tx, dst pgx.Tx) error {
	const where = ` FROM certificates WHERE status IN ('revoked', 'superseded') AND serial IS NOT NULL ORDER BY id`
	rows, err := src.QueryContext(ctx, `SELECT id, serial, status, withdrawn_at`+where)
	if err != nil {
		return err
	}
	defer rows.Close()
	var want []string
	for rows.Next() {
		var id, at int64
		var serial, status string
		if err := rows.Scan(&id, &serial, &status, &at); err != nil {
			return err
		}
		want = append(want, fmt.Sprintf("%d %s %s %s", id, serial, status, time.Unix(0, at).UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	prows, err := dst.Query(ctx, `SELECT id, serial, status, withdrawn_at`+where)
	if err != nil {
		return err
	}
	defer prows.Close()
	i := 0
	for prows.Next() {
		var id int64
		var serial, status string
		var at time.Time
		if err := prows.Scan(&id, &serial, &status, &at); err != nil {
			return err
		}
		got := fmt.Sprintf("%d %s %s %s", id, serial, status, at.UTC().Format(time.RFC3339Nano))
		if i >= len(want) || got != want[i] {
			return fmt.Errorf("CRL entry %d: copied %q, SQLite has %v", i, got, want[min(i, len(want)-1):])
		}
		i++
	}
	if err := prows.Err(); err != nil {
		return err
	}
	if i != len(want) {
		return fmt.Errorf("the copied CRL has %d entries, SQLite's %d", i, len(want))
	}
	return nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func sqliteCounts(ctx context.Context, q querier) (Counts, error) {
	c := Counts{}
	for _, t := range Tables {
		var n int64
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count SQLite %s: %w", t, err)
		}
		c[t] = n
	}
	return c, nil
}

func pgCounts(ctx context.Context, tx pgx.Tx) (Counts, error) {
	c := Counts{}
	for _, t := range Tables {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("count PostgreSQL %s: %w", t, err)
		}
		c[t] = n
	}
	return c, nil
}

func compare(want, got Counts) error {
	var errs []error
	for _, t := range Tables {
		if want[t] != got[t] {
			errs = append(errs, fmt.Errorf("%s: %d rows, want %d", t, got[t], want[t]))
		}
	}
	return errors.Join(errs...)
}

// checkTables refuses a schema with a table the copy does not know, which
// it would leave behind.
func checkTables(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'goose_db_version'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	known := map[string]bool{}
	for _, t := range Tables {
		known[t] = true
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		if !known[t] {
			return fmt.Errorf("table %s is not copied: add it to transfer.Tables", t)
		}
	}
	return rows.Err()
}

// checkEmpty refuses a target that holds any record: the migration moves a
// bank into a new database, it does not merge two.
func checkEmpty(ctx context.Context, tx pgx.Tx) error {
	for _, t := range Tables {
		if t == "crl_number" {
			continue // the schema's own starting row
		}
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+t+`)`).Scan(&any); err != nil {
			return err
		}
		if any {
			return fmt.Errorf("移行先のデータベースにはすでにデータがあります / the PostgreSQL database already holds %s: migrate into a new, empty database", t)
		}
	}
	return nil
}

func copyTable(ctx context.Context, src *sql.Tx, dst pgx.Tx, table string) error {
	cols, err := columnsOf(ctx, src, dst, table)
	if err != nil {
		return err
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	if table == "crl_number" {
		var n, signings int64
		if err := src.QueryRowContext(ctx, `SELECT number, signings FROM crl_number WHERE id = 1`).Scan(&n, &signings); err != nil {
			return err
		}
		_, err := dst.Exec(ctx, `UPDATE crl_number SET number = $1, signings = $2 WHERE id = 1`, n, signings)
		return err
	}
	sel := ""
	for i, n := range names {
		if i > 0 {
			sel += ", "
		}
		if table == "users" && n == "current_cert_id" {
			sel += "NULL" // set below, once every certificate is in
			continue
		}
		sel += n
	}
	order := "rowid"
	if table == "certificates" || table == "audit" {
		order = "id" // a renewal points at an older certificate
	}
	rows, err := src.QueryContext(ctx, `SELECT `+sel+` FROM `+table+` ORDER BY `+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	var all [][]any
	for rows.Next() {
		raw := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		for i, c := range cols {
			v, err := c.convert(raw[i])
			if err != nil {
				return fmt.Errorf("column %s: %w", c.name, err)
			}
			raw[i] = v
		}
		all = append(all, raw)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := dst.CopyFrom(ctx, pgx.Identifier{table}, names, pgx.CopyFromRows(all)); err != nil {
		return err
	}
	if table == "users" {
		crows, err := src.QueryContext(ctx, `SELECT login_id, current_cert_id FROM users WHERE current_cert_id IS NOT NULL`)
		if err != nil {
			return err
		}
		defer crows.Close()
		batch := &pgx.Batch{}
		for crows.Next() {
			var id string
			var cert int64
			if err := crows.Scan(&id, &cert); err != nil {
				return err
			}
			batch.Queue(`UPDATE users SET current_cert_id = $1 WHERE login_id = $2`, cert, id)
		}
		if err := crows.Err(); err != nil {
			return err
		}
		if err := dst.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("current certificates: %w", err)
		}
	}
	return nil
}
