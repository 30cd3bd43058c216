package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/wire"
)

// run runs the CLI in-process with stdin and returns stdout, failing on error.
func run(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := runErr(t, stdin, args...)
	if err != nil {
		t.Fatalf("inkan-server %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func runErr(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRoot(strings.NewReader(stdin), &out, &errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// testPassphrase encrypts the CA keys of every data directory these tests make.
const testPassphrase = "correct horse battery staple"

func TestMain(m *testing.M) {
	os.Setenv(passphraseEnv, testPassphrase)
	os.Exit(m.Run())
}

func TestOperatorCLIManagesContractsUsersAndCertificates(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bank")
	run(t, "", "init", "--demo", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin", "--host", "bank.example.jp")
	if _, err := runErr(t, "", "init", "--demo", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin"); err == nil ||
		!strings.Contains(err.Error(), "already holds a CA") {
		t.Fatalf("second init: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "root-ca.key")); !os.IsNotExist(err) {
		t.Fatalf("init left the root key in the data directory: %v", err)
	}
	for _, key := range []string{"offline/root-ca.key", "issuing-ca.key", "tls.pem"} {
		st, err := os.Stat(filepath.Join(data, key))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want mode 0600", key, st.Mode(), err)
		}
	}

	var contract struct{ ID string }
	if err := json.Unmarshal([]byte(run(t, "", "contract", "add", "Yamada Trading", "--data", data, "--json")), &contract); err != nil {
		t.Fatal(err)
	}
	run(t, "password-1\n", "user", "add", "boss", "--data", data, "--contract", contract.ID, "--role", "admin", "--email", "boss@example.jp", "--password-stdin")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("password-2\n"), 0o600)
	run(t, "", "user", "add", "clerk", "--data", data, "--contract", contract.ID, "--role", "general", "--password-file", pwFile)
	if _, err := runErr(t, "", "user", "add", "nopw", "--data", data, "--contract", contract.ID, "--role", "general"); err == nil {
		t.Fatal("user add without a password source succeeded")
	}

	if _, err := runErr(t, "password-4\n", "user", "add", "bad", "--data", data, "--contract", contract.ID, "--role", "general",
		"--email", "Boss <boss@example.jp>", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "bare e-mail address") {
		t.Fatalf("user add with a display name in --email: %v", err)
	}
	run(t, "", "cert", "issue", "boss", "--data", data)
	var users []wire.User
	if err := json.Unmarshal([]byte(run(t, "", "user", "list", "--data", data, "--contract", contract.ID, "--json")), &users); err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].LoginID != "boss" || users[0].Certificate.State != wire.CertAwaitingPickup || users[0].Email != "boss@example.jp" {
		t.Fatalf("user list: %+v", users)
	}
	if out := run(t, "", "cert", "revoke", "boss", "--data", data); !strings.Contains(out, "revoked") {
		t.Fatalf("revoke printed %q", out)
	}
	run(t, "", "cert", "reissue", "boss", "--data", data)
	if out := run(t, "", "cert", "list", "--data", data, "--login-id", "boss"); strings.Count(out, "boss") != 2 {
		t.Fatalf("cert list:\n%s", out)
	}
	run(t, "", "user", "unlock", "clerk", "--data", data)
	run(t, "password-3\n", "user", "set-password", "clerk", "--data", data, "--password-stdin")
	run(t, "", "user", "delete", "clerk", "--data", data)
	if out := run(t, "", "contract", "list", "--data", data); !strings.Contains(out, "Yamada Trading") {
		t.Fatalf("contract list:\n%s", out)
	}
}

func TestDemoAndAgentConfig(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bank")
	run(t, "", "init", "--demo", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin", "--login-id-pattern", "demo-[a-z0-9]+")
	var demo struct {
		ContractID string     `json:"contract_id"`
		Users      []demoUser `json:"users"`
	}
	if err := json.Unmarshal([]byte(run(t, "", "demo", "--data", data, "--json")), &demo); err != nil {
		t.Fatal(err)
	}
	roles := map[wire.Role]int{}
	for _, u := range demo.Users {
		roles[u.Role]++
		if len(u.Password) < 8 {
			t.Fatalf("demo password for %s is %q", u.LoginID, u.Password)
		}
	}
	if roles[wire.RoleAdmin] != 1 || roles[wire.RoleApprover] != 1 || roles[wire.RoleGeneral] != 2 {
		t.Fatalf("demo roles %v", roles)
	}
	out := filepath.Join(t.TempDir(), "bank.json")
	run(t, "", "agent-config", "--data", data, "--url", "https://127.0.0.1:8443", "--out", out)
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var bc wire.BankConfig
	if err := json.Unmarshal(raw, &bc); err != nil {
		t.Fatal(err)
	}
	if bc.ServerURL != "https://127.0.0.1:8443" || bc.BankCode != "1376" || !strings.Contains(bc.CACertPEM, "BEGIN CERTIFICATE") ||
		len(bc.CAFingerprint) != 64 || bc.RenewBeforeDays != 30 || bc.RenewAfterDays != 90 || bc.LoginIDPattern != "demo-[a-z0-9]+" {
		t.Fatalf("agent config %+v", bc)
	}
}

func TestServeRefusesInvalidConfigNamingTheField(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bank")
	run(t, "", "init", "--demo", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin")
	path := filepath.Join(data, "config.json")
	raw, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(raw, []byte(`"pickup_window_days": 80`), []byte(`"pickup_window_days": 0`), 1), 0o600)
	_, err := runErr(t, "", "serve", "--data", data, "--addr", "127.0.0.1:0")
	if err == nil || !strings.Contains(err.Error(), "pickup_window_days") {
		t.Fatalf("serve with pickup_window_days 0: %v", err)
	}
}

func TestTLSRenewNeedsTheRootKeyAndServeDoesNot(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bank")
	run(t, "", "init", "--demo", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin")
	offline := filepath.Join(t.TempDir(), "usb-root-ca.key")
	if err := os.Rename(filepath.Join(data, "offline", "root-ca.key"), offline); err != nil {
		t.Fatal(err)
	}
	if _, err := runErr(t, "", "tls", "renew", "--data", data); err == nil {
		t.Fatal("tls renew without the root key succeeded")
	}
	before, _ := os.ReadFile(filepath.Join(data, "tls.pem"))
	var renewed struct{ Names []string }
	out := run(t, "", "tls", "renew", "--data", data, "--root-key", offline, "--host", "bank.example.jp", "--json")
	if err := json.Unmarshal([]byte(out), &renewed); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(data, "tls.pem"))
	if bytes.Equal(before, after) || !strings.Contains(strings.Join(renewed.Names, " "), "bank.example.jp") {
		t.Fatalf("tls renew printed %s and left tls.pem unchanged: %v", out, bytes.Equal(before, after))
	}
	// Every operator command, serve's Open included, works without the root key.
	run(t, "", "contract", "add", "Yamada Trading", "--data", data)
}
