package certstore

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func runOpenSSL(t *testing.T, args ...string) {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	if out, err := exec.Command(path, args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
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

// TestImportReadsWhatOpenSSLWrites imports files openssl wrote, with the
// attributes and schemes Windows and old tools use, into a store.
func TestImportReadsWhatOpenSSLWrites(t *testing.T) {
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

	for name, extra := range map[string][]string{
		"modern":         {"-certfile", caFile},
		"legacy":         {"-certfile", caFile, "-legacy"},
		"windows -LMK":   {"-certfile", caFile, "-LMK", "-CSP", "Microsoft Software Key Storage Provider"},
		"without the CA": nil,
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "openssl.p12")
			runOpenSSL(t, append([]string{"pkcs12", "-export", "-inkey", keyFile, "-in", certFile, "-name", "user01+1376", "-passout", "pass:secret", "-out", file}, extra...)...)
			pfx, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s := newMemoryStore()
			if _, err := s.Import(context.Background(), pfx, "wrong", ImportOptions{}); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("Import with a wrong password: %v, want ErrWrongPassword", err)
			}
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

// TestImportLabelsAndCompletesChains: a file exported without the CA, whose
// friendlyName is not the label, is stored with the CA the caller knows and the
// label the caller gives.
func TestImportLabelsAndCompletesChains(t *testing.T) {
	ca := newTestCA(t, "Inkan Test CA")
	key, err := generateSoftwareKey(ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	chain := ca.issue(t, key.Public(), "user01")
	pfx, err := encodePFX([]pfxItem{{Key: key, Chain: chain[:1], FriendlyName: "Windows で書き出した証明書"}}, "secret", PKCS12Modern)
	if err != nil {
		t.Fatal(err)
	}
	s := newMemoryStore()
	res, err := s.Import(context.Background(), pfx, "secret", ImportOptions{
		CACerts: []*x509.Certificate{ca.cert},
		Label:   func(leaf *x509.Certificate) string { return leaf.Subject.CommonName + "+1376" },
	})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if len(res.Added) != 1 {
		t.Fatalf("Import added %d identities, want 1", len(res.Added))
	}
	got := res.Added[0]
	if got.Label != "user01+1376" || len(got.Chain) != 1 || !got.Chain[0].Equal(ca.cert) {
		t.Errorf("imported %q with %d CA certificates, want user01+1376 with its CA", got.Label, len(got.Chain))
	}
}
