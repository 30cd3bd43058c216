package postgres_test

import (
	"context"
	"testing"

	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/store/postgres"
	"github.com/inkan-dev/inkan/server/store/testdb"
)

// TestAnOlderServersBumpStalesTheSharedCRL: during a rolling upgrade a server
// of the version before the shared CRL still bumps crl_number.number alone
// (UPDATE crl_number SET number = number + 1) for a revocation; the servers
// of this version must count that as a change, so that they sign a new CRL
// instead of serving the stored one without the revocation.
func TestAnOlderServersBumpStalesTheSharedCRL(t *testing.T) {
	ctx := context.Background()
	db, err := postgres.Open(ctx, testdb.PostgresURL(t), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	changes := func() (n int64) {
		t.Helper()
		if err := db.View(ctx, func(tx store.Tx) (err error) { n, err = tx.CRLChanges(); return }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := changes()
	if err := db.Update(ctx, func(tx store.Tx) error { _, err := tx.NextCRLNumber(); return err }); err != nil {
		t.Fatal(err)
	}
	if n := changes(); n != before {
		t.Fatalf("taking a number for a CRL changed the count of changes: %d → %d", before, n)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE crl_number SET number = number + 1 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	if n := changes(); n != before+1 {
		t.Fatalf("an older server's bump: %d changes, want %d", n, before+1)
	}
}
