package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/wire"
)

// withLoginIDPattern rewrites the bank configuration file at path with pattern
// as the form of the bank's login IDs.
func withLoginIDPattern(t *testing.T, path, pattern string) {
	t.Helper()
	var cfg wire.BankConfig
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.LoginIDPattern = pattern
	if data, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// With two banks and no --bank, pickup and ID・パスワード方式 go to the one bank
// whose form of login ID fits; an ID of neither form is refused before any
// password is asked for or sent, and so is an ID of another form than the
// bank named with --bank.
func TestPickupInfersTheBankFromTheLoginID(t *testing.T) {
	p, _ := startBankWithAdminAs(t, "1376", "インカン信用金庫")
	other, _ := startBankWithAdminAs(t, "2005", "さくら信用金庫")
	withLoginIDPattern(t, p.config, "[a-z]+")
	withLoginIDPattern(t, other.config, "[0-9]{10}")
	p.ok("", "bank", "add", other.config)

	p.ok("kanri-Pass-2026\n", "login", "--login-id", "kanri", "--password-stdin") // before the pickup, the contract allows it
	if out := p.ok("kanri-Pass-2026\n", "pickup", "--login-id", "kanri", "--password-stdin"); !strings.Contains(out, "kanri+1376") {
		t.Fatalf("pickup of kanri without --bank:\n%s", out)
	}
	code, _, errOut := p.run("", "pickup", "--login-id", "KANRI-1", "--password-stdin")
	if code != exitUsage || !strings.Contains(errOut, "form") || !strings.Contains(errOut, "--bank") {
		t.Fatalf("an ID of no bank's form: exit %d, %s", code, errOut)
	}
	// Naming a bank whose form the ID does not have is refused before the password goes out.
	code, _, errOut = p.run("kanri-Pass-2026\n", "--bank", "2005", "pickup", "--login-id", "kanri", "--password-stdin")
	if code == exitOK || !strings.Contains(errOut, "The password was not sent") {
		t.Fatalf("pickup of kanri at 2005, whose IDs are ten digits: exit %d, %s", code, errOut)
	}
	if out := p.ok("", "list"); strings.Contains(out, "+2005") {
		t.Fatalf("list after the refused pickup:\n%s", out)
	}
}
