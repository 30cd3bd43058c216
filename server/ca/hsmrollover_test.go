package ca

import (
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRolloverToAnHSMKeyStoppedAfterCommitIsFinishedByLoad: a rollover whose
// new key is in an HSM (here a software key in its place) writes no key file,
// retires the old file key, and a crash after Commit (config.json names the
// new key, the new certificate not yet moved in) is finished by Load; a crash
// before Commit leaves the old pair whole.
func TestRolloverToAnHSMKeyStoppedAfterCommitIsFinishedByLoad(t *testing.T) {
	_, dir := newCA(t)
	oldCert, err := os.ReadFile(filepath.Join(dir, IssuingCertFile))
	if err != nil {
		t.Fatal(err)
	}
	newKey := newECKey(t)
	committed := false
	crash := errors.New("crash")
	// Commit fails: the rollover stops with the new certificate beside the old.
	_, err = RolloverWith(dir, RootKeyPath(dir), nil, testBase, testPolicy, t0, RolloverOptions{NewSigner: newKey, Commit: func() error { return crash }})
	if !errors.Is(err, crash) {
		t.Fatalf("RolloverWith with a failing Commit: %v", err)
	}
	// Before Commit the config still names the old key (the file): Load takes the old pair.
	c, err := Load(dir, LoadOptions{BaseURL: testBase, PolicyOID: testPolicy, Now: t0})
	if err != nil {
		t.Fatalf("Load after a rollover stopped before Commit: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, IssuingCertFile)); string(b) != string(oldCert) || samePublicKey(c.Current().Cert.PublicKey, newKey.Public()) {
		t.Fatal("a rollover stopped before Commit changed the current issuing CA")
	}
	// After Commit the config names the new key: Load given it moves the certificate in.
	c, err = Load(dir, LoadOptions{BaseURL: testBase, PolicyOID: testPolicy, IssuingSigner: crypto.Signer(newKey), Now: t0})
	if err != nil {
		t.Fatalf("Load with the new key after a rollover stopped after Commit: %v", err)
	}
	if !samePublicKey(c.Current().Cert.PublicKey, newKey.Public()) {
		t.Fatal("Load did not finish the rollover")
	}
	if _, err := os.Stat(filepath.Join(dir, IssuingKeyFile)); !os.IsNotExist(err) {
		t.Fatalf("issuing-ca.key is still in DATA after the rollover into the HSM: %v", err)
	}
	if len(c.Issuers) != 2 {
		t.Fatalf("%d issuers after the rollover, want the new and the retired one", len(c.Issuers))
	}

	// A second rollover from the HSM key to another: the retired key is kept by URI.
	third := newECKey(t)
	if _, err := RolloverWith(dir, RootKeyPath(dir), nil, testBase, testPolicy, t0, RolloverOptions{
		NewSigner: third, OldKeyURI: "pkcs11:token=t;object=second", Commit: func() error { committed = true; return nil },
	}); err != nil || !committed {
		t.Fatalf("rollover from one HSM key to another: %v (committed %v)", err, committed)
	}
	if _, err := Load(dir, LoadOptions{BaseURL: testBase, PolicyOID: testPolicy, IssuingSigner: third, Now: t0}); err == nil {
		t.Fatal("Load opened a retired HSM issuer without RetiredSigner")
	}
	var asked []string
	c, err = Load(dir, LoadOptions{BaseURL: testBase, PolicyOID: testPolicy, IssuingSigner: third, Now: t0,
		RetiredSigner: func(uri string) (crypto.Signer, error) { asked = append(asked, uri); return newKey, nil }})
	if err != nil || len(c.Issuers) != 3 || len(asked) != 1 || asked[0] != "pkcs11:token=t;object=second" {
		t.Fatalf("Load with RetiredSigner: %v, %d issuers, asked %v", err, len(c.Issuers), asked)
	}
}
