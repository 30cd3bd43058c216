//go:build linux

package droppable

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCutKeepsOnlyWhatWasSynced writes, syncs, overwrites, extends, truncates
// and creates files, cuts the power and checks that the backing directory
// holds exactly the synced content.
func TestCutKeepsOnlyWhatWasSynced(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("SKIPPED: FUSE cannot be used here (%v): the simulated power loss is NOT tested", err)
	}
	backing, mnt := t.TempDir(), t.TempDir()
	d, err := Mount(backing, mnt)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(mnt, "a"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("synced-data"), 0)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("LOST"), 0)  // overwrite, unsynced
	f.WriteAt([]byte("tail"), 20) // extend, unsynced
	f.Truncate(2)                 // shrink, unsynced
	f.WriteAt([]byte("more"), 30)
	g, _ := os.Create(filepath.Join(mnt, "b")) // created (metadata: kept), data never synced
	g.WriteString("never synced")
	h, _ := os.Create(filepath.Join(mnt, "c"))
	h.WriteString("synced c")
	h.Sync()
	h.WriteString(" and more")
	os.Rename(filepath.Join(mnt, "c"), filepath.Join(mnt, "d")) // the journal follows the file
	if got, _ := os.ReadFile(filepath.Join(mnt, "a")); len(got) != 34 {
		t.Fatalf("before the cut a is %d bytes, want 34", len(got))
	}
	d.Cut()
	if _, err := f.WriteAt([]byte("after"), 0); err == nil {
		t.Fatal("a write after the cut succeeded")
	}
	if err := f.Sync(); err == nil {
		t.Fatal("an fsync after the cut succeeded")
	}
	f.Close()
	g.Close()
	h.Close()
	undone, err := d.Unmount()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "synced-data", "b": "", "d": "synced c"} {
		got, err := os.ReadFile(filepath.Join(backing, name))
		if err != nil || string(got) != want {
			t.Errorf("%s after the cut: %q (%v), want %q", name, got, err, want)
		}
	}
	if undone != 7 { // a: 4; b: the O_TRUNC of os.Create and a write; c: a write
		t.Errorf("undid %d changes, want 7", undone)
	}
}
