package certstore

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

// requireSecretService skips keyring tests unless scripts/with-secret-service.sh
// runs them; under it, they must find the Secret Service.
func requireSecretService(t *testing.T) {
	t.Helper()
	if os.Getenv("INKAN_TEST_SECRET_SERVICE") != "1" {
		t.Skip("needs a Secret Service: run through scripts/with-secret-service.sh (make test does)")
	}
}

func openTestKeyring(t *testing.T) Store {
	t.Helper()
	s, err := openKeyringAt(t.TempDir())
	if err != nil {
		t.Fatalf("open the keyring store (INKAN_TEST_SECRET_SERVICE=1 says a Secret Service runs): %v", err)
	}
	return s
}

func TestKeyringStoreConformance(t *testing.T) {
	requireSecretService(t)
	testStoreConformance(t, openTestKeyring, DefaultKeyOptions())
}

func TestKeyringStoreKeepsKeysOffDisk(t *testing.T) {
	requireSecretService(t)
	dir := t.TempDir()
	s, err := openKeyringAt(dir)
	if err != nil {
		t.Fatalf("openKeyringAt: %v", err)
	}
	id := enroll(t, s, newTestCA(t, "Inkan Test CA"), DefaultKeyOptions(), newLoginID(t))
	keyDER, err := x509.MarshalPKCS8PrivateKey(id.Signer)
	if err != nil {
		t.Fatal(err)
	}

	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || filepath.Base(files[0]) != string(id.Fingerprint)+".pem" {
		t.Fatalf("files on disk %v, want the certificate record alone", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("PRIVATE KEY")) || bytes.Contains(data, keyDER) {
		t.Fatal("the private key is on disk")
	}

	secret, err := keyring.Get("inkan:"+dir, string(id.Fingerprint))
	if err != nil {
		t.Fatalf("the key is not in the keyring: %v", err)
	}
	if secret == "" {
		t.Fatal("the keyring holds an empty secret")
	}

	if err := s.Delete(context.Background(), id.Fingerprint); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := keyring.Get("inkan:"+dir, string(id.Fingerprint)); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("after Delete the keyring still answers %v", err)
	}
}

func TestKeyringStoreDefaultLocation(t *testing.T) {
	requireSecretService(t)
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	s, err := Open(KindKeyring)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	id := enroll(t, s, newTestCA(t, "Inkan Test CA"), DefaultKeyOptions(), newLoginID(t))
	if _, err := os.Stat(filepath.Join(data, "inkan", "certstore", string(id.Fingerprint)+".pem")); err != nil {
		t.Errorf("the certificate is not under XDG_DATA_HOME/inkan/certstore: %v", err)
	}
}

// TestKeyringUnavailableWithoutSecretService runs in a child process: the D-Bus
// library keeps one session connection per process, so only a fresh process
// sees a session bus that is not there.
func TestKeyringUnavailableWithoutSecretService(t *testing.T) {
	if os.Getenv("INKAN_TEST_NO_BUS_CHILD") == "1" {
		checkKeyringUnavailable(t)
		return
	}
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeyringUnavailableWithoutSecretService$", "-test.v")
	cmd.Env = append(os.Environ(),
		"INKAN_TEST_NO_BUS_CHILD=1",
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(tmp, "no-bus"),
		"XDG_DATA_HOME="+filepath.Join(tmp, "data"),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestKeyringUnavailableWithoutSecretService") {
		t.Fatalf("the child did not run the check:\n%s", out)
	}
}

func checkKeyringUnavailable(t *testing.T) {
	ctx := context.Background()
	var ue *UnavailableError

	_, err := Open(KindKeyring)
	if !errors.As(err, &ue) {
		t.Fatalf("Open(keyring) with no session bus: %v, want an *UnavailableError", err)
	}
	if ue.Kind != KindKeyring || !strings.Contains(ue.Reason, "Secret Service") || ue.Err == nil {
		t.Errorf("UnavailableError %+v does not say the Secret Service is missing", ue)
	}

	// A store opened while the service ran must refuse to make a key it could not keep.
	s := newSoftStore(KindKeyring, &keyringVault{recordDir: recordDir(t.TempDir()), service: "inkan:test"})
	if _, err := s.GenerateKey(ctx, DefaultKeyOptions()); !errors.As(err, &ue) {
		t.Errorf("GenerateKey with no session bus: %v, want an *UnavailableError", err)
	}
}
