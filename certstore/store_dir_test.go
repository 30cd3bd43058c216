package certstore

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDirStoreConformance(t *testing.T) {
	testStoreConformance(t, func(t *testing.T) Store {
		s, err := Open("dir:" + t.TempDir())
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	}, DefaultKeyOptions())
}

func TestDirStoreKeepsKeyFilesPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s, err := Open("dir:" + dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if s.Kind() != "dir:"+dir {
		t.Errorf("Kind = %q, want %q", s.Kind(), "dir:"+dir)
	}
	id := enroll(t, s, newTestCA(t, "Inkan Test CA"), DefaultKeyOptions(), newLoginID(t))

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{string(id.Fingerprint) + ".key", string(id.Fingerprint) + ".pem"}
	if len(names) != 2 || names[0] != want[0] || names[1] != want[1] {
		t.Errorf("files %v, want %v", names, want)
	}
	for _, name := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %o, want 600", name, perm)
		}
	}

	// A second Open of the same directory sees the identity with its label.
	again, err := Open("dir:" + dir)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	got := listByLoginID(t, again, id.Certificate.Subject.CommonName)
	if len(got) != 1 || got[0].Label != id.Label || !got[0].AddedAt.Equal(id.AddedAt) {
		t.Fatalf("reopened store lists %d identities, want %q added at %v", len(got), id.Label, id.AddedAt)
	}
	checkSigns(t, got[0].Signer, id.Certificate.PublicKey)
}
