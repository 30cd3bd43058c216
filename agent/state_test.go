package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLastUsedSurvivesARestartAndADamagedStateFileOnlyLosesTheOrder(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := memoryStore(t)
	dir := t.TempDir()
	opts := Options{Now: c.now, StateDir: dir, RetryWait: time.Millisecond}
	a, err := New(b.config(), store, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Pickup(t.Context(), "alice", "pw", nil); err != nil {
		t.Fatal(err)
	}
	bob, err := a.Pickup(t.Context(), "bob", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(t.Context(), bob.Fingerprint, "pw"); err != nil {
		t.Fatal(err)
	}

	restarted, _ := New(b.config(), store, opts)
	ids, err := restarted.Identities(t.Context())
	if err != nil || ids[0].Fingerprint != bob.Fingerprint || ids[0].LastUsed.IsZero() {
		t.Fatalf("after a restart the chooser starts with %v, %v", labels(ids), err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".state-*")); len(leftovers) != 0 {
		t.Errorf("temporary state files left behind: %v", leftovers)
	}

	os.WriteFile(filepath.Join(dir, "state.json"), []byte("{not json"), 0o600)
	ids, err = restarted.Identities(t.Context())
	if err != nil || len(ids) != 2 || ids[0].Label != "alice+1376" {
		t.Fatalf("with a damaged state file: %v, %v", labels(ids), err)
	}
}
