//go:build windows

package e2e

// The path every real pickup takes, on the Windows certificate store: run by
// scripts/test-windows.sh under Wine (make test), and on a Windows PC with
// `go test -run '^TestWindows' ./e2e`. The bank's server runs in this process
// too: Wine keeps a CNG key only as long as its handle, so pickup and login
// must share one process, as they do in the GUI.

import (
	"context"
	"crypto/rsa"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/wire"
)

// wineVersion is Wine's version, or "" on Windows (Wine's ntdll exports
// wine_get_version, Windows' does not).
func wineVersion() string {
	proc := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if proc.Find() != nil {
		return ""
	}
	r, _, _ := proc.Call()
	return windows.BytePtrToString(*(**byte)(unsafe.Pointer(&r)))
}

func init() {
	if wineVersion() != "" {
		tempDir = wineTempDir
	}
}

// wineTempDir is a test's temporary directory, removed file by file with
// os.Remove (DeleteFileW): Wine 8 answers os.RemoveAll's
// FileDispositionInformationEx with ERROR_INVALID_FUNCTION.
func wineTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "inkan-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var paths []string
		_ = filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
			if err == nil {
				paths = append(paths, path)
			}
			return nil
		})
		for _, p := range slices.Backward(paths) {
			if err := os.Remove(p); err != nil {
				t.Errorf("remove %s: %v", p, err)
			}
		}
	})
	return dir
}

// windowsPC is a PC whose agent keeps its certificates in the Windows store,
// which the test empties of what it added.
func (b *bank) windowsPC(t *testing.T) (*agent.Agent, certstore.Store) {
	t.Helper()
	store, err := certstore.Open(certstore.KindWindows)
	if err != nil {
		t.Fatal(err)
	}
	pc := b.pcWith(b.cfg.ServerURL, store)
	t.Cleanup(func() {
		// This bank's identities only: its CA is new in every test.
		ids, err := pc.Identities(context.Background())
		if err != nil {
			t.Errorf("clean up the Windows store: %v", err)
		}
		for _, id := range ids {
			if err := store.Delete(context.Background(), certstore.Fingerprint(id.Fingerprint)); err != nil {
				t.Errorf("clean up %s: %v", id.Label, err)
			}
		}
	})
	return pc, store
}

// With an RSA-2048 policy, pickup, the certificate in CurrentUser\MY with its
// CNG key, and certificate login all run, under Wine as on Windows.
func TestWindowsRSAPolicyPickupAndCertificateLogin(t *testing.T) {
	ctx := context.Background()
	b := startBankWithPolicy(t, func(p *server.PolicyConfig) { p.KeyType = wire.KeyRSA2048 })
	b.user("kanri", wire.RoleAdmin, true)
	b.user("ippan", wire.RoleGeneral, true)
	pc, store := b.windowsPC(t)
	if store.Kind() != certstore.KindWindows {
		t.Fatalf("store kind %q", store.Kind())
	}
	admin := b.pickup(pc, "kanri")
	ippan := b.pickup(pc, "ippan")
	for _, id := range []*agent.Identity{admin, ippan} {
		k, ok := id.Certificate.PublicKey.(*rsa.PublicKey)
		if !ok || k.N.BitLen() != 2048 {
			t.Fatalf("%s: certificate key %T, want RSA-2048", id.Label, id.Certificate.PublicKey)
		}
	}
	if !admin.Exportable || ippan.Exportable {
		t.Fatalf("export policy: admin %v, general %v; want true, false (default policy: admin backs up)", admin.Exportable, ippan.Exportable)
	}
	ids, err := pc.Identities(ctx)
	if err != nil || len(ids) != 2 {
		t.Fatalf("the Windows store lists %d identities (%v), want 2", len(ids), err)
	}
	s := b.login(pc, admin)
	if users, err := pc.Users(ctx, s); err != nil || len(users) != 2 {
		t.Fatalf("admin calls after a certificate login through CNG: %d users, %v", len(users), err)
	}
	b.login(pc, ippan)

	_, err = pc.Backup(ctx, []agent.Fingerprint{ippan.Fingerprint}, "Kinko-Backup-2026", "Kinko-Backup-2026")
	if !errors.Is(err, certstore.ErrKeyNotExportable) || !strings.Contains(agent.Message(err, "ja"), "管理者ID") {
		t.Fatalf("backup of the general ID's non-exportable CNG key: %v", err)
	}
	if _, err := pc.Backup(ctx, []agent.Fingerprint{admin.Fingerprint}, "Kinko-Backup-2026", "Kinko-Backup-2026"); err != nil {
		t.Fatalf("backup of the admin's exportable CNG key: %v", err)
	}
}

// The default policy, ECDSA P-256: Windows makes the key; Wine's CNG cannot,
// and the pickup says so as a store failure, leaving nothing behind.
func TestWindowsDefaultPolicyPickupOrAClearRefusal(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	pc, _ := b.windowsPC(t)
	id, err := pc.Pickup(ctx, "kanri", password("kanri"), nil)
	if wineVersion() == "" {
		if err != nil {
			t.Fatalf("ECDSA P-256 pickup on Windows: %v", err)
		}
		b.login(pc, id)
		return
	}
	var unsup *certstore.UnsupportedKeyError
	if !errors.As(err, &unsup) || unsup.Algorithm != certstore.ECDSAP256 {
		t.Fatalf("ECDSA P-256 pickup under Wine %s: %v, want an UnsupportedKeyError", wineVersion(), err)
	}
	msg := agent.Message(err, "ja")
	if !strings.Contains(msg, "この PC の証明書ストアでは") || !strings.Contains(msg, "NCryptCreatePersistedKey returned 0x80090029 (NTE_NOT_SUPPORTED)") {
		t.Fatalf("message: %q", msg)
	}
	if agent.Classify(err) != agent.CategoryStore {
		t.Fatalf("Classify = %v, want CategoryStore", agent.Classify(err))
	}
	if ids, err := pc.Identities(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("after the refused pickup the store lists %d (%v)", len(ids), err)
	}
}

// The self-check on the Windows store, with the bank's RSA-2048 policy: on
// Windows every step succeeds; under Wine exactly the steps Wine 8 lacks fail,
// each naming the call and its status.
func TestWindowsDoctorReportsEachStep(t *testing.T) {
	b := startBankWithPolicy(t, func(p *server.PolicyConfig) { p.KeyType = wire.KeyRSA2048 })
	pc, _ := b.windowsPC(t)
	r := pc.Doctor(context.Background())
	t.Logf("\n%s", r.Text("ja"))
	if r.KeyType != wire.KeyRSA2048 || r.Store != certstore.KindWindows || len(r.Banks) != 1 || !r.Banks[0].OK() {
		t.Fatalf("report for %s on %s", r.KeyType, r.Store)
	}
	type want struct {
		call   string
		ok     bool
		detail string // a failure's status, under Wine
		also   string // and more of its text, when there is more to check
	}
	wants := []want{
		{"", true, "", ""},
		{"NCryptOpenStorageProvider", true, "", ""},
		{"NCryptCreatePersistedKey", true, "", ""},
		{"NCryptSignHash", true, "", ""},
		{"NCryptOpenKey", true, "", ""},
		{"CryptAcquireCertificatePrivateKey", true, "", ""},
		{"NCryptImportKey", true, "", ""},
		{"NCryptDeleteKey", true, "", ""},
	}
	if wineVersion() != "" {
		// Said by the second process (the test binary started again), which
		// cannot see a key this one made: Wine keeps keys only in handles.
		wants[4] = want{"NCryptOpenKey", false, "in a second process: NCryptOpenKey returned 0x80090029 (NTE_NOT_SUPPORTED)", ""}
		wants[5] = want{"CryptAcquireCertificatePrivateKey", false, "CryptAcquireCertificatePrivateKey returned 0x8009200B (CRYPT_E_NO_KEY_PROPERTY)", ""}
		// Restore's named import is PKCS#8 (the documented blob for it), which Wine refuses.
		wants[6] = want{"NCryptImportKey", false, "import PKCS8_PRIVATEKEY key \"inkancheck-", "NCryptImportKey returned 0x80090029 (NTE_NOT_SUPPORTED)"}
		wants[7] = want{"NCryptDeleteKey", false, "NCryptDeleteKey returned 0x80090029 (NTE_NOT_SUPPORTED)", ""}
	}
	if len(r.Steps) != len(wants) {
		t.Fatalf("%d steps, want %d", len(r.Steps), len(wants))
	}
	for i, w := range wants {
		s := r.Steps[i]
		if s.Call != w.call || s.OK != w.ok || s.Skipped || !strings.Contains(s.Detail, w.detail) || !strings.Contains(s.Detail, w.also) {
			t.Errorf("step %d %q: call %q ok %v skipped %v detail %q; want call %q ok %v detail containing %q",
				i+1, s.Name, s.Call, s.OK, s.Skipped, s.Detail, w.call, w.ok, w.detail)
		}
	}
	if r.OK() == (wineVersion() != "") {
		t.Errorf("report OK = %v", r.OK())
	}
	if ids, err := pc.Identities(context.Background()); err != nil || len(ids) != 0 {
		t.Errorf("the self-check left %d identities (%v)", len(ids), err)
	}
}
