package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/inkan-dev/inkan/server/store"
)

// TestRenewalOfIsFilledInForRenewalsMadeBeforeTheColumn builds a database at
// schema version 1 holding an issue, its renewal and a later new issue, opens it
// (which migrates it) and checks that only the renewal points at what it replaced.
func TestRenewalOfIsFilledInForRenewalsMadeBeforeTheColumn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inkan.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, mustSub(migrations, "migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	issued, renewed, reissued := t0, t0.Add(340*24*time.Hour), t0.Add(350*24*time.Hour)
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO contracts (id, name, created_at) VALUES ('1000000001', 'Sato Shoji', ?)`, []any{toDB(t0)}},
		// 1: issued and picked up, superseded by the renewal.
		{`INSERT INTO certificates (login_id, contract_id, status, issued_at, pickup_deadline, serial, withdrawn_at)
			VALUES ('kanri', '1000000001', 'superseded', ?, ?, 'a1', ?)`, []any{toDB(issued), toDB(issued.Add(80 * 24 * time.Hour)), toDB(renewed)}},
		// 2: the renewal, superseded by a new issue.
		{`INSERT INTO certificates (login_id, contract_id, status, issued_at, pickup_deadline, serial, withdrawn_at)
			VALUES ('kanri', '1000000001', 'superseded', ?, ?, 'a2', ?)`, []any{toDB(renewed), toDB(renewed), toDB(reissued)}},
		// 3: the new issue, picked up.
		{`INSERT INTO certificates (login_id, contract_id, status, issued_at, pickup_deadline, serial)
			VALUES ('kanri', '1000000001', 'active', ?, ?, 'a3')`, []any{toDB(reissued), toDB(reissued.Add(80 * 24 * time.Hour))}},
	}
	for _, s := range stmts {
		if _, err := raw.ExecContext(ctx, s.q, s.args...); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(ctx, func(tx store.Tx) error {
		for serial, want := range map[string]int64{"a1": 0, "a2": 1, "a3": 0} {
			c, err := tx.CertificateBySerial(serial)
			if err != nil {
				return err
			}
			got := int64(0)
			if c.RenewalOf != nil {
				got = *c.RenewalOf
			}
			if got != want {
				t.Errorf("certificate %s: renewal of %d, want %d", serial, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
