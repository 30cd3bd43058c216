package nssdb

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/certstore"
)

// needTools skips only where NSS's tools are not installed; scripts/install-deps.sh installs them.
func needTools(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("certutil"); err != nil {
		t.Skip("certutil not installed (libnss3-tools)")
	}
}

// pki is a CA and an identity of it, exported as PKCS#12 by the software store's encoder.
type pki struct {
	ca, leaf *x509.Certificate
	pfx      []byte
}

func newPKI(t *testing.T, label string) pki {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Issuing CA " + label},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	store, err := certstore.Open("memory")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key, err := store.GenerateKey(ctx, certstore.DefaultKeyOptions())
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "user1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(12 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Signer().Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	id, err := key.Attach(ctx, []*x509.Certificate{leaf, ca}, label)
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := store.Export(ctx, []certstore.Fingerprint{id.Fingerprint}, "one-time", certstore.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pki{ca: ca, leaf: leaf, pfx: pfx}
}

func TestEnsureCreatesAMissingDatabaseAndListsNothing(t *testing.T) {
	needTools(t)
	db := DB{Dir: filepath.Join(t.TempDir(), ".pki", "nssdb")}
	if err := db.Ensure(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(db.Dir, "cert9.db")); err != nil {
		t.Fatalf("no sql: database made: %v", err)
	}
	entries, err := db.List(context.Background())
	if err != nil || len(entries) != 0 {
		t.Fatalf("a new database lists %v, %v", entries, err)
	}
}

func TestImportStoresKeyCertificateAndChainUnderTheLabelAndRemoveTakesKeyAndCertificate(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	db := DB{Dir: t.TempDir()}
	if err := db.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	p := newPKI(t, "user1+1376")
	if err := db.ImportPKCS12(ctx, p.pfx, "one-time"); err != nil {
		t.Fatal(err)
	}
	entries, err := db.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(entries, Entry{Nickname: "user1+1376", Trust: "u,u,u"}) {
		t.Fatalf("identity not listed with its key (u,u,u): %v", entries)
	}
	certs, err := db.Certificates(ctx, "user1+1376")
	if err != nil || len(certs) != 1 || !certs[0].Equal(p.leaf) {
		t.Fatalf("certificates under the label: %v, %v", certs, err)
	}
	if err := db.AddCA(ctx, p.ca.Subject.CommonName, p.ca, false); err != nil {
		t.Fatal(err)
	}
	if entries, _ := db.List(ctx); !slices.Contains(entries, Entry{Nickname: p.ca.Subject.CommonName, Trust: ",,"}) {
		t.Fatalf("the CA is there but not trusted: %v", entries)
	}
	if err := db.AddCA(ctx, p.ca.Subject.CommonName, p.ca, true); err != nil {
		t.Fatal(err)
	}
	if entries, _ := db.List(ctx); !slices.Contains(entries, Entry{Nickname: p.ca.Subject.CommonName, Trust: "C,,"}) {
		t.Fatalf("trusted for TLS servers once agreed: %v", entries)
	}

	if err := db.Remove(ctx, "user1+1376"); err != nil {
		t.Fatal(err)
	}
	if certs, _ := db.Certificates(ctx, "user1+1376"); len(certs) != 0 {
		t.Fatalf("still there after Remove: %v", certs)
	}
	out, _ := exec.Command("certutil", "-K", "-d", "sql:"+db.Dir, "-f", os.DevNull).CombinedOutput()
	if !strings.Contains(string(out), "no keys found") {
		t.Fatalf("the key stayed behind:\n%s", out)
	}
	if err := db.Remove(ctx, "user1+1376"); err != nil {
		t.Fatalf("removing what is gone: %v", err)
	}
}

func TestADatabaseWithAPrimaryPasswordIsLockedNotDamaged(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("primary-secret\n"), 0o600)
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+dir, "-f", pw).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	db := DB{Dir: dir}
	p := newPKI(t, "user1+1376")
	err := db.ImportPKCS12(context.Background(), p.pfx, "one-time")
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("import into a locked database: %v, want ErrLocked", err)
	}
	if err := db.Ensure(context.Background()); !errors.Is(err, ErrLocked) {
		t.Fatalf("Ensure on a locked database: %v, want ErrLocked", err)
	}
}

func TestMissingToolsAreNamed(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := DB{Dir: t.TempDir()}.Ensure(context.Background())
	if !errors.Is(err, ErrToolsMissing) {
		t.Fatalf("without certutil: %v, want ErrToolsMissing", err)
	}
}
