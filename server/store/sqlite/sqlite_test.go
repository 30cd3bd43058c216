package sqlite

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/store"
)

func openTemp(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "inkan.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// viewRow scans the one row of query, run in a View.
func viewRow(db *DB, query string, dest ...any) error {
	return db.View(context.Background(), func(st store.Tx) error { return st.(*tx).queryRow(query).Scan(dest...) })
}

func TestOpenAppliesEveryMigration(t *testing.T) {
	db := openTemp(t)
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	var version int
	if err := viewRow(db, `SELECT MAX(version_id) FROM goose_db_version`, &version); err != nil {
		t.Fatal(err)
	}
	if version != len(files) {
		t.Fatalf("schema version %d, want %d (one per migration)", version, len(files))
	}
	err = db.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.CRLNumber()
		return err
	})
	if err != nil {
		t.Fatalf("the last migration's table: %v", err)
	}
}

func TestForeignKeysAndWALAreOn(t *testing.T) {
	db := openTemp(t)
	var mode string
	if err := viewRow(db, `PRAGMA journal_mode`, &mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q (%v), want wal", mode, err)
	}
	var fk int
	if err := viewRow(db, `PRAGMA foreign_keys`, &fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys %d (%v), want 1", fk, err)
	}
	err := db.Update(context.Background(), func(tx store.Tx) error {
		return tx.CreateUser(store.User{LoginID: "orphan", ContractID: "no-such-contract", Role: "general", PasswordHash: "x", CreatedAt: time.Now()})
	})
	if err == nil {
		t.Fatal("a user of a contract that does not exist was stored")
	}
}

func TestFailedTransactionWritesNothing(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	boom := errors.New("boom")
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	err := db.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateContract(store.Contract{ID: "1000000001", Name: "Sato Shoji", CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.AppendAudit(store.AuditEntry{At: now, Actor: "operator", Action: "contract.create", Target: "1000000001"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want the function's error", err)
	}
	err = db.View(ctx, func(tx store.Tx) error {
		if _, err := tx.Contract("1000000001"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("contract after a failed transaction: %v", err)
		}
		rows, err := tx.Audit(10)
		if len(rows) != 0 {
			t.Errorf("%d audit rows after a failed transaction", len(rows))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
