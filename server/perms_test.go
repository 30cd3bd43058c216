package server

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDataDirectoryAndDatabaseAreOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bank")
	if err := os.Mkdir(dir, 0o755); err != nil { // made by hand before init, as an operator would
		t.Fatal(err)
	}
	argon := cheapArgon2
	if err := Init(dir, InitConfig{BankCode: "1376", BankName: "Inkan Shinkin Bank", Demo: true, Argon2: &argon}); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, DatabaseFile)
	// A database left readable by an older version, and a directory opened up since.
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(t.Context())
	if _, err := s.Operator().CreateContract(t.Context(), "Sato Shoji"); err != nil { // a write, so -wal and -shm exist
		t.Fatal(err)
	}
	mode := func(path string) os.FileMode {
		t.Helper()
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Mode().Perm()
	}
	if m := mode(dir); m != 0o700 {
		t.Fatalf("data directory mode %v, want 0700", m)
	}
	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		if m := mode(p); m != 0o600 {
			t.Fatalf("%s mode %v, want 0600", filepath.Base(p), m)
		}
	}
}
