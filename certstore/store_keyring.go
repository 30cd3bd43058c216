package certstore

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/zalando/go-keyring"
)

// A keyring store keeps certificates as record files (see recordDir) under the
// user's data directory, and private keys only in the OS secret store through
// go-keyring: the Secret Service on Linux and the BSDs, the Keychain on macOS,
// the Credential Manager on Windows. A key never touches the disk in clear.
//
// Each key is one secret: service "inkan:<record directory>", user the
// certificate's fingerprint, value the base64 of its PKCS#8 DER. The directory in
// the service name keeps two stores (a test's, the user's) apart in one keyring.
// On the Secret Service the item is labelled for a person looking at it in
// Seahorse (keyLabel) and carries attributes that say what it is (keyAttributes).

// openKeyring opens the keyring store of the current user.
func openKeyring() (*softStore, error) {
	dir, err := keyringDir()
	if err != nil {
		return nil, &UnavailableError{Kind: KindKeyring, Reason: "the user's data directory is unknown", Err: err}
	}
	return openKeyringAt(dir)
}

// openKeyringAt opens a keyring store whose records live in dir.
func openKeyringAt(dir string) (*softStore, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open keyring store at %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open keyring store at %s: %w", dir, err)
	}
	v := &keyringVault{recordDir: recordDir(abs), service: "inkan:" + abs}
	if err := v.available(); err != nil {
		return nil, err
	}
	return newSoftStore(KindKeyring, v), nil
}

// keyringDir is where the keyring store keeps its certificates:
// $XDG_DATA_HOME/inkan/certstore (~/.local/share by default) on Linux and the
// BSDs, the user's configuration directory on macOS and Windows, which have no
// separate data directory.
func keyringDir() (string, error) {
	switch runtime.GOOS {
	case "darwin", "ios", "windows":
		d, err := os.UserConfigDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(d, "inkan", "certstore"), nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "inkan", "certstore"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "share", "inkan", "certstore"), nil
}

// keyringVault keeps records on disk and keys in the OS secret store.
type keyringVault struct {
	recordDir
	service string
}

// probeUser names a secret that is never written: looking it up tells whether
// the secret store answers at all.
const probeUser = "inkan-availability-probe"

// available answers an *UnavailableError unless the secret store answers.
func (k *keyringVault) available() error {
	_, err := keyring.Get(k.service, probeUser)
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return k.unavailable(err)
}

func (k *keyringVault) unavailable(err error) error {
	reason := "the OS secret store did not answer"
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		reason = "no Secret Service answers on the session D-Bus (is gnome-keyring-daemon or another Secret Service running and unlocked?)"
	}
	return &UnavailableError{Kind: KindKeyring, Reason: reason, Err: err}
}

func (k *keyringVault) putKey(r *record, pkcs8 []byte) error {
	fp := r.fingerprint()
	if err := setSecret(k.service, r, base64.StdEncoding.EncodeToString(pkcs8)); err != nil {
		if errors.Is(err, keyring.ErrSetDataTooBig) {
			return fmt.Errorf("key %s: %w", fp, err)
		}
		return k.unavailable(err)
	}
	return nil
}

func (k *keyringVault) getKey(fp Fingerprint) ([]byte, error) {
	s, err := keyring.Get(k.service, string(fp))
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, &NotFoundError{What: "key " + string(fp)}
	}
	if err != nil {
		return nil, k.unavailable(err)
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("key %s in the secret store: %w", fp, err)
	}
	return der, nil
}

func (k *keyringVault) deleteKey(fp Fingerprint) error {
	err := keyring.Delete(k.service, string(fp))
	if errors.Is(err, keyring.ErrNotFound) {
		return &NotFoundError{What: "key " + string(fp)}
	}
	if err != nil {
		return k.unavailable(err)
	}
	return nil
}
