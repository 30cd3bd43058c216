package server

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/wire"
)

// TestOrdinaryESTClientPicksUpAndRenews uses curl and openssl, as any EST
// client would, to pick up and then renew a certificate.
func TestOrdinaryESTClientPicksUpAndRenews(t *testing.T) {
	for _, tool := range []string{"curl", "openssl", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed for this test (scripts/install-deps.sh installs it): %v", tool, err)
		}
	}
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	work := t.TempDir()
	rootPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.ca.Root.Raw})
	if err := os.WriteFile(filepath.Join(work, "root.pem"), rootPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	sh := func(script string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "URL="+e.url)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s\n%v\n%s", script, err, stderr.String())
		}
		return string(out)
	}
	newCSR := `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %[1]s.key -subj /CN=anything -outform DER -out %[1]s.der 2>/dev/null
base64 %[1]s.der > %[1]s.b64`
	readCert := func(name string) *x509.Certificate {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(work, name))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(data)
		if block == nil {
			t.Fatalf("%s holds no PEM certificate: %q", name, data)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}

	sh(strings.ReplaceAll(newCSR, "%[1]s", "first") + `
curl -sS --fail --cacert root.pem -u admin1:pass-admin1 -H 'Content-Type: application/pkcs10' \
  --data-binary @first.b64 "$URL/.well-known/est/simpleenroll" -o first.p7.b64
base64 -d first.p7.b64 | openssl pkcs7 -inform DER -print_certs -out first.pem`)
	first := readCert("first.pem")
	if s, err := wire.SubjectOf(first); err != nil || s.LoginID != "admin1" {
		t.Fatalf("picked-up subject %+v, %v", s, err)
	}

	e.clock.Set(first.NotAfter.AddDate(0, 0, -10))
	sh(strings.ReplaceAll(newCSR, "%[1]s", "second") + `
curl -sS --fail --cacert root.pem --cert first.pem --key first.key -H 'Content-Type: application/pkcs10' \
  --data-binary @second.b64 "$URL/.well-known/est/simplereenroll" -o second.p7.b64
base64 -d second.p7.b64 | openssl pkcs7 -inform DER -print_certs -out second.pem`)
	second := readCert("second.pem")
	if second.SerialNumber.Cmp(first.SerialNumber) == 0 || !second.NotAfter.After(first.NotAfter) {
		t.Fatal("renewal did not give a new certificate")
	}

	// A refusal is readable text, with the code in the header.
	out := sh(`curl -sS -i --cacert root.pem -u admin1:wrong-password -H 'Content-Type: application/pkcs10' \
  --data-binary @second.b64 "$URL/.well-known/est/simpleenroll"`)
	if !strings.Contains(out, "401") || !strings.Contains(strings.ToLower(out), strings.ToLower(wire.CodeHeader)+": invalid_credentials") {
		t.Fatalf("refusal as curl sees it:\n%s", out)
	}
}
