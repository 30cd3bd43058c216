package certstore

// The conformance suite every backend runs. It uses nothing but the Store
// interface, and only identities it made itself (each under a fresh login ID), so
// it also runs against a store that other tests or the user share.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// testCA issues login certificates the way the bank's CA does, for tests.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Inkan test bank"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key}
}

// issue returns the chain (leaf first) of a login certificate for pub with CN loginID.
func (ca *testCA) issue(t *testing.T, pub crypto.PublicKey, loginID string) []*x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: loginID},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{leaf, ca.cert}
}

// newLoginID returns a login ID no other test uses.
func newLoginID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	return "user-" + hex.EncodeToString(b)
}

// checkSigns signs a digest with s and verifies it with pub.
func checkSigns(t *testing.T, s crypto.Signer, pub crypto.PublicKey) {
	t.Helper()
	digest := sha256.Sum256([]byte("振込承認 1376"))
	sig, err := s.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			t.Fatal("the ECDSA signature does not verify")
		}
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			t.Fatalf("the RSA signature does not verify: %v", err)
		}
	default:
		t.Fatalf("unexpected public key type %T", pub)
	}
}

// enroll generates a key in s, issues a certificate for it and attaches it.
func enroll(t *testing.T, s Store, ca *testCA, opts KeyOptions, loginID string) *Identity {
	t.Helper()
	ctx := context.Background()
	k, err := s.GenerateKey(ctx, opts)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	id, err := k.Attach(ctx, ca.issue(t, k.Signer().Public(), loginID), loginID+"+1376")
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Delete(context.Background(), id.Fingerprint); err != nil {
			var nf *NotFoundError
			if !errors.As(err, &nf) {
				t.Errorf("clean up %s: %v", id.Fingerprint, err)
			}
		}
	})
	return id
}

// listByLoginID lists the identities of loginID, failing the test on error.
func listByLoginID(t *testing.T, s Store, loginID string) []*Identity {
	t.Helper()
	ids, err := s.List(context.Background(), ListOptions{LoginID: loginID})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return ids
}

// testStoreConformance checks that a backend keeps the Store contract. newStore
// returns the store under test; keyOpts says which keys to make in it.
func testStoreConformance(t *testing.T, newStore func(t *testing.T) Store, keyOpts KeyOptions) {
	ctx := context.Background()
	exportable, notExportable := keyOpts, keyOpts
	exportable.Exportable, notExportable.Exportable = true, false

	t.Run("GenerateSignAttachListDelete", func(t *testing.T) {
		s := newStore(t)
		ca, otherCA := newTestCA(t, "Inkan Test CA"), newTestCA(t, "Other CA")
		loginID := newLoginID(t)

		k, err := s.GenerateKey(ctx, keyOpts)
		if err != nil {
			t.Fatalf("GenerateKey: %v", err)
		}
		checkSigns(t, k.Signer(), k.Signer().Public())
		chain := ca.issue(t, k.Signer().Public(), loginID)
		if got := listByLoginID(t, s, loginID); len(got) != 0 {
			t.Fatalf("a pending key is listed: %d identities", len(got))
		}

		label := loginID + "+1376"
		id, err := k.Attach(ctx, chain, label)
		if err != nil {
			t.Fatalf("Attach: %v", err)
		}
		if id.Label != label || id.Fingerprint != FingerprintOf(chain[0]) || !id.Certificate.Equal(chain[0]) {
			t.Errorf("Attach returned %q %s, want %q %s", id.Label, id.Fingerprint, label, FingerprintOf(chain[0]))
		}

		got := listByLoginID(t, s, loginID)
		if len(got) != 1 {
			t.Fatalf("List by login ID: %d identities, want 1", len(got))
		}
		listed := got[0]
		if listed.Fingerprint != id.Fingerprint || listed.Label != label {
			t.Errorf("listed %q %s, want %q %s", listed.Label, listed.Fingerprint, label, id.Fingerprint)
		}
		if len(listed.Chain) != 1 || !listed.Chain[0].Equal(ca.cert) {
			t.Errorf("listed chain has %d certificates, want the CA alone", len(listed.Chain))
		}
		if listed.Exportable != keyOpts.Exportable {
			t.Errorf("listed Exportable = %v, want %v", listed.Exportable, keyOpts.Exportable)
		}
		checkSigns(t, listed.Signer, listed.Certificate.PublicKey)

		byIssuer, err := s.List(ctx, ListOptions{Issuer: ca.cert, LoginID: loginID})
		if err != nil || len(byIssuer) != 1 {
			t.Errorf("List by issuer and login ID: %d identities, %v; want 1", len(byIssuer), err)
		}
		byOther, err := s.List(ctx, ListOptions{Issuer: otherCA.cert})
		if err != nil || len(byOther) != 0 {
			t.Errorf("List by another issuer: %d identities, %v; want none", len(byOther), err)
		}
		if others := listByLoginID(t, s, loginID+"-other"); len(others) != 0 {
			t.Errorf("List by another login ID: %d identities, want none", len(others))
		}

		if err := k.Discard(ctx); err != nil {
			t.Errorf("Discard after Attach: %v", err)
		}
		if got := listByLoginID(t, s, loginID); len(got) != 1 {
			t.Errorf("Discard after Attach removed the identity")
		}

		if err := s.Delete(ctx, id.Fingerprint); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if got := listByLoginID(t, s, loginID); len(got) != 0 {
			t.Errorf("after Delete: %d identities listed", len(got))
		}
		var nf *NotFoundError
		if err := s.Delete(ctx, id.Fingerprint); !errors.As(err, &nf) {
			t.Errorf("Delete again: %v, want a *NotFoundError", err)
		}
	})

	t.Run("DiscardLeavesNothing", func(t *testing.T) {
		s := newStore(t)
		ca := newTestCA(t, "Inkan Test CA")
		loginID := newLoginID(t)
		k, err := s.GenerateKey(ctx, keyOpts)
		if err != nil {
			t.Fatalf("GenerateKey: %v", err)
		}
		chain := ca.issue(t, k.Signer().Public(), loginID)
		if err := k.Discard(ctx); err != nil {
			t.Fatalf("Discard: %v", err)
		}
		if _, err := k.Attach(ctx, chain, loginID+"+1376"); err == nil {
			t.Error("Attach after Discard succeeded")
		}
		if got := listByLoginID(t, s, loginID); len(got) != 0 {
			t.Errorf("after Discard: %d identities listed", len(got))
		}
	})

	t.Run("AttachRefusesAnotherKeysCertificate", func(t *testing.T) {
		s := newStore(t)
		ca := newTestCA(t, "Inkan Test CA")
		loginID := newLoginID(t)
		k1, err := s.GenerateKey(ctx, keyOpts)
		if err != nil {
			t.Fatalf("GenerateKey: %v", err)
		}
		k2, err := s.GenerateKey(ctx, keyOpts)
		if err != nil {
			t.Fatalf("GenerateKey: %v", err)
		}
		defer k2.Discard(ctx)
		_, err = k1.Attach(ctx, ca.issue(t, k2.Signer().Public(), loginID), loginID+"+1376")
		if !errors.Is(err, ErrKeyMismatch) {
			t.Errorf("Attach of another key's certificate: %v, want ErrKeyMismatch", err)
		}
		if got := listByLoginID(t, s, loginID); len(got) != 0 {
			t.Errorf("after a refused Attach: %d identities listed", len(got))
		}
		if err := k1.Discard(ctx); err != nil {
			t.Errorf("Discard after a failed Attach: %v", err)
		}
	})

	for _, enc := range []PKCS12Encoding{PKCS12Modern, PKCS12Legacy} {
		t.Run("ExportDeleteImport/"+string(enc), func(t *testing.T) {
			s := newStore(t)
			ca := newTestCA(t, "Inkan Test CA")
			loginID := newLoginID(t)
			id := enroll(t, s, ca, exportable, loginID)

			pfx, err := s.Export(ctx, []Fingerprint{id.Fingerprint}, "正しい password", ExportOptions{Encoding: enc})
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			if err := s.Delete(ctx, id.Fingerprint); err != nil {
				t.Fatalf("Delete: %v", err)
			}

			res, err := s.Import(ctx, pfx, "正しい password", ImportOptions{Exportable: true})
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if len(res.Added) != 1 || len(res.AlreadyPresent) != 0 {
				t.Fatalf("Import: %d added, %d already present; want 1, 0", len(res.Added), len(res.AlreadyPresent))
			}
			got := listByLoginID(t, s, loginID)
			if len(got) != 1 || got[0].Fingerprint != id.Fingerprint || got[0].Label != id.Label {
				t.Fatalf("after Import: %d identities listed, want %q %s", len(got), id.Label, id.Fingerprint)
			}
			if len(got[0].Chain) != 1 || !got[0].Chain[0].Equal(ca.cert) {
				t.Errorf("imported chain has %d certificates, want the CA alone", len(got[0].Chain))
			}
			checkSigns(t, got[0].Signer, id.Certificate.PublicKey)

			again, err := s.Import(ctx, pfx, "正しい password", ImportOptions{Exportable: true})
			if err != nil {
				t.Fatalf("Import again: %v", err)
			}
			if len(again.Added) != 0 || len(again.AlreadyPresent) != 1 || again.AlreadyPresent[0].Fingerprint != id.Fingerprint {
				t.Errorf("Import again: %d added, %d already present; want 0, 1", len(again.Added), len(again.AlreadyPresent))
			}
			if got := listByLoginID(t, s, loginID); len(got) != 1 {
				t.Errorf("after importing twice: %d identities listed, want 1", len(got))
			}
		})
	}

	t.Run("ImportWrongPasswordOrDamagedFileChangesNothing", func(t *testing.T) {
		s := newStore(t)
		ca := newTestCA(t, "Inkan Test CA")
		loginID := newLoginID(t)
		id := enroll(t, s, ca, exportable, loginID)
		pfx, err := s.Export(ctx, []Fingerprint{id.Fingerprint}, "secret", ExportOptions{})
		if err != nil {
			t.Fatalf("Export: %v", err)
		}
		if err := s.Delete(ctx, id.Fingerprint); err != nil {
			t.Fatalf("Delete: %v", err)
		}

		if _, err := s.Import(ctx, pfx, "not the secret", ImportOptions{}); !errors.Is(err, ErrWrongPassword) {
			t.Errorf("Import with a wrong password: %v, want ErrWrongPassword", err)
		}
		for name, damaged := range map[string][]byte{
			"truncated":     pfx[:len(pfx)/2],
			"not PKCS#12":   []byte("-----BEGIN CERTIFICATE-----\n"),
			"trailing junk": append(bytes.Clone(pfx), 0, 1, 2),
		} {
			if _, err := s.Import(ctx, damaged, "secret", ImportOptions{}); !errors.Is(err, ErrDamagedFile) {
				t.Errorf("Import of a %s file: %v, want ErrDamagedFile", name, err)
			}
		}
		if got := listByLoginID(t, s, loginID); len(got) != 0 {
			t.Errorf("failed imports left %d identities", len(got))
		}
	})

	t.Run("ExportRefusesKeyNotExportable", func(t *testing.T) {
		s := newStore(t)
		ca := newTestCA(t, "Inkan Test CA")
		loginID := newLoginID(t)
		id := enroll(t, s, ca, notExportable, loginID)
		if id.Exportable {
			t.Error("a key made without Exportable is listed as exportable")
		}
		_, err := s.Export(ctx, []Fingerprint{id.Fingerprint}, "secret", ExportOptions{})
		if !errors.Is(err, ErrKeyNotExportable) {
			t.Fatalf("Export: %v, want ErrKeyNotExportable", err)
		}
		if !strings.Contains(err.Error(), id.Label) {
			t.Errorf("the error %q does not name %q", err, id.Label)
		}
	})

	t.Run("ExportOfUnknownIdentityIsNotFound", func(t *testing.T) {
		s := newStore(t)
		var nf *NotFoundError
		_, err := s.Export(ctx, []Fingerprint{Fingerprint(strings.Repeat("ab", 32))}, "secret", ExportOptions{})
		if !errors.As(err, &nf) {
			t.Errorf("Export of an unknown fingerprint: %v, want a *NotFoundError", err)
		}
	})
}
