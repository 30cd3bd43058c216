package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/server/ca"
)

func TestInitRefusesToWriteALoopbackRevocationURLUnlessADemo(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--revocation-url is required"},
		{[]string{"--revocation-url", "http://127.0.0.1:8080", "--policy-oid", "1.2.392.200000.1.1"}, "loopback"},
		{[]string{"--revocation-url", "http://localhost", "--policy-oid", "1.2.392.200000.1.1"}, "loopback"},
		{[]string{"--revocation-url", "https://pki.bank.example.jp", "--policy-oid", "1.2.392.200000.1.1"}, "not an http://"},
		{[]string{"--revocation-url", "http://pki.bank.example.jp"}, "--policy-oid is required"},
	} {
		data := filepath.Join(t.TempDir(), "bank")
		args := append([]string{"init", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin"}, c.args...)
		if _, err := runErr(t, "", args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("init %v: %v, want %q", c.args, err, c.want)
		}
		if ca.Exists(data) {
			t.Fatalf("init %v refused yet wrote a CA", c.args)
		}
	}
	data := filepath.Join(t.TempDir(), "bank")
	run(t, "", "init", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin",
		"--revocation-url", "http://pki.bank.example.jp", "--policy-oid", "1.2.392.200000.1.1")
	raw, _ := os.ReadFile(filepath.Join(data, "config.json"))
	var cfg struct {
		RevocationURL string `json:"revocation_url"`
		HTTPAddr      string `json:"http_addr"`
		Policy        string `json:"certificate_policy_oid"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg.RevocationURL != "http://pki.bank.example.jp" || cfg.HTTPAddr != ":80" || cfg.Policy != "1.2.392.200000.1.1" {
		t.Fatalf("config %+v, %v", cfg, err)
	}
}

func TestServeRefusesAnUnencryptedRootKeyInsideTheDataDirectory(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bank")
	run(t, "", "init", "--demo", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin")
	for _, f := range []string{ca.RootKeyPath(data), filepath.Join(data, ca.IssuingKeyFile)} {
		if enc, err := ca.KeyIsEncrypted(f); err != nil || !enc {
			t.Fatalf("%s: encrypted %v, %v", f, enc, err)
		}
	}
	// An earlier version left the root key in clear.
	key, err := ca.ReadKey(ca.RootKeyPath(data), func() ([]byte, error) { return []byte(testPassphrase), nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.WriteKey(ca.RootKeyPath(data), key, nil); err != nil {
		t.Fatal(err)
	}
	_, err = runErr(t, "", "serve", "--data", data, "--addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "unencrypted") {
		t.Fatalf("serve with a clear root key in DATA: %v", err)
	}
	run(t, "", "ca", "encrypt-key", "--data", data, "--key", ca.RootKeyPath(data))
	if enc, err := ca.KeyIsEncrypted(ca.RootKeyPath(data)); err != nil || !enc {
		t.Fatalf("encrypt-key left %v, %v", enc, err)
	}
	// A wrong passphrase stops serve at its start.
	t.Setenv(passphraseEnv, "not the passphrase at all")
	if _, err := runErr(t, "", "serve", "--data", data, "--addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"); err == nil ||
		!strings.Contains(err.Error(), "passphrase is wrong") {
		t.Fatalf("serve with a wrong passphrase: %v", err)
	}
}

func TestRootCRLIsSignedAgainWithTheNextNumber(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bank")
	run(t, "", "init", "--demo", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin")
	first, err := ca.ReadRootCRL(data)
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Number int64 }
	if err := json.Unmarshal([]byte(run(t, "", "ca", "root-crl", "--data", data, "--days", "30", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	second, err := ca.ReadRootCRL(data)
	if err != nil || second.Number.Int64() != first.Number.Int64()+1 || out.Number != second.Number.Int64() ||
		second.NextUpdate.Sub(second.ThisUpdate) != 30*24*3600e9 {
		t.Fatalf("root CRL %v -> %v (%v), printed %d", first.Number, second.Number, err, out.Number)
	}
	if _, err := runErr(t, "", "ca", "root-crl", "--data", data, "--days", "0"); err == nil {
		t.Fatal("a root CRL valid for 0 days was signed")
	}
	if _, err := runErr(t, "", "ca", "root-crl", "--data", data, "--days", "400"); err == nil || !strings.Contains(err.Error(), "12 months") {
		t.Fatalf("a root CRL valid for 400 days: %v", err)
	}
	if crl, _ := ca.ReadRootCRL(data); crl.Number.Cmp(second.Number) != 0 {
		t.Fatal("a refused root-crl changed root.crl")
	}
}

func TestRevokeIssuerListsARetiredIssuingCAInTheRootCRL(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bank")
	run(t, "", "init", "--demo", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin")
	before, err := ca.Load(data, ca.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	old := before.Current().ID()
	if _, err := runErr(t, "", "ca", "revoke-issuer", old, "--data", data, "--reason", "key-compromise"); err == nil || !strings.Contains(err.Error(), "ca rollover") {
		t.Fatalf("revoking the current issuing CA: %v", err)
	}
	run(t, "", "ca", "rollover", "--data", data)
	for _, c := range []struct{ args []string }{
		{[]string{old}},                              // no reason
		{[]string{old, "--reason", "boredom"}},       // no such reason
		{[]string{"00ff", "--reason", "superseded"}}, // no such CA
	} {
		if _, err := runErr(t, "", append([]string{"ca", "revoke-issuer", "--data", data}, c.args...)...); err == nil {
			t.Fatalf("revoke-issuer %v was accepted", c.args)
		}
	}
	if crl, _ := ca.ReadRootCRL(data); len(crl.RevokedCertificateEntries) != 0 {
		t.Fatal("a refused revoke-issuer changed the root CRL")
	}
	out := run(t, "", "ca", "revoke-issuer", old, "--data", data, "--reason", "key-compromise")
	if !strings.Contains(out, "失効") || !strings.Contains(out, "Restart inkan-server serve") || !strings.Contains(out, "再発行") {
		t.Fatalf("revoke-issuer says:\n%s", out)
	}
	if out := run(t, "", "ca", "revoke-issuer", old, "--data", data, "--reason", "key-compromise"); !strings.Contains(out, "revoked in the root CRL already") {
		t.Fatalf("revoke-issuer again (to finish the records after a failure) says:\n%s", out)
	}
	crl, err := ca.ReadRootCRL(data)
	if err != nil || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(before.Current().Cert.SerialNumber) != 0 {
		t.Fatalf("root CRL after revoke-issuer: %v %+v", err, crl)
	}
	after, err := ca.Load(data, ca.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if iss := after.Issuer(old); iss == nil || iss.Revoked == nil {
		t.Fatalf("the revoked issuing CA %s loads as not revoked", old)
	}
}

func TestStatusWarnsOfARootCRLNearItsNextUpdate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bank")
	run(t, "", "init", "--demo", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin")
	if out, err := runErr(t, "", "status", "--data", data); err != nil || strings.Contains(out, "WARN") {
		t.Fatalf("status of a new data directory: %v\n%s", err, out)
	}
	if out := run(t, "", "upgrade", "--data", data); !strings.Contains(out, "up to date") {
		t.Fatalf("upgrade of a new data directory:\n%s", out)
	}
	run(t, "", "ca", "root-crl", "--data", data, "--days", "30")
	out, err := runErr(t, "", "status", "--data", data)
	if !errors.Is(err, errNeedsAttention) || !strings.Contains(out, "WARN ルートCRL（番号 2）はあと30日") || !strings.Contains(out, "→ inkan-server ca root-crl --data "+data) {
		t.Fatalf("status 30 days before the root CRL lapses: %v\n%s", err, out)
	}
	var h struct {
		Items []struct{ What, Level string }
	}
	out, _ = runErr(t, "", "status", "--data", data, "--json")
	if err := json.Unmarshal([]byte(out), &h); err != nil || len(h.Items) == 0 || h.Items[0].What != "root_crl" || h.Items[0].Level != "warn" {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	run(t, "", "ca", "root-crl", "--data", data)
	if _, err := runErr(t, "", "status", "--data", data); err != nil {
		t.Fatalf("status after signing the next root CRL: %v", err)
	}
}
