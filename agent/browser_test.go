package agent

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/certstore/nssdb"
)

// browserAgent is an agent that copies into a real NSS database in a temp dir.
func browserAgent(t *testing.T, b *fakeBank, c *clock, mutate func(*Config)) (*Agent, nssdb.DB) {
	t.Helper()
	if _, err := exec.LookPath("certutil"); err != nil {
		t.Skip("certutil not installed (libnss3-tools)")
	}
	on := true
	cfg := b.config()
	cfg.BrowserCopy = &on
	if mutate != nil {
		mutate(&cfg)
	}
	dir := filepath.Join(t.TempDir(), ".pki", "nssdb")
	a, err := New(cfg, memoryStore(t), Options{Now: c.now, StateDir: t.TempDir(), RetryWait: time.Millisecond, NSSDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return a, nssdb.DB{Dir: dir}
}

func nssFingerprints(t *testing.T, db nssdb.DB, label string) []certstore.Fingerprint {
	t.Helper()
	certs, err := db.Certificates(t.Context(), label)
	if err != nil {
		t.Fatal(err)
	}
	var fps []certstore.Fingerprint
	for _, c := range certs {
		fps = append(fps, certstore.FingerprintOf(c))
	}
	return fps
}

func TestBrowserCopyFollowsPickupRenewalDeleteAndRestore(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a, db := browserAgent(t, b, c, nil)

	id, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.BrowserCopyProblem(); err != nil {
		t.Fatalf("browser copy after pickup: %v", err)
	}
	if got := nssFingerprints(t, db, "alice+1376"); len(got) != 1 || got[0] != id.Fingerprint.inStore() {
		t.Fatalf("after pickup NSS holds %v, want %s", got, id.Fingerprint)
	}
	entries, _ := db.List(t.Context())
	for _, e := range entries {
		if e.Nickname == b.ca.cert.Subject.CommonName && e.Trust != ",," {
			t.Errorf("the bank's root is trusted (%s) without the user's agreement", e.Trust)
		}
	}

	c.add(340 * day)
	renewed, err := a.Renew(t.Context(), id.Fingerprint, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := nssFingerprints(t, db, "alice+1376"); len(got) != 1 || got[0] != renewed.Fingerprint.inStore() {
		t.Fatalf("after renewal NSS holds %v, want only the new %s", got, renewed.Fingerprint)
	}

	backup, err := a.Backup(t.Context(), []Fingerprint{renewed.Fingerprint}, "backup-pass-1234", "backup-pass-1234")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(t.Context(), renewed.Fingerprint); err != nil {
		t.Fatal(err)
	}
	if got := nssFingerprints(t, db, "alice+1376"); len(got) != 0 {
		t.Fatalf("after delete NSS still holds %v", got)
	}
	if _, err := a.Restore(t.Context(), backup, "backup-pass-1234"); err != nil {
		t.Fatal(err)
	}
	if got := nssFingerprints(t, db, "alice+1376"); len(got) != 1 || got[0] != renewed.Fingerprint.inStore() {
		t.Fatalf("after restore NSS holds %v, want %s", got, renewed.Fingerprint)
	}
	out, _ := exec.Command("certutil", "-K", "-d", "sql:"+db.Dir, "-f", os.DevNull).CombinedOutput()
	if strings.Count(string(out), "alice+1376") != 1 {
		t.Fatalf("NSS keys, want one for alice+1376:\n%s", out)
	}
}

func TestBrowserCopyLeavesOtherCertificatesAlone(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a, db := browserAgent(t, b, c, nil)
	other := newFakeBankNamed(t, c.now, "other bank CA") // another CA, same bank code and label
	oa, _ := browserAgent(t, other, c, nil)
	oa.browser.db = db
	if _, err := oa.Pickup(t.Context(), "alice", "pw", nil); err != nil {
		t.Fatal(err)
	}
	if err := a.SyncBrowser(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := nssFingerprints(t, db, "alice+1376"); len(got) != 1 {
		t.Fatalf("this agent removed another CA's certificate: %v", got)
	}
}

func TestBrowserCopyTrustsTheRootOnlyWhenAgreed(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a, db := browserAgent(t, b, c, func(cfg *Config) { cfg.TrustBankRoot = true })
	if _, err := a.Pickup(t.Context(), "alice", "pw", nil); err != nil {
		t.Fatal(err)
	}
	entries, _ := db.List(t.Context())
	for _, e := range entries {
		if e.Nickname == b.ca.cert.Subject.CommonName {
			if e.Trust != "C,," {
				t.Fatalf("root trust %q, want C,, once agreed", e.Trust)
			}
			return
		}
	}
	t.Fatalf("the bank's root is not in NSS: %v", entries)
}

func TestALockedBrowserDatabaseIsAMessageNotAFailedPickup(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a, db := browserAgent(t, b, c, nil)
	os.MkdirAll(db.Dir, 0o700)
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("primary-secret\n"), 0o600)
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+db.Dir, "-f", pw).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	id, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil || id == nil {
		t.Fatalf("pickup with a locked NSS database: %v", err)
	}
	problem := a.BrowserCopyProblem()
	if !errors.Is(problem, nssdb.ErrLocked) {
		t.Fatalf("problem %v, want ErrLocked", problem)
	}
	if msg := Message(problem, "ja"); !strings.Contains(msg, "マスターパスワード") || !strings.Contains(msg, "電子証明書は保存しました") {
		t.Fatalf("message %q", msg)
	}
	if msg := Message(problem, "en"); !strings.Contains(msg, "primary password") {
		t.Fatalf("message %q", msg)
	}
}

func TestBrowserCopyIsOffForMemoryAndDirStoresUnlessAskedFor(t *testing.T) {
	cfg := Config{}
	if browserCopyOn(cfg, "memory") || browserCopyOn(cfg, "dir:/tmp/x") {
		t.Fatal("a test or script store is copied into the user's browser by default")
	}
	off := false
	if browserCopyOn(Config{BrowserCopy: &off}, "keyring") {
		t.Fatal("browser_copy false is not obeyed")
	}
}
