package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/store"
)

func addContract(t *testing.T, db *DB, id string) {
	t.Helper()
	if err := db.Update(context.Background(), func(tx store.Tx) error {
		return tx.CreateContract(store.Contract{ID: id, Name: "契約 " + id, CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
}

func contractIDs(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := map[string]bool{}
	err = db.View(context.Background(), func(tx store.Tx) error {
		cs, err := tx.Contracts()
		for _, c := range cs {
			ids[c.ID] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestBackupWhileWritingIsAConsistentCheckedCopy(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inkan.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addContract(t, db, "before")
	// A writer keeps committing while the backup runs.
	var n atomic.Int64
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := db.Update(context.Background(), func(tx store.Tx) error {
				return tx.CreateContract(store.Contract{ID: fmt.Sprintf("w%05d", i), Name: "w", CreatedAt: time.Now()})
			}); err != nil {
				done <- err
				return
			}
			n.Add(1)
		}
	}()
	for n.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	dst := filepath.Join(dir, "backup.db")
	if err := Backup(context.Background(), path, dst); err != nil {
		t.Fatal(err)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("a write failed during the backup: %v", err)
	}
	st, err := os.Stat(dst)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v, want mode 0600", st, err)
	}
	if v, err := Check(context.Background(), dst); err != nil || v < 3 {
		t.Fatalf("Check(backup) = %d, %v", v, err)
	}
	ids := contractIDs(t, dst)
	if !ids["before"] || !ids["w00000"] || len(ids) < 21 {
		t.Fatalf("backup holds %d contracts, want the one before and the first 20 written during it", len(ids))
	}
	// Every prefix of the writer's sequence, no gap: a snapshot, not a torn copy.
	for i := 0; i < len(ids)-1; i++ {
		if !ids[fmt.Sprintf("w%05d", i)] {
			t.Fatalf("backup holds w%05d's successors but not w%05d", i, i)
		}
	}
	if err := Backup(context.Background(), path, dst); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.partial")); len(left) != 0 {
		t.Fatalf("backup left %v", left)
	}
}

func TestRestoreIsRefusedWhileTheDatabaseIsOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inkan.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addContract(t, db, "old")
	backup := filepath.Join(dir, "backup.db")
	if err := Backup(context.Background(), path, backup); err != nil {
		t.Fatal(err)
	}
	addContract(t, db, "new")
	if _, err := Restore(context.Background(), path, backup); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("restore under an open database: %v", err)
	}
	// Still the live database, and still writable by its owner.
	addContract(t, db, "after")
	if err := db.View(context.Background(), func(tx store.Tx) error {
		_, err := tx.Contract("new")
		return err
	}); err != nil {
		t.Fatalf("the refused restore changed the database: %v", err)
	}
}

func TestRestoreReplacesTheDatabaseAndKeepsTheOldOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inkan.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	addContract(t, db, "old")
	backup := filepath.Join(dir, "backup.db")
	if err := Backup(context.Background(), path, backup); err != nil {
		t.Fatal(err)
	}
	addContract(t, db, "new") // in the WAL, not in the backup
	db.Close()

	saved, err := Restore(context.Background(), path, backup)
	if err != nil {
		t.Fatal(err)
	}
	if ids := contractIDs(t, path); !ids["old"] || ids["new"] {
		t.Fatalf("restored database holds %v, want the backup's contracts only", ids)
	}
	if ids := contractIDs(t, saved); !ids["old"] || !ids["new"] {
		t.Fatalf("the replaced database kept as %s holds %v", saved, ids)
	}
	if st, err := os.Stat(saved); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("kept database: %v %v, want mode 0600", st, err)
	}
}

func TestRestoreRefusesADamagedOrNewerBackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inkan.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		addContract(t, db, fmt.Sprintf("c%03d-%s", i, strings.Repeat("x", 200)))
	}
	good := filepath.Join(dir, "good.db")
	if err := Backup(context.Background(), path, good); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}

	damaged := filepath.Join(dir, "damaged.db")
	bad := append([]byte(nil), raw...)
	for i := 4096 * 3; i < 4096*3+2000; i++ { // the middle of a b-tree page
		bad[i] = 0x5a
	}
	os.WriteFile(damaged, bad, 0o600)

	newer := filepath.Join(dir, "newer.db")
	os.WriteFile(newer, raw, 0o600)
	n, err := sql.Open("sqlite", fileURI(newer, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)`); err != nil {
		t.Fatal(err)
	}
	n.Close()

	notDB := filepath.Join(dir, "notes.txt")
	os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 400)), 0o600)

	before := contractIDs(t, path)
	for name, src := range map[string]string{"damaged": damaged, "newer": newer, "not a database": notDB, "missing": filepath.Join(dir, "nope.db")} {
		if _, err := Restore(context.Background(), path, src); err == nil {
			t.Errorf("restore from a %s backup succeeded", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	if after := contractIDs(t, path); len(after) != len(before) {
		t.Fatalf("a refused restore changed the database: %d contracts, had %d", len(after), len(before))
	}
	if left, _ := filepath.Glob(path + ".before-restore-*"); len(left) != 0 {
		t.Fatalf("a refused restore left %v", left)
	}
}

// TestRestoreNeverTakesTheCRLNumberBack: CRLs numbered after the backup have
// been published, so the restored database's next CRL must be numbered above
// them (RFC 5280 §5.2.3), not sign those numbers again for other contents.
func TestRestoreNeverTakesTheCRLNumberBack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "inkan.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	next := func(db *DB) int64 {
		t.Helper()
		var n int64
		if err := db.Update(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.NextCRLNumber()
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	next(db)
	backup := filepath.Join(dir, "backup.db")
	if err := Backup(ctx, path, backup); err != nil {
		t.Fatal(err)
	}
	var published int64
	for range 5 { // CRLs signed and fetched after the backup
		published = next(db)
	}
	db.Close()

	if _, err := Restore(ctx, path, backup); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := next(db); n <= published {
		t.Fatalf("after the restore the next CRL is number %d; %d was already published", n, published)
	}
}
