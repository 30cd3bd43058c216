package pkcs12

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// seedPassword is the password of every file under testdata/openssl.
const seedPassword = "inkan-test"

// requireOpenSSL returns the path of the openssl binary, skipping without it.
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	return path
}

func runOpenSSL(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(requireOpenSSL(t), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Inkan Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
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

func (ca *testCA) issue(t *testing.T, pub crypto.PublicKey, cn string) []*x509.Certificate {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
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

// twoItems returns two identities issued by one CA: an ECDSA and an RSA key.
func twoItems(t *testing.T) (*testCA, []Item) {
	t.Helper()
	ca := newTestCA(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return ca, []Item{
		{Key: ec, Chain: ca.issue(t, ec.Public(), "user01"), FriendlyName: "user01+1376"},
		{Key: r, Chain: ca.issue(t, r.Public(), "user02"), FriendlyName: "user02+1376"},
	}
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "openssl", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func seedCA(t *testing.T) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(readSeed(t, "ca.pem"))
	if b == nil {
		t.Fatal("testdata/openssl/ca.pem holds no PEM block")
	}
	ca, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestEncodedFileOpensInOpenSSL(t *testing.T) {
	requireOpenSSL(t)
	for name, tc := range map[string]struct {
		enc        Encoding
		extra      []string
		algorithms []string // what openssl -info must report
	}{
		"modern": {Modern, nil, []string{"PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256", "MAC: sha256"}},
		"legacy": {Legacy, []string{"-legacy"}, []string{"pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048", "MAC: sha1"}},
	} {
		t.Run(name, func(t *testing.T) {
			ca, items := twoItems(t)
			pfx, err := Encode(items, "バックアップ pass", tc.enc)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			file := writeTemp(t, "backup.p12", pfx)

			info := runOpenSSL(t, append([]string{"pkcs12", "-info", "-noout", "-in", file, "-passin", "pass:バックアップ pass"}, tc.extra...)...)
			for _, want := range tc.algorithms {
				if !strings.Contains(info, want) {
					t.Errorf("openssl -info does not report %q:\n%s", want, info)
				}
			}

			out := runOpenSSL(t, append([]string{"pkcs12", "-in", file, "-passin", "pass:バックアップ pass", "-nodes"}, tc.extra...)...)
			var keys []crypto.Signer
			var certs []*x509.Certificate
			for rest := []byte(out); ; {
				var b *pem.Block
				if b, rest = pem.Decode(rest); b == nil {
					break
				}
				switch b.Type {
				case "PRIVATE KEY":
					k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
					if err != nil {
						t.Fatal(err)
					}
					keys = append(keys, k.(crypto.Signer))
				case "CERTIFICATE":
					c, err := x509.ParseCertificate(b.Bytes)
					if err != nil {
						t.Fatal(err)
					}
					certs = append(certs, c)
				}
			}
			if len(keys) != 2 || len(certs) != 3 {
				t.Fatalf("openssl read %d keys and %d certificates, want 2 and 3 (the CA once)", len(keys), len(certs))
			}
			for i, item := range items {
				if CheckKeyMatches(keys[i], item.Chain[0]) != nil {
					t.Errorf("key %d is not identity %d's", i, i)
				}
				if !strings.Contains(out, "friendlyName: "+item.FriendlyName) {
					t.Errorf("openssl does not show the friendly name %q", item.FriendlyName)
				}
			}
			if n := strings.Count(out, "friendlyName: "); n != 4 {
				t.Errorf("%d friendly names, want one per key and leaf", n)
			}
			if !slices.ContainsFunc(certs, ca.cert.Equal) {
				t.Error("the CA certificate is not in the file")
			}
		})
	}
}

// TestDecodeReadsWhatOpenSSLWrites reads each file testdata/make-seeds.sh had
// openssl write: AES-256/PBKDF2, 3DES, RC2-40 (-legacy), with and without the
// CA, with Windows' key-set and CSP attributes (-LMK, -CSP), without a MAC.
func TestDecodeReadsWhatOpenSSLWrites(t *testing.T) {
	ca := seedCA(t)
	for _, tc := range []struct {
		file      string
		name      string
		withChain bool
	}{
		{"modern.p12", "demo-general1+1376", true},
		{"modern-nochain.p12", "demo-general1+1376", false},
		{"modern-rsa.p12", "demo-admin1+1376", true},
		{"other-name.p12", "Windows で書き出した証明書", true},
		{"legacy-3des.p12", "demo-general1+1376", true},
		{"legacy-rc2.p12", "demo-general1+1376", true},
		{"lmk.p12", "demo-general1+1376", true},
		{"lmk-legacy.p12", "demo-general1+1376", true},
		{"nomac-plain.p12", "demo-general1+1376", true},
		{"nomac-aes.p12", "demo-general1+1376", true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := readSeed(t, tc.file)
			items, err := Decode(data, seedPassword)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(items) != 1 {
				t.Fatalf("%d identities, want 1", len(items))
			}
			got := items[0]
			if got.FriendlyName != tc.name {
				t.Errorf("friendly name %q, want %q", got.FriendlyName, tc.name)
			}
			if err := CheckKeyMatches(got.Key, got.Chain[0]); err != nil {
				t.Error(err)
			}
			if err := got.Chain[0].CheckSignatureFrom(ca); err != nil {
				t.Errorf("the leaf is not the seed CA's: %v", err)
			}
			wantLen := 1
			if tc.withChain {
				wantLen = 2
			}
			if len(got.Chain) != wantLen || (tc.withChain && !got.Chain[1].Equal(ca)) {
				t.Errorf("chain of %d certificates, want %d ending in the seed CA", len(got.Chain), wantLen)
			}

			// A file with neither MAC nor encryption has no password to be wrong.
			if _, err := Decode(data, "wrong password"); tc.file != "nomac-plain.p12" && !errors.Is(err, ErrWrongPassword) {
				t.Errorf("Decode with a wrong password: %v, want ErrWrongPassword", err)
			}
			if _, err := Decode(data[:len(data)/2], seedPassword); !errors.Is(err, ErrDamaged) {
				t.Errorf("Decode of half the file: %v, want ErrDamaged", err)
			}
		})
	}
}

// TestDecodeIgnoresJavaTrustedCertificateAttribute: Java's keytool marks trusted
// CA certificates with 2.16.840.1.113894.746875.1.1 (openssl 3.2's -jdktrust);
// this machine's openssl 3.0 cannot write it, so the file is built here with
// the attribute where Java puts it, on the CA's certificate bag.
func TestDecodeIgnoresJavaTrustedCertificateAttribute(t *testing.T) {
	ca, items := twoItems(t)
	item := items[0]
	anyEKU, err := asn1.Marshal(asn1.ObjectIdentifier{2, 5, 29, 37, 0})
	if err != nil {
		t.Fatal(err)
	}
	javaTrusted := attributeWith(asn1.ObjectIdentifier{2, 16, 840, 1, 113894, 746875, 1, 1}, anyEKU)
	windowsKeySet := pkcs12Attribute{ID: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 17, 2}, Values: setOf()}
	pfx := buildPFX(t, item, []pkcs12Attribute{javaTrusted}, []pkcs12Attribute{windowsKeySet})

	got, err := Decode(pfx, "secret")
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(got) != 1 || len(got[0].Chain) != 2 || !got[0].Chain[1].Equal(ca.cert) || got[0].FriendlyName != item.FriendlyName {
		t.Fatalf("decoded %+v, want %s with its CA", got, item.FriendlyName)
	}
}

func attributeWith(id asn1.ObjectIdentifier, values ...[]byte) pkcs12Attribute {
	return pkcs12Attribute{ID: id, Values: setOf(values...)}
}

// buildPFX writes item the way Encode does, with extra attributes on the CA's
// certificate bag and on the key bag.
func buildPFX(t *testing.T, item Item, caAttrs, keyAttrs []pkcs12Attribute) []byte {
	t.Helper()
	const password = "secret"
	attrs, err := bagAttributes([]byte{1, 2, 3, 4}, item.FriendlyName)
	if err != nil {
		t.Fatal(err)
	}
	leafBag, err := makeCertBag(item.Chain[0].Raw, attrs)
	if err != nil {
		t.Fatal(err)
	}
	caBag, err := makeCertBag(item.Chain[1].Raw, caAttrs)
	if err != nil {
		t.Fatal(err)
	}
	keyBag, err := makeShroudedKeyBag(item.Key, password, Modern, append(attrs, keyAttrs...))
	if err != nil {
		t.Fatal(err)
	}
	certSafe, err := asn1.Marshal([]safeBag{leafBag, caBag})
	if err != nil {
		t.Fatal(err)
	}
	keySafe, err := asn1.Marshal([]safeBag{keyBag})
	if err != nil {
		t.Fatal(err)
	}
	var cis []contentInfo
	for _, safe := range [][]byte{certSafe, keySafe} {
		data, err := asn1.Marshal(safe)
		if err != nil {
			t.Fatal(err)
		}
		cis = append(cis, contentInfo{ContentType: oidDataContentType, Content: explicit0(data)})
	}
	authSafe, err := asn1.Marshal(cis)
	if err != nil {
		t.Fatal(err)
	}
	mac, err := computeMAC(authSafe, password, Modern)
	if err != nil {
		t.Fatal(err)
	}
	authSafeData, err := asn1.Marshal(authSafe)
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := asn1.Marshal(pfxPDU{Version: 3, AuthSafe: contentInfo{ContentType: oidDataContentType, Content: explicit0(authSafeData)}, MacData: mac})
	if err != nil {
		t.Fatal(err)
	}
	return pfx
}

func TestDecodeMatchesKeysToCertificates(t *testing.T) {
	ca, items := twoItems(t)
	for _, enc := range []Encoding{Modern, Legacy} {
		pfx, err := Encode(items, "secret", enc)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		got, err := Decode(pfx, "secret")
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if len(got) != 2 {
			t.Fatalf("%d identities, want 2", len(got))
		}
		for i := range items {
			if got[i].FriendlyName != items[i].FriendlyName || !got[i].Chain[0].Equal(items[i].Chain[0]) || len(got[i].Chain) != 2 || !got[i].Chain[1].Equal(ca.cert) {
				t.Errorf("identity %d decoded as %q, want %q with its CA", i, got[i].FriendlyName, items[i].FriendlyName)
			}
			if err := CheckKeyMatches(got[i].Key, got[i].Chain[0]); err != nil {
				t.Errorf("identity %d: %v", i, err)
			}
		}
		if _, err := Decode(pfx, "Secret"); !errors.Is(err, ErrWrongPassword) {
			t.Errorf("Decode with a wrong password: %v, want ErrWrongPassword", err)
		}
	}
}

func TestDecodeRefusesAKeyWithoutItsCertificate(t *testing.T) {
	_, items := twoItems(t)
	// The first identity's key with the second one's certificate.
	pfx := buildPFX(t, Item{Key: items[0].Key, Chain: items[1].Chain, FriendlyName: "x"}, nil, nil)
	if _, err := Decode(pfx, "secret"); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "has no certificate") {
		t.Errorf("Decode: %v, want ErrDamaged for a key without its certificate", err)
	}
}

func TestDecodeBoundsIterationCounts(t *testing.T) {
	if err := checkIterations(maxIterations + 1); err == nil {
		t.Error("an iteration count above the bound is accepted")
	}
	if err := checkIterations(0); err == nil {
		t.Error("an iteration count of 0 is accepted")
	}
}

func TestEncodeRefusesBadInput(t *testing.T) {
	_, items := twoItems(t)
	for name, tc := range map[string]struct {
		items    []Item
		password string
		enc      Encoding
		want     error
	}{
		"no password":      {items, "", Modern, nil},
		"no identity":      {nil, "secret", Modern, nil},
		"unknown encoding": {items, "secret", Encoding(7), nil},
		"mismatched key":   {[]Item{{Key: items[0].Key, Chain: items[1].Chain}}, "secret", Modern, ErrKeyMismatch},
	} {
		_, err := Encode(tc.items, tc.password, tc.enc)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: Encode answered %v", name, err)
		}
	}
}
