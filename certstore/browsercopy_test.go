package certstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"
)

func TestANonExportableKeyIsCopiedForTheBrowserButNotBackedUp(t *testing.T) {
	ctx := context.Background()
	s, err := Open("memory")
	if err != nil {
		t.Fatal(err)
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, NotBefore: now, NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	key, err := s.GenerateKey(ctx, KeyOptions{Algorithm: ECDSAP256, Exportable: false})
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "ippan01"}, NotBefore: now, NotAfter: now.Add(time.Hour)}
	leafDER, _ := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Signer().Public(), caKey)
	leaf, _ := x509.ParseCertificate(leafDER)
	id, err := key.Attach(ctx, []*x509.Certificate{leaf, ca}, "ippan01+1376")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Export(ctx, []Fingerprint{id.Fingerprint}, "pw", ExportOptions{}); !errors.Is(err, ErrKeyNotExportable) {
		t.Fatalf("backup of a non-exportable key: %v, want ErrKeyNotExportable", err)
	}
	pfx, err := s.(BrowserCopier).CopyForBrowser(ctx, id.Fingerprint, "pw")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := Open("memory")
	res, err := other.Import(ctx, pfx, "pw", ImportOptions{})
	if err != nil || len(res.Added) != 1 || res.Added[0].Label != "ippan01+1376" || !res.Added[0].Certificate.Equal(leaf) {
		t.Fatalf("the browser copy does not read back: %+v, %v", res, err)
	}
}
