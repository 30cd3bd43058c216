package certstore

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

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

// twoItems returns two identities issued by one CA: an ECDSA and an RSA key.
func twoItems(t *testing.T) (*testCA, []pfxItem) {
	t.Helper()
	ca := newTestCA(t, "Inkan Test CA")
	var items []pfxItem
	for _, alg := range []Algorithm{ECDSAP256, RSA2048} {
		key, err := generateSoftwareKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		loginID := newLoginID(t)
		items = append(items, pfxItem{Key: key, Chain: ca.issue(t, key.Public(), loginID), FriendlyName: loginID + "+1376"})
	}
	return ca, items
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEncodedPFXOpensInOpenSSL(t *testing.T) {
	requireOpenSSL(t)
	for _, tc := range []struct {
		enc        PKCS12Encoding
		extra      []string
		algorithms []string // what openssl -info must report
	}{
		{PKCS12Modern, nil, []string{"PBES2, PBKDF2, AES-256-CBC, Iteration 100000, PRF hmacWithSHA256", "MAC: sha256"}},
		{PKCS12Legacy, []string{"-legacy"}, []string{"pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048", "MAC: sha1"}},
	} {
		t.Run(string(tc.enc), func(t *testing.T) {
			ca, items := twoItems(t)
			pfx, err := encodePFX(items, "バックアップ pass", tc.enc)
			if err != nil {
				t.Fatalf("encodePFX: %v", err)
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
				if !keys[i].Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(item.Chain[0].PublicKey) {
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

func TestDecodePFXReadsOpenSSLExports(t *testing.T) {
	requireOpenSSL(t)
	ca := newTestCA(t, "Inkan Test CA")
	key, err := generateSoftwareKey(ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	chain := ca.issue(t, key.Public(), "user01")
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := writeTemp(t, "key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	certFile := writeTemp(t, "cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[0].Raw}))
	caFile := writeTemp(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}))

	for _, legacy := range []bool{false, true} {
		name := "modern"
		args := []string{"pkcs12", "-export", "-inkey", keyFile, "-in", certFile, "-certfile", caFile, "-name", "user01+1376", "-passout", "pass:secret"}
		if legacy {
			name = "legacy"
			args = append(args, "-legacy")
		}
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "openssl.p12")
			runOpenSSL(t, append(args, "-out", file)...)
			pfx, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}

			items, err := decodePFX(pfx, "secret")
			if err != nil {
				t.Fatalf("decodePFX: %v", err)
			}
			if len(items) != 1 {
				t.Fatalf("%d identities, want 1", len(items))
			}
			got := items[0]
			if got.FriendlyName != "user01+1376" || len(got.Chain) != 2 || !got.Chain[0].Equal(chain[0]) || !got.Chain[1].Equal(ca.cert) {
				t.Errorf("decoded %q with %d certificates, want user01+1376, leaf and CA", got.FriendlyName, len(got.Chain))
			}
			if _, err := decodePFX(pfx, "wrong"); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("decodePFX with a wrong password: %v, want ErrWrongPassword", err)
			}

			s := newMemoryStore()
			res, err := s.Import(context.Background(), pfx, "secret", ImportOptions{})
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if len(res.Added) != 1 || res.Added[0].Label != "user01+1376" {
				t.Fatalf("Import added %d identities, want user01+1376", len(res.Added))
			}
			checkSigns(t, res.Added[0].Signer, chain[0].PublicKey)
		})
	}
}

func TestDecodePFXMatchesKeysToCertificates(t *testing.T) {
	ca, items := twoItems(t)
	pfx, err := encodePFX(items, "secret", PKCS12Modern)
	if err != nil {
		t.Fatalf("encodePFX: %v", err)
	}
	got, err := decodePFX(pfx, "secret")
	if err != nil {
		t.Fatalf("decodePFX: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("%d identities, want 2", len(got))
	}
	for i := range items {
		if got[i].FriendlyName != items[i].FriendlyName || !got[i].Chain[0].Equal(items[i].Chain[0]) || len(got[i].Chain) != 2 || !got[i].Chain[1].Equal(ca.cert) {
			t.Errorf("identity %d decoded as %q, want %q with its CA", i, got[i].FriendlyName, items[i].FriendlyName)
		}
		if err := checkKeyMatches(got[i].Key, got[i].Chain[0]); err != nil {
			t.Errorf("identity %d: %v", i, err)
		}
	}

	// Without localKeyIds (some tools write none) the public key decides.
	certs := []*x509.Certificate{ca.cert, items[1].Chain[0], items[0].Chain[0]}
	for i, item := range items {
		key := item.Key.(crypto.Signer)
		if leaf := matchLeaf(key, "", certs, nil); leaf == nil || !leaf.Equal(item.Chain[0]) {
			t.Errorf("identity %d: matched by public key to the wrong certificate", i)
		}
	}
}

func TestEncodePFXRefusesBadInput(t *testing.T) {
	_, items := twoItems(t)
	for name, tc := range map[string]struct {
		items    []pfxItem
		password string
		enc      PKCS12Encoding
		want     error
	}{
		"no password":      {items, "", PKCS12Modern, nil},
		"no identity":      {nil, "secret", PKCS12Modern, nil},
		"unknown encoding": {items, "secret", "rc4", nil},
		"mismatched key":   {[]pfxItem{{Key: items[0].Key, Chain: items[1].Chain}}, "secret", PKCS12Modern, ErrKeyMismatch},
	} {
		_, err := encodePFX(tc.items, tc.password, tc.enc)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: encodePFX answered %v", name, err)
		}
	}
}
