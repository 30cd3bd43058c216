package certstore

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/windows"
)

// Wine limitations the tests skip for; docs/certstore-windows.md has what was seen.
const (
	wineNoECDSA      = "Wine's ncrypt.dll has no ECDSA keys (NCryptCreatePersistedKey answers NTE_NOT_SUPPORTED)"
	wineNoPersist    = "Wine's ncrypt.dll keeps no key beyond its handle (NCryptOpenKey answers NTE_NOT_SUPPORTED), so no key outlives its process"
	wineNoTPM        = "Wine has no TPM behind the Microsoft Platform Crypto Provider"
	winePKCS1Hashes  = "Wine's bcrypt.dll (GnuTLS) refuses PKCS#1 v1.5 over SHA-384 and SHA-512 with a 2048-bit key (NCryptSignHash answers NTE_INTERNAL_ERROR, GnuTLS logs \"Some constraint limits were reached\")"
	childEnvVar      = "INKAN_WINDOWS_TEST_CHILD" // set when the test binary runs itself as a second process
	testLabelSuffix  = "+1376"
	testPrefixFormat = "inkantest-%s-"
)

// newTestWindowsStore returns a Windows store whose keys carry a container prefix
// of their own, so that it sees only what this test made, and removes whatever
// the test left behind.
func newTestWindowsStore(t *testing.T) *windowsStore {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	s, err := newWindowsStore(fmt.Sprintf(testPrefixFormat, hex.EncodeToString(b)))
	if err != nil {
		t.Fatalf("open the Windows store: %v", err)
	}
	t.Cleanup(func() { cleanUpWindowsStore(t, s) })
	return s
}

func cleanUpWindowsStore(t *testing.T, s *windowsStore) {
	t.Helper()
	ids, err := s.List(context.Background(), ListOptions{})
	if err != nil {
		t.Errorf("clean up: %v", err)
		return
	}
	for _, id := range ids {
		if err := s.Delete(context.Background(), id.Fingerprint); err != nil {
			t.Errorf("clean up %s: %v", id.Fingerprint, err)
		}
	}
}

func TestWindowsStoreConformanceRSA(t *testing.T) {
	t.Logf("Wine: %q", wineVersion())
	testStoreConformance(t, func(t *testing.T) Store { return newTestWindowsStore(t) }, KeyOptions{Algorithm: RSA2048})
}

func TestWindowsStoreConformanceECDSA(t *testing.T) {
	skipUnderWine(t, wineNoECDSA)
	testStoreConformance(t, func(t *testing.T) Store { return newTestWindowsStore(t) }, DefaultKeyOptions())
}

func TestWindowsRSASignsPKCS1AndPSS(t *testing.T) {
	s := newTestWindowsStore(t)
	k, err := s.GenerateKey(context.Background(), KeyOptions{Algorithm: RSA2048})
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	defer k.Discard(context.Background())
	pub, ok := k.Signer().Public().(*rsa.PublicKey)
	if !ok || pub.N.BitLen() != 2048 {
		t.Fatalf("public key %T, want a 2048-bit RSA key", k.Signer().Public())
	}
	msg := []byte("振込承認 1376")
	for _, hash := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		h := hash.New()
		h.Write(msg)
		digest := h.Sum(nil)

		t.Run("PKCS1v15/"+hash.String(), func(t *testing.T) {
			if hash != crypto.SHA256 {
				skipUnderWine(t, winePKCS1Hashes)
			}
			sig, err := k.Signer().Sign(rand.Reader, digest, hash)
			if err != nil {
				t.Fatal(err)
			}
			if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
				t.Errorf("the signature does not verify: %v", err)
			}
		})
		for _, salt := range []int{rsa.PSSSaltLengthEqualsHash, rsa.PSSSaltLengthAuto} {
			t.Run(fmt.Sprintf("PSS/%v/salt%d", hash, salt), func(t *testing.T) {
				opts := &rsa.PSSOptions{SaltLength: salt, Hash: hash}
				sig, err := k.Signer().Sign(rand.Reader, digest, opts)
				if err != nil {
					t.Fatal(err)
				}
				if err := rsa.VerifyPSS(pub, hash, digest, sig, opts); err != nil {
					t.Errorf("the signature does not verify: %v", err)
				}
			})
		}
	}
	if _, err := k.Signer().Sign(rand.Reader, msg, crypto.SHA256); err == nil {
		t.Error("Sign accepted a digest of the wrong length")
	}
}

func TestWindowsECDSASignsASN1(t *testing.T) {
	skipUnderWine(t, wineNoECDSA)
	s := newTestWindowsStore(t)
	for _, alg := range []Algorithm{ECDSAP256, ECDSAP384} {
		k, err := s.GenerateKey(context.Background(), KeyOptions{Algorithm: alg})
		if err != nil {
			t.Fatalf("GenerateKey(%s): %v", alg, err)
		}
		pub := k.Signer().Public().(*ecdsa.PublicKey)
		digest := sha512.Sum384([]byte("振込承認 1376"))
		sig, err := k.Signer().Sign(rand.Reader, digest[:], crypto.SHA384)
		if err != nil {
			t.Fatalf("%s sign: %v", alg, err)
		}
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			t.Errorf("%s signature does not verify", alg)
		}
		if err := k.Discard(context.Background()); err != nil {
			t.Errorf("Discard: %v", err)
		}
	}
}

// TestWindowsCertificateIsLinkedForBrowsers reads CurrentUser\MY and \CA
// directly, as Edge and Chrome do, after an Attach.
func TestWindowsCertificateIsLinkedForBrowsers(t *testing.T) {
	s := newTestWindowsStore(t)
	ca := newTestCA(t, "Inkan Test CA")
	loginID := newLoginID(t)
	id := enroll(t, s, ca, KeyOptions{Algorithm: RSA2048}, loginID)

	mine, err := s.inkanCerts()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(mine, func(sc *storeCert) bool { return sc.Cert.Equal(id.Certificate) })
	if i < 0 {
		t.Fatal("the certificate is not in CurrentUser\\MY with an Inkan key link")
	}
	sc := mine[i]
	if sc.Link.Provider != providerSoftware || !strings.HasPrefix(sc.Link.Container, s.prefix) {
		t.Errorf("key link %+v, want the Software KSP and a container starting %q", *sc.Link, s.prefix)
	}
	if sc.FriendlyName != loginID+testLabelSuffix {
		t.Errorf("friendly name %q, want %q", sc.FriendlyName, loginID+testLabelSuffix)
	}
	if sc.AddedAt.IsZero() {
		t.Error("no CERT_DATE_STAMP_PROP_ID on the certificate")
	}
	cas, err := readStore(storeCA)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(cas, ca.cert.Equal) {
		t.Error("the issuing CA is not in CurrentUser\\CA")
	}
}

// TestWindowsFailedAttachLeavesNoTrace: the leaf is in MY already (without a
// key), so Attach fails; the CA it added goes again, and Discard removes the key.
func TestWindowsFailedAttachLeavesNoTrace(t *testing.T) {
	s := newTestWindowsStore(t)
	ctx := context.Background()
	ca := newTestCA(t, "Inkan Test CA")
	loginID := newLoginID(t)
	k, err := s.GenerateKey(ctx, KeyOptions{Algorithm: RSA2048})
	if err != nil {
		t.Fatal(err)
	}
	chain := ca.issue(t, k.Signer().Public(), loginID)
	addForeign(t, storeMY, chain[0])

	_, err = k.Attach(ctx, chain, loginID+testLabelSuffix)
	var exists *AlreadyExistsError
	if !errors.As(err, &exists) {
		t.Fatalf("Attach of a certificate already in MY: %v, want an *AlreadyExistsError", err)
	}
	cas, err := readStore(storeCA)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(cas, ca.cert.Equal) {
		t.Error("the failed Attach left its CA certificate in CurrentUser\\CA")
	}
	link := keyLink{Provider: providerSoftware, Container: k.(*windowsKey).key.container}
	if err := k.Discard(ctx); err != nil {
		t.Fatalf("Discard: %v", err)
	}
	var nf *NotFoundError
	if _, err := loadKey(link); !errors.As(err, &nf) {
		t.Errorf("the discarded key still opens: %v", err)
	}
}

// TestWindowsFailedImportRemovesWhatItAdded: the second identity of a file
// cannot be added, so the first, added already, goes again with its key and CA.
func TestWindowsFailedImportRemovesWhatItAdded(t *testing.T) {
	s := newTestWindowsStore(t)
	ctx := context.Background()
	ca := newTestCA(t, "Inkan Test CA")
	var items []pfxItem
	for range 2 {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		loginID := newLoginID(t)
		items = append(items, pfxItem{Key: key, Chain: ca.issue(t, key.Public(), loginID), FriendlyName: loginID + testLabelSuffix})
	}
	pfx, err := encodePFX(items, "secret", PKCS12Modern)
	if err != nil {
		t.Fatal(err)
	}
	addForeign(t, storeMY, items[1].Chain[0])
	keysBefore := len(snapshotKeys())

	if _, err := s.Import(ctx, pfx, "secret", ImportOptions{Exportable: true}); err == nil {
		t.Fatal("Import succeeded although the second certificate is in MY already")
	}
	ids, err := s.List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Errorf("the failed Import left %d identities", len(ids))
	}
	my, err := readStore(storeMY)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(my, items[0].Chain[0].Equal) {
		t.Error("the failed Import left the first certificate in CurrentUser\\MY")
	}
	cas, err := readStore(storeCA)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(cas, ca.cert.Equal) {
		t.Error("the failed Import left its CA certificate in CurrentUser\\CA")
	}
	if after := len(snapshotKeys()); after != keysBefore {
		t.Errorf("the failed Import left %d open keys behind", after-keysBefore)
	}
}

// snapshotKeys returns the containers of the keys this process holds open.
func snapshotKeys() []keyLink {
	keysMu.Lock()
	defer keysMu.Unlock()
	var links []keyLink
	for link := range keys {
		links = append(links, link)
	}
	return links
}

// addForeign puts cert into a CurrentUser store without a key link, as another
// program might, and removes it when the test ends.
func addForeign(t *testing.T, store string, cert *x509.Certificate) {
	t.Helper()
	h, err := openSystemStore(store)
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := addCert(h, cert)
	if err != nil {
		t.Fatal(err)
	}
	windows.CertFreeCertificateContext(ctx)
	if err := closeStore(h, store); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeFromStore(store, cert); err != nil {
			t.Errorf("clean up: %v", err)
		}
	})
}

// TestWindowsImportRestoresCertificateWithoutKey: a certificate still in MY
// whose key is gone is not listed, and importing its backup restores it.
func TestWindowsImportRestoresCertificateWithoutKey(t *testing.T) {
	s := newTestWindowsStore(t)
	ctx := context.Background()
	id := enroll(t, s, newTestCA(t, "Inkan Test CA"), KeyOptions{Algorithm: RSA2048, Exportable: true}, newLoginID(t))
	pfx, err := s.Export(ctx, []Fingerprint{id.Fingerprint}, "secret", ExportOptions{})
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if err := removeKey(keyLink{Provider: providerSoftware, Container: id.Signer.(*cngKey).container}); err != nil {
		t.Fatalf("remove the key behind the store's back: %v", err)
	}
	if got := listByLoginID(t, s, id.Certificate.Subject.CommonName); len(got) != 0 {
		t.Fatalf("a certificate without its key is listed")
	}
	res, err := s.Import(ctx, pfx, "secret", ImportOptions{Exportable: true})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if len(res.Added) != 1 || len(res.AlreadyPresent) != 0 {
		t.Fatalf("Import: %d added, %d already present; want 1, 0", len(res.Added), len(res.AlreadyPresent))
	}
	got := listByLoginID(t, s, id.Certificate.Subject.CommonName)
	if len(got) != 1 || got[0].Label != id.Label {
		t.Fatalf("after Import: %d identities listed, want %q", len(got), id.Label)
	}
	checkSigns(t, got[0].Signer, id.Certificate.PublicKey)
}

func TestWindowsHardwareKeyIsNotExportable(t *testing.T) {
	skipUnderWine(t, wineNoTPM)
	s := newTestWindowsStore(t)
	if _, err := openProviderHandle(providerPlatform); err != nil {
		t.Skipf("this PC has no usable TPM: %v", err)
	}
	ca := newTestCA(t, "Inkan Test CA")
	loginID := newLoginID(t)
	id := enroll(t, s, ca, KeyOptions{Algorithm: RSA2048, Hardware: true, Exportable: true}, loginID)
	if !id.Hardware || id.Exportable {
		t.Errorf("TPM identity: Hardware %v, Exportable %v; want true, false", id.Hardware, id.Exportable)
	}
	checkSigns(t, id.Signer, id.Certificate.PublicKey)
	if _, err := s.Export(context.Background(), []Fingerprint{id.Fingerprint}, "secret", ExportOptions{}); !errors.Is(err, ErrKeyNotExportable) {
		t.Errorf("Export of a TPM key: %v, want ErrKeyNotExportable", err)
	}
}

// TestWindowsCertificatePersistsAcrossProcesses: what Attach wrote to MY (the
// certificate, its key link and friendly name) is there for the next process.
func TestWindowsCertificatePersistsAcrossProcesses(t *testing.T) {
	s := newTestWindowsStore(t)
	id := enroll(t, s, newTestCA(t, "Inkan Test CA"), KeyOptions{Algorithm: RSA2048}, newLoginID(t))
	runChild(t, "certificate", s.prefix, id)
}

// TestWindowsIdentityPersistsAcrossProcesses: the next process lists the
// identity and signs with its key.
func TestWindowsIdentityPersistsAcrossProcesses(t *testing.T) {
	skipUnderWine(t, wineNoPersist)
	s := newTestWindowsStore(t)
	id := enroll(t, s, newTestCA(t, "Inkan Test CA"), KeyOptions{Algorithm: RSA2048}, newLoginID(t))
	runChild(t, "identity", s.prefix, id)
}

// runChild runs TestWindowsChild in a new process of this test binary.
func runChild(t *testing.T, what, prefix string, id *Identity) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestWindowsChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%s,%s,%s", childEnvVar, what, prefix, id.Fingerprint, id.Label))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestWindowsChild") {
		t.Fatalf("the second process did not find the %s: %v\n%s", what, err, out)
	}
}

// TestWindowsChild is the second process of the persistence tests; it does
// nothing unless runChild started it.
func TestWindowsChild(t *testing.T) {
	env := os.Getenv(childEnvVar)
	if env == "" {
		t.Skip("runs only as the second process of a persistence test")
	}
	parts := strings.SplitN(env, ",", 4)
	if len(parts) != 4 {
		t.Fatalf("%s=%q, want what,prefix,fingerprint,label", childEnvVar, env)
	}
	what, fp, label := parts[0], Fingerprint(parts[2]), parts[3]
	s, err := newWindowsStore(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	switch what {
	case "certificate":
		mine, err := s.inkanCerts()
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(mine, func(sc *storeCert) bool { return FingerprintOf(sc.Cert) == fp })
		if i < 0 {
			t.Fatalf("certificate %s is not in CurrentUser\\MY with an Inkan key link", fp)
		}
		if mine[i].FriendlyName != label {
			t.Errorf("friendly name %q, want %q", mine[i].FriendlyName, label)
		}
	case "identity":
		ids, err := s.List(context.Background(), ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(ids, func(id *Identity) bool { return id.Fingerprint == fp })
		if i < 0 {
			t.Fatalf("identity %s is not listed", fp)
		}
		digest := sha256.Sum256([]byte("振込承認 1376"))
		sig, err := ids[i].Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if err := rsa.VerifyPKCS1v15(ids[i].Certificate.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
			t.Errorf("the reopened key's signature does not verify: %v", err)
		}
	default:
		t.Fatalf("unknown child test %q", what)
	}
}

// TestWindowsFailedCommitDoesNotUndoAnAttachThatWasWritten: CertControlStore
// failing after the certificates are in the store (Windows writes through) is
// no reason to take the identity back.
func TestWindowsFailedCommitDoesNotUndoAnAttachThatWasWritten(t *testing.T) {
	s := newTestWindowsStore(t)
	ctx := context.Background()
	ca := newTestCA(t, "Inkan Test CA")
	loginID := newLoginID(t)
	k, err := s.GenerateKey(ctx, KeyOptions{Algorithm: RSA2048})
	if err != nil {
		t.Fatal(err)
	}
	chain := ca.issue(t, k.Signer().Public(), loginID)
	orig := commitStore
	commitStore = func(windows.Handle) error {
		return &SystemError{Call: "CertControlStore", Code: 0x80070005, Name: "ERROR_ACCESS_DENIED"}
	}
	id, err := k.Attach(ctx, chain, loginID+testLabelSuffix)
	commitStore = orig
	if err != nil {
		t.Fatalf("Attach with a failing commit: %v", err)
	}
	t.Cleanup(func() { _ = s.Delete(context.Background(), id.Fingerprint) })
	ids, err := s.List(ctx, ListOptions{LoginID: loginID})
	if err != nil || len(ids) != 1 || ids[0].Fingerprint != id.Fingerprint {
		t.Fatalf("after the Attach the store lists %d (%v), want the identity", len(ids), err)
	}
}

// TestWindowsUnopenableKeyListsAsUnusable: NCryptOpenKey refusing one key for a
// reason other than a missing key (here ERROR_ACCESS_DENIED, as a key file
// whose ACL shuts the user out answers) does not break the list: the others
// list and sign as before, the broken one lists as unusable with the call and
// status, and Delete removes it.
func TestWindowsUnopenableKeyListsAsUnusable(t *testing.T) {
	s := newTestWindowsStore(t)
	ctx := context.Background()
	ca := newTestCA(t, "Inkan Test CA")
	var made []*Identity
	for range 3 {
		k, err := s.GenerateKey(ctx, KeyOptions{Algorithm: RSA2048})
		if err != nil {
			t.Fatal(err)
		}
		loginID := newLoginID(t)
		id, err := k.Attach(ctx, ca.issue(t, k.Signer().Public(), loginID), loginID+testLabelSuffix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Delete(context.Background(), id.Fingerprint) })
		made = append(made, id)
	}
	broken := made[1]
	key := broken.Signer.(*cngKey)
	link := keyLink{Provider: key.prov.name, Container: key.container}
	// Forget the open handle, so that listing must open the key by name again,
	// as a later start of Inkan does; the handle is freed (under Wine: the key
	// deleted) at the end, since the injected failure keeps Delete from it.
	keysMu.Lock()
	delete(keys, link)
	keysMu.Unlock()
	t.Cleanup(func() { _ = removeKeyHandle(key.prov, key.handle) })
	orig := openKey
	openKey = func(prov uintptr, container string) (uintptr, error) {
		if container == link.Container {
			return 0, fmt.Errorf("open key %q: %w", container,
				&SystemError{Call: "NCryptOpenKey", Code: 0x80070005, Name: "ERROR_ACCESS_DENIED"})
		}
		return orig(prov, container)
	}
	t.Cleanup(func() { openKey = orig })

	ids, err := s.List(ctx, ListOptions{})
	if err != nil {
		t.Fatalf("List with one unopenable key: %v", err)
	}
	if len(ids) != 3 {
		t.Fatalf("List returned %d identities, want the 3 made", len(ids))
	}
	for _, id := range ids {
		if id.Fingerprint == broken.Fingerprint {
			if id.Signer != nil {
				t.Error("the unopenable identity has a Signer")
			}
			if !strings.Contains(id.Unusable, "NCryptOpenKey returned 0x80070005 (ERROR_ACCESS_DENIED)") {
				t.Errorf("Unusable = %q, want the call and status", id.Unusable)
			}
			if id.Certificate == nil || !id.Certificate.Equal(broken.Certificate) || len(id.Chain) == 0 {
				t.Errorf("the unusable entry lost its certificate or chain: %+v", id)
			}
			continue
		}
		if id.Unusable != "" || id.Signer == nil {
			t.Fatalf("identity %s is unusable (%q) though its key opens", id.Label, id.Unusable)
		}
		checkSigns(t, id.Signer, id.Certificate.PublicKey)
	}

	if err := s.Delete(ctx, broken.Fingerprint); err != nil {
		t.Fatalf("Delete the unusable identity: %v", err)
	}
	ids, err = s.List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || slices.ContainsFunc(ids, func(id *Identity) bool { return id.Fingerprint == broken.Fingerprint }) {
		t.Fatalf("after Delete the store lists %d identities, want the 2 others", len(ids))
	}
	h, err := openSystemStore(storeMY)
	if err != nil {
		t.Fatal(err)
	}
	c, ferr := findCert(h, broken.Certificate.Raw)
	if c != nil {
		_ = windows.CertFreeCertificateContext(c)
	}
	if cerr := closeStore(h, storeMY); ferr == nil {
		ferr = cerr
	}
	if ferr != nil {
		t.Fatal(ferr)
	}
	if c != nil {
		t.Error("the unusable identity's certificate is still in CurrentUser\\MY")
	}
}

// TestWindowsSelfCheckChildSignsOnlyItsOwnKeys: the self-check's second
// process opens nothing but the self-check's throw-away keys, so it can never
// be made to sign with an identity's key; and it refuses a digest that is not
// one.
func TestWindowsSelfCheckChildSignsOnlyItsOwnKeys(t *testing.T) {
	digest := strings.Repeat("ab", 32)
	if ans := reopenAndSign(containerPrefix+"0123", digest); ans.Signature != nil || !strings.Contains(ans.Message, "is not a self-check key") {
		t.Fatalf("an identity's key name: %+v", ans)
	}
	if ans := reopenAndSign(doctorPrefix+"1", "zz"); ans.Signature != nil || !strings.Contains(ans.Message, "is not a SHA-256 digest") {
		t.Fatalf("a bad digest: %+v", ans)
	}
	// A self-check key that does not exist: Windows says NTE_BAD_KEYSET, Wine
	// NTE_NOT_SUPPORTED; either way it is the call's own status.
	ans := reopenAndSign(doctorPrefix+"missing", digest)
	if ans.Failure == nil || ans.Failure.Call != "NCryptOpenKey" || ans.Signature != nil {
		t.Fatalf("a missing key: %+v", ans)
	}
}

// TestWindowsRemoveAllTakesKeylessCertificatesToo: what an uninstall asked to
// delete the certificates does; a certificate in MY whose key is gone (every
// one of an earlier process under Wine) goes too, and nothing else's does.
func TestWindowsRemoveAllTakesKeylessCertificatesToo(t *testing.T) {
	s := newTestWindowsStore(t)
	ctx := context.Background()
	ca := newTestCA(t, "Inkan Test CA")
	kept := enroll(t, s, ca, KeyOptions{Algorithm: RSA2048}, newLoginID(t))
	orphan := enroll(t, s, ca, KeyOptions{Algorithm: RSA2048}, newLoginID(t))
	if err := removeKey(keyLink{Provider: providerSoftware, Container: orphan.Signer.(*cngKey).container}); err != nil {
		t.Fatalf("remove the key behind the store's back: %v", err)
	}
	// Another program's certificate in MY, without an Inkan key link.
	foreign := newTestCA(t, "Someone Else's CA").cert
	addForeign(t, storeMY, foreign)

	deleted, orphans, err := RemoveAll(ctx, s)
	if err != nil {
		t.Fatalf("RemoveAll: %v", err)
	}
	if len(deleted) != 1 || deleted[0].Fingerprint != kept.Fingerprint || orphans != 1 {
		t.Fatalf("RemoveAll deleted %d identities and %d key-less certificates; want %s and 1", len(deleted), orphans, kept.Fingerprint)
	}
	mine, err := s.inkanCerts()
	if err != nil || len(mine) != 0 {
		t.Fatalf("after RemoveAll MY holds %d of this store's certificates (%v)", len(mine), err)
	}
	my, err := readStore(storeMY)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(my, func(c *x509.Certificate) bool { return c.Equal(foreign) }) {
		t.Fatal("RemoveAll deleted another program's certificate")
	}
}
