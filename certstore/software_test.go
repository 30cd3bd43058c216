package certstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

var errInjected = errors.New("injected failure")

// faultyVault fails the failAt-th change it is asked to make (counting from 1;
// 0 fails none), and passes everything else to the vault it wraps.
type faultyVault struct {
	vault
	failAt int
	calls  int
	failed bool
}

func (f *faultyVault) step(op string) error {
	f.calls++
	if f.calls == f.failAt {
		f.failed = true
		return fmt.Errorf("%s: %w", op, errInjected)
	}
	return nil
}

func (f *faultyVault) putKey(r *record, der []byte) error {
	if err := f.step("put key"); err != nil {
		return err
	}
	return f.vault.putKey(r, der)
}

func (f *faultyVault) deleteKey(fp Fingerprint) error {
	if err := f.step("delete key"); err != nil {
		return err
	}
	return f.vault.deleteKey(fp)
}

func (f *faultyVault) putRecord(r *record) error {
	if err := f.step("put record"); err != nil {
		return err
	}
	return f.vault.putRecord(r)
}

func (f *faultyVault) deleteRecord(fp Fingerprint) error {
	if err := f.step("delete record"); err != nil {
		return err
	}
	return f.vault.deleteRecord(fp)
}

// contents says, for each fingerprint, whether v holds its key and its record.
func contents(t *testing.T, v vault, fps ...Fingerprint) string {
	t.Helper()
	var b strings.Builder
	for i, fp := range fps {
		_, kerr := v.getKey(fp)
		_, rerr := v.getRecord(fp)
		fmt.Fprintf(&b, "#%d key:%v record:%v ", i, kerr == nil, rerr == nil)
	}
	return b.String()
}

// vaultKinds are the vaults failures are injected into; the keyring joins under
// the Secret Service script.
func vaultKinds(t *testing.T) map[string]func(t *testing.T) vault {
	kinds := map[string]func(t *testing.T) vault{
		"memory": func(t *testing.T) vault { return newMemoryStore().v },
		"dir": func(t *testing.T) vault {
			s, err := openDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s.v
		},
	}
	if os.Getenv("INKAN_TEST_SECRET_SERVICE") == "1" {
		kinds["keyring"] = func(t *testing.T) vault {
			s, err := openKeyringAt(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s.v
		}
	}
	return kinds
}

func TestAttachFailureAtEachStepLeavesNoOrphan(t *testing.T) {
	ctx := context.Background()
	for name, newVault := range vaultKinds(t) {
		t.Run(name, func(t *testing.T) {
			ca := newTestCA(t, "Inkan Test CA")
			for failAt := 1; ; failAt++ {
				fv := &faultyVault{vault: newVault(t), failAt: failAt}
				s := newSoftStore("faulty", fv)
				k, err := s.GenerateKey(ctx, DefaultKeyOptions())
				if err != nil {
					t.Fatalf("GenerateKey: %v", err)
				}
				loginID := newLoginID(t)
				chain := ca.issue(t, k.Signer().Public(), loginID)
				fp := FingerprintOf(chain[0])

				_, err = k.Attach(ctx, chain, loginID+"+1376")
				if !fv.failed {
					if err != nil {
						t.Fatalf("Attach with no failure injected: %v", err)
					}
					if failAt < 3 {
						t.Fatalf("Attach made only %d changes, want key and record", failAt-1)
					}
					return
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("failure at change %d: Attach answered %v", failAt, err)
				}
				if got, want := contents(t, fv.vault, fp), "#0 key:false record:false "; got != want {
					t.Errorf("failure at change %d left %s", failAt, got)
				}
				if ids := listByLoginID(t, s, loginID); len(ids) != 0 {
					t.Errorf("failure at change %d: %d identities listed", failAt, len(ids))
				}
				// The key is still pending: the caller may retry, or Discard.
				fv.failAt = 0
				if _, err := k.Attach(ctx, chain, loginID+"+1376"); err != nil {
					t.Errorf("Attach again after the failure: %v", err)
				}
			}
		})
	}
}

func TestImportFailureAtEachStepLeavesStoreUnchanged(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "Inkan Test CA")
	donor := newMemoryStore()
	var ids []*Identity
	for range 3 {
		ids = append(ids, enroll(t, donor, ca, DefaultKeyOptions(), newLoginID(t)))
	}
	fps := []Fingerprint{ids[0].Fingerprint, ids[1].Fingerprint, ids[2].Fingerprint}
	// Legacy files decode fast; the encoding does not matter here.
	pfx, err := donor.Export(ctx, fps, "secret", ExportOptions{Encoding: PKCS12Legacy})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	onlyFirst, err := donor.Export(ctx, fps[:1], "secret", ExportOptions{Encoding: PKCS12Legacy})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}

	for name, newVault := range vaultKinds(t) {
		t.Run(name, func(t *testing.T) {
			for failAt := 1; ; failAt++ {
				fv := &faultyVault{vault: newVault(t)}
				s := newSoftStore("faulty", fv)
				if _, err := s.Import(ctx, onlyFirst, "secret", ImportOptions{}); err != nil {
					t.Fatalf("Import of the first identity: %v", err)
				}
				before := contents(t, fv.vault, fps...)
				fv.calls, fv.failAt = 0, failAt

				res, err := s.Import(ctx, pfx, "secret", ImportOptions{})
				if !fv.failed {
					if err != nil {
						t.Fatalf("Import with no failure injected: %v", err)
					}
					if len(res.Added) != 2 || len(res.AlreadyPresent) != 1 || res.AlreadyPresent[0].Fingerprint != fps[0] {
						t.Fatalf("Import: %d added, %d already present; want 2 and the first", len(res.Added), len(res.AlreadyPresent))
					}
					if failAt < 5 {
						t.Fatalf("Import made only %d changes, want a key and a record for each of two identities", failAt-1)
					}
					return
				}
				if !errors.Is(err, errInjected) {
					t.Fatalf("failure at change %d: Import answered %v", failAt, err)
				}
				if after := contents(t, fv.vault, fps...); after != before {
					t.Errorf("failure at change %d: the store went from %s to %s", failAt, before, after)
				}
			}
		})
	}
}

func TestDeleteFailureNeverLeavesCertificateWithoutKey(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "Inkan Test CA")
	for failAt, wantListed := range map[int]bool{1: true, 2: false} {
		fv := &faultyVault{vault: newMemoryStore().v}
		s := newSoftStore("faulty", fv)
		loginID := newLoginID(t)
		id := enroll(t, s, ca, DefaultKeyOptions(), loginID)
		fv.calls, fv.failAt = 0, failAt

		if err := s.Delete(ctx, id.Fingerprint); !errors.Is(err, errInjected) {
			t.Fatalf("failure at change %d: Delete answered %v", failAt, err)
		}
		listed := listByLoginID(t, s, loginID)
		if (len(listed) == 1) != wantListed {
			t.Errorf("failure at change %d: %d identities listed, want listed=%v", failAt, len(listed), wantListed)
		}
		for _, id := range listed {
			checkSigns(t, id.Signer, id.Certificate.PublicKey)
		}
	}
}

func TestBackupTwoIdentitiesRestoreIntoEmptyStore(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "Inkan Test CA")
	office, err := Open("dir:" + t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	approver := enroll(t, office, ca, DefaultKeyOptions(), "approver01")
	clerk := enroll(t, office, ca, DefaultKeyOptions(), "clerk01")

	backup, err := office.Export(ctx, []Fingerprint{approver.Fingerprint, clerk.Fingerprint}, "復元 2026", ExportOptions{})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}

	replacement, err := Open("dir:" + t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res, err := replacement.Import(ctx, backup, "復元 2026", ImportOptions{Exportable: true})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if len(res.Added) != 2 || len(res.AlreadyPresent) != 0 {
		t.Fatalf("Import: %d added, %d already present; want 2, 0", len(res.Added), len(res.AlreadyPresent))
	}

	restored, err := replacement.List(ctx, ListOptions{Issuer: ca.cert})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(restored) != 2 {
		t.Fatalf("%d identities restored, want 2", len(restored))
	}
	for _, want := range []*Identity{approver, clerk} {
		i := slices.IndexFunc(restored, func(id *Identity) bool { return id.Fingerprint == want.Fingerprint })
		if i < 0 {
			t.Fatalf("%s was not restored", want.Label)
		}
		got := restored[i]
		if got.Label != want.Label || !got.Exportable || len(got.Chain) != 1 || !got.Chain[0].Equal(ca.cert) {
			t.Errorf("restored %q exportable=%v with %d CA certificates, want %q, exportable, the CA", got.Label, got.Exportable, len(got.Chain), want.Label)
		}
		checkSigns(t, got.Signer, want.Certificate.PublicKey)
	}
}

func TestAttachOfIdentityAlreadyThereIsAlreadyExists(t *testing.T) {
	ctx := context.Background()
	s := newMemoryStore()
	id := enroll(t, s, newTestCA(t, "Inkan Test CA"), DefaultKeyOptions(), newLoginID(t))

	// A second handle on the same key pair, as after a restore of that key.
	again := &softKey{store: s, signer: id.Signer}
	_, err := again.Attach(ctx, append([]*x509.Certificate{id.Certificate}, id.Chain...), id.Label)
	var ae *AlreadyExistsError
	if !errors.As(err, &ae) || ae.Fingerprint != id.Fingerprint {
		t.Errorf("Attach of an identity already there: %v, want an *AlreadyExistsError for %s", err, id.Fingerprint)
	}
}

func TestGenerateKeyOptions(t *testing.T) {
	ctx := context.Background()
	s := newMemoryStore()
	if _, err := s.GenerateKey(ctx, KeyOptions{Hardware: true}); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("GenerateKey of a TPM key in memory: %v, want errors.ErrUnsupported", err)
	}
	if _, err := s.GenerateKey(ctx, KeyOptions{Algorithm: "dsa-1024"}); err == nil || !strings.Contains(err.Error(), string(ECDSAP256)) {
		t.Errorf("GenerateKey of an unknown algorithm: %v, want an error listing the known ones", err)
	}
	k, err := s.GenerateKey(ctx, KeyOptions{Algorithm: ECDSAP384})
	if err != nil {
		t.Fatalf("GenerateKey P-384: %v", err)
	}
	if pub, ok := k.Signer().Public().(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P384() {
		t.Errorf("GenerateKey P-384 made a %T", k.Signer().Public())
	}
	k, err = s.GenerateKey(ctx, KeyOptions{})
	if err != nil {
		t.Fatalf("GenerateKey with no algorithm: %v", err)
	}
	if pub, ok := k.Signer().Public().(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("GenerateKey with no algorithm made a %T, want ECDSA P-256", k.Signer().Public())
	}
}

func TestAttachRefusesLabelWithLineBreak(t *testing.T) {
	ctx := context.Background()
	s := newMemoryStore()
	k, err := s.GenerateKey(ctx, DefaultKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	loginID := newLoginID(t)
	chain := newTestCA(t, "Inkan Test CA").issue(t, k.Signer().Public(), loginID)
	if _, err := k.Attach(ctx, chain, loginID+"\nExportable: true"); err == nil {
		t.Error("Attach took a label with a line break")
	}
}

func TestImportRepairsIdentityWhoseKeyWentMissing(t *testing.T) {
	ctx := context.Background()
	s := newMemoryStore()
	loginID := newLoginID(t)
	id := enroll(t, s, newTestCA(t, "Inkan Test CA"), DefaultKeyOptions(), loginID)
	pfx, err := s.Export(ctx, []Fingerprint{id.Fingerprint, id.Fingerprint}, "secret", ExportOptions{})
	if err != nil {
		t.Fatalf("Export naming one identity twice: %v", err)
	}

	// As when the user removes the key in the keyring's own UI.
	if err := s.v.deleteKey(id.Fingerprint); err != nil {
		t.Fatal(err)
	}
	if got := listByLoginID(t, s, loginID); len(got) != 0 {
		t.Fatalf("an identity without its key is listed")
	}

	res, err := s.Import(ctx, pfx, "secret", ImportOptions{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if len(res.Added) != 1 || len(res.AlreadyPresent) != 0 {
		t.Fatalf("Import: %d added, %d already present; want the identity added once", len(res.Added), len(res.AlreadyPresent))
	}
	got := listByLoginID(t, s, loginID)
	if len(got) != 1 {
		t.Fatalf("after the repair: %d identities listed, want 1", len(got))
	}
	checkSigns(t, got[0].Signer, id.Certificate.PublicKey)
}
