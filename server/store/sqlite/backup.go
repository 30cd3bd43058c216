package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
)

// Backup writes a consistent copy of the database at path to the new file dst,
// safe while a server uses the database: SQLite's VACUUM INTO reads one
// snapshot in a read transaction, so writers go on and the copy holds every
// transaction committed before it began. The copy is written under a temporary
// name, checked (integrity and schema version), synced and then renamed to dst,
// so dst is either a whole checked backup or absent. dst must not exist.
//
// This is the way to copy the database: copying inkan.db with cp while a
// server runs can miss the transactions still in inkan.db-wal, or tear pages.
func Backup(ctx context.Context, path, dst string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("back up the database: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("バックアップ先のファイル %s が既にあります。新しいファイル名を指定してください / back up the database: %s already exists; name a new file", dst, dst)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".*.partial") // mode 0600: it holds password hashes
	if err != nil {
		return fmt.Errorf("back up the database: %w", err)
	}
	tmpPath := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			os.Remove(tmpPath)
		}
	}()
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("back up the database: %w", err)
	}
	src, err := sql.Open("sqlite", fileURI(path, "mode=ro&_pragma=busy_timeout(10000)"))
	if err != nil {
		return fmt.Errorf("back up the database: open %s: %w", path, err)
	}
	defer src.Close()
	// VACUUM INTO accepts an existing empty file, so the copy keeps tmp's 0600.
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, tmpPath); err != nil {
		return fmt.Errorf("back up the database %s: %w", path, err)
	}
	if _, err := Check(ctx, tmpPath); err != nil {
		return fmt.Errorf("back up the database: the copy does not check: %w", err)
	}
	if err := syncFile(tmpPath); err != nil {
		return fmt.Errorf("back up the database: %w", err)
	}
	if err := os.Link(tmpPath, dst); err != nil { // unlike rename, never replaces a dst made meanwhile
		return fmt.Errorf("back up the database: %w", err)
	}
	committed = true
	os.Remove(tmpPath)
	return syncDir(filepath.Dir(dst))
}

// Check opens the database file at path read-only and checks it: SQLite's
// integrity_check and foreign_key_check must pass, and its schema version must
// be one this build knows (a backup from a newer version is refused). It returns
// the schema version.
func Check(ctx context.Context, path string) (int64, error) {
	if _, err := os.Stat(path); err != nil {
		return 0, err
	}
	db, err := sql.Open("sqlite", fileURI(path, "mode=ro"))
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return 0, fmt.Errorf("%s is not an SQLite database: %w", path, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return 0, err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("integrity check of %s: %w", path, err)
	}
	if len(problems) > 0 {
		return 0, fmt.Errorf("%s is damaged (integrity_check: %s)", path, strings.Join(problems, "; "))
	}
	var fkTable string
	switch err := db.QueryRowContext(ctx, `PRAGMA foreign_key_check`).Scan(&fkTable, new(any), new(any), new(any)); {
	case err == nil:
		return 0, fmt.Errorf("%s is damaged: a row of %s points at a record that does not exist (foreign_key_check)", path, fkTable)
	case !errors.Is(err, sql.ErrNoRows):
		return 0, fmt.Errorf("foreign key check of %s: %w", path, err)
	}
	var version sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version_id) FROM goose_db_version WHERE is_applied`).Scan(&version); err != nil || !version.Valid {
		return 0, fmt.Errorf("%s is not an Inkan database (no schema version): %v", path, err)
	}
	known, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return 0, err
	}
	if version.Int64 > int64(len(known)) {
		return 0, fmt.Errorf("%s has schema version %d, newer than this inkan-server knows (%d): restore it with the version that wrote it",
			path, version.Int64, len(known))
	}
	return version.Int64, nil
}

// Restore replaces the database at path with the backup src, after checking
// src with [Check]. It refuses while anything has the database open (a running
// server, an operator command, an sqlite3 shell): it takes SQLite's exclusive
// lock first and holds it to the end. The database it replaces is first saved
// beside it as path.before-restore-TIME, and SQLite's backup API writes the
// pages into the locked database, WAL and all, so no stale -wal can be applied
// to the restored file. The next Open brings an older backup's schema up to date.
func Restore(ctx context.Context, path, src string) (saved string, err error) {
	if _, err := Check(ctx, src); err != nil {
		return "", fmt.Errorf("restore refused: %w", err)
	}
	if err := restrictFiles(path); err != nil {
		return "", err
	}
	// One connection, exclusive locking mode, and no busy wait: if another
	// connection holds even a SHARED lock, BEGIN EXCLUSIVE fails at once.
	db, err := sql.Open("sqlite", fileURI(path, "_pragma=locking_mode(EXCLUSIVE)&_pragma=busy_timeout(0)"))
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		return "", fmt.Errorf("データベース %s は使用中のため復元できません。inkan-server serve など、開いているプログラムをすべて停止してから復元してください / restore refused: %s is in use: stop inkan-server serve and every other program using it first: %w", path, path, err)
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	var pages int64
	if err := conn.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	// The CRL numbers the replaced database reached have been published:
	// RFC 5280 §5.2.3 wants every later CRL's number greater, and an older
	// backup's counter would sign them again for other contents.
	var published int64
	if pages > 0 {
		if err := conn.QueryRowContext(ctx, `SELECT number FROM crl_number WHERE id = 1`).Scan(&published); err != nil && !isNoSuchTable(err) && !errors.Is(err, sql.ErrNoRows) {
			return "", fmt.Errorf("restore: read the current CRL number: %w", err)
		}
	}
	if pages > 0 {
		saved = path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if f, err := os.OpenFile(saved, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return "", fmt.Errorf("restore: keep the current database: %w", err)
		} else if err := f.Close(); err != nil {
			return "", fmt.Errorf("restore: keep the current database: %w", err)
		}
		if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, saved); err != nil {
			os.Remove(saved)
			return "", fmt.Errorf("restore: keep the current database as %s: %w", saved, err)
		}
		if err := syncFile(saved); err != nil {
			return "", fmt.Errorf("restore: %w", err)
		}
	}
	err = conn.Raw(func(dc any) error {
		r, ok := dc.(interface {
			NewRestore(string) (*msqlite.Backup, error)
		})
		if !ok {
			return fmt.Errorf("the SQLite driver has no backup API (%T)", dc)
		}
		b, err := r.NewRestore(fileURI(src, "mode=ro"))
		if err != nil {
			return err
		}
		for {
			more, err := b.Step(-1)
			if err != nil {
				b.Finish()
				return err
			}
			if !more {
				return b.Finish()
			}
		}
	})
	if err != nil {
		return saved, fmt.Errorf("restore %s from %s: %w", path, src, err)
	}
	if published > 0 {
		// A number above every one published is a change to the CRL, so the
		// next CRL the server serves is signed afresh under a new number.
		if _, err := conn.ExecContext(ctx, `UPDATE crl_number SET number = ? WHERE id = 1 AND number <= ?`, published+1, published); err != nil && !isNoSuchTable(err) {
			return saved, fmt.Errorf("restore: carry the CRL number %d over: %w", published, err)
		}
	}
	return saved, nil
}

// isNoSuchTable reports SQLite's answer for a table the schema lacks (a
// database older than the migration that made it).
func isNoSuchTable(err error) bool { return strings.Contains(err.Error(), "no such table") }

// fileURI is an SQLite URI for path with the given query.
func fileURI(path, query string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + query
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
