package certstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"

	ss "github.com/zalando/go-keyring/secret_service"
)

// TestKeyringItemIsLabelledForTheBankAndTheID reads the item back from the real
// Secret Service: a person in Seahorse sees what it is, not a fingerprint.
func TestKeyringItemIsLabelledForTheBankAndTheID(t *testing.T) {
	requireSecretService(t)
	s := openTestKeyring(t)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "いんかん信用金庫 Inkan Issuing CA 1376", Organization: []string{"いんかん信用金庫"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: caCert, key: caKey}
	id := enroll(t, s, ca, DefaultKeyOptions(), "demo-general1")

	svc, err := ss.NewSecretService()
	if err != nil {
		t.Fatal(err)
	}
	items, err := svc.SearchItems(svc.GetLoginCollection(), map[string]string{"username": string(id.Fingerprint)})
	if err != nil || len(items) != 1 {
		t.Fatalf("the keyring holds %d items for the certificate (%v), want 1", len(items), err)
	}
	obj := svc.Object("org.freedesktop.secrets", items[0])
	label, err := obj.GetProperty("org.freedesktop.Secret.Item.Label")
	if err != nil {
		t.Fatal(err)
	}
	want := "Inkan 電子証明書の秘密鍵 " + id.Label + " (いんかん信用金庫)"
	if got, _ := label.Value().(string); got != want {
		t.Errorf("item label %q, want %q", got, want)
	}
	v, err := obj.GetProperty("org.freedesktop.Secret.Item.Attributes")
	if err != nil {
		t.Fatal(err)
	}
	attrs, _ := v.Value().(map[string]string)
	for k, want := range map[string]string{"application": "inkan", "inkan-label": id.Label, "inkan-bank": "いんかん信用金庫",
		"inkan-holder": "demo-general1", "inkan-kind": "client certificate private key (PKCS#8)"} {
		if attrs[k] != want {
			t.Errorf("attribute %s = %q, want %q", k, attrs[k], want)
		}
	}
}
