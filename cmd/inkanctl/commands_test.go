package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

// pc is one PC for the commands: a configuration file, a dir store and a state
// directory, so that successive runs see what earlier ones did.
type pc struct {
	t      *testing.T
	config string
	store  string
	state  string
}

// startBankWithAdmin runs the real server on a loopback port, with contract admin
// "kanri" (password kanri-Pass-2026) whose certificate is issued, and returns a PC
// configured for it.
func startBankWithAdmin(t *testing.T) (*pc, *server.Operator) {
	t.Helper()
	return startBankWithAdminAs(t, "1376", "インカン信用金庫")
}

// startBankWithAdminAs is startBankWithAdmin for the bank with this code and name.
func startBankWithAdminAs(t *testing.T, code, name string) (*pc, *server.Operator) {
	t.Helper()
	dir := t.TempDir()
	if err := server.Init(dir, server.InitConfig{BankCode: code, BankName: name, Demo: true, Hosts: []string{"127.0.0.1"},
		Argon2: &lifecycle.Argon2Params{Time: 1, Memory: 8, Threads: 1, KeyLen: 16}}); err != nil {
		t.Fatal(err)
	}
	srv, err := server.Open(dir, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	bankCfg, err := srv.BankConfig("https://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	op := srv.Operator()
	ctx := context.Background()
	contract, err := op.CreateContract(ctx, "株式会社インカン商事")
	if err != nil {
		t.Fatal(err)
	}
	if err := op.CreateUser(ctx, contract, "kanri", wire.RoleAdmin, "管理者", "", "kanri-Pass-2026"); err != nil {
		t.Fatal(err)
	}
	if err := op.IssueCertificate(ctx, "kanri"); err != nil {
		t.Fatal(err)
	}
	return newPC(t, bankCfg), op
}

func newPC(t *testing.T, cfg wire.BankConfig) *pc {
	dir := t.TempDir()
	p := &pc{t: t, config: filepath.Join(dir, "bank.json"), store: "dir:" + filepath.Join(dir, "store"), state: filepath.Join(dir, "state")}
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(p.config, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs inkanctl on this PC with stdin as the passwords.
func (p *pc) run(stdin string, args ...string) (int, string, string) {
	p.t.Helper()
	all := append([]string{"--config", p.config, "--store", p.store, "--state-dir", p.state, "--lang", "en"}, args...)
	return inkanctl(p.t, stdin, all...)
}

// ok runs a command that must succeed and returns its stdout.
func (p *pc) ok(stdin string, args ...string) string {
	p.t.Helper()
	code, out, errOut := p.run(stdin, args...)
	if code != exitOK {
		p.t.Fatalf("inkanctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestCommandsPickUpListLogInAndAdministerAgainstTheRealServer(t *testing.T) {
	p, _ := startBankWithAdmin(t)
	p.ok("kanri-Pass-2026\n", "pickup", "--login-id", "kanri", "--password-stdin")

	var ids []identityJSON
	if err := json.Unmarshal([]byte(p.ok("", "list", "--json")), &ids); err != nil || len(ids) != 1 || ids[0].Label != "kanri+1376" || ids[0].State != "valid" {
		t.Fatalf("list --json: %+v, %v", ids, err)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("kanri-Pass-2026\n"), 0o600)
	if out := p.ok("", "login", "--password-file", pwFile); !strings.Contains(out, "logged in as kanri") {
		t.Fatalf("login: %s", out)
	}

	// The admin creates a general ID with its certificate issued, which is then
	// picked up on the same PC: two certificates, so commands need --id.
	p.ok("kanri-Pass-2026\nippan-Pass-2026\n", "admin", "create-user", "ippan", "--role", "general", "--issue", "--password-stdin")
	p.ok("ippan-Pass-2026\n", "pickup", "--login-id", "ippan", "--password-stdin")
	if code, _, errOut := p.run("kanri-Pass-2026\n", "login", "--password-stdin"); code != exitUsage || !strings.Contains(errOut, "ippan+1376") {
		t.Fatalf("login without --id among two: exit %d, %s", code, errOut)
	}
	var users []wire.User
	if err := json.Unmarshal([]byte(p.ok("kanri-Pass-2026\n", "admin", "--id", "kanri+1376", "users", "--json", "--password-stdin")), &users); err != nil || len(users) != 2 {
		t.Fatalf("admin users: %+v, %v", users, err)
	}
	p.ok("kanri-Pass-2026\n", "admin", "--id", "kanri+1376", "revoke", "ippan", "--password-stdin")
	code, out, errOut := p.run("ippan-Pass-2026\n", "login", "--id", "ippan+1376", "--password-stdin", "--json")
	if code != exitRefused || !strings.Contains(out, `"code": "certificate_revoked"`) || !strings.Contains(errOut, "revoked") {
		t.Fatalf("login with a revoked certificate: exit %d\n%s%s", code, out, errOut)
	}
	if out := p.ok("", "status"); !strings.Contains(out, "no certificate needs attention") {
		t.Fatalf("status: %s", out)
	}
}

func TestBackupRestoreAndDeleteThroughTheCommands(t *testing.T) {
	p, _ := startBankWithAdmin(t)
	p.ok("kanri-Pass-2026\n", "pickup", "--login-id", "kanri", "--password-stdin")
	backup := filepath.Join(t.TempDir(), "kanri.p12")
	if code, _, errOut := p.run("short\n", "backup", "--id", "kanri+1376", "--out", backup, "--password-stdin"); code != exitUsage || !strings.Contains(errOut, "12 characters") {
		t.Fatalf("backup with a short password: exit %d, %s", code, errOut)
	}
	p.ok("Kinko-Backup-2026\n", "backup", "--id", "kanri+1376", "--out", backup, "--password-stdin")

	var cfg wire.BankConfig
	data, _ := os.ReadFile(p.config)
	json.Unmarshal(data, &cfg)
	other := newPC(t, cfg)
	if code, _, _ := other.run("Wrong-Backup-2026\n", "restore", backup, "--password-stdin"); code != exitUsage {
		t.Fatalf("restore with a wrong password: exit %d, want %d (input refused, not a store failure)", code, exitUsage)
	}
	if out := other.ok("Kinko-Backup-2026\n", "restore", backup, "--password-stdin"); !strings.Contains(out, "added    kanri+1376") {
		t.Fatalf("restore: %s", out)
	}
	other.ok("kanri-Pass-2026\n", "login", "--password-stdin")
	other.ok("", "delete", "--id", "kanri+1376")
	if code, _, _ := other.run("", "delete", "--id", "kanri+1376"); code != exitStore {
		t.Fatalf("deleting twice: exit %d, want %d", code, exitStore)
	}
}

// TestLegacyBackupIs3DESAndRestores: backup --legacy writes what old Windows
// reads (openssl -info says so) and restores like any backup.
func TestLegacyBackupIs3DESAndRestores(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	p, _ := startBankWithAdmin(t)
	p.ok("kanri-Pass-2026\n", "pickup", "--login-id", "kanri", "--password-stdin")
	backup := filepath.Join(t.TempDir(), "kanri-legacy.pfx")
	p.ok("Kinko-Backup-2026\n", "backup", "--legacy", "--id", "kanri+1376", "--out", backup, "--password-stdin")
	info, err := exec.Command(openssl, "pkcs12", "-info", "-noout", "-legacy", "-in", backup, "-passin", "pass:Kinko-Backup-2026").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl reads the legacy backup: %v\n%s", err, info)
	}
	for _, want := range []string{"pbeWithSHA1And3-KeyTripleDES-CBC", "MAC: sha1"} {
		if !strings.Contains(string(info), want) {
			t.Errorf("openssl -info does not report %q:\n%s", want, info)
		}
	}
	var cfg wire.BankConfig
	data, _ := os.ReadFile(p.config)
	json.Unmarshal(data, &cfg)
	if out := newPC(t, cfg).ok("Kinko-Backup-2026\n", "restore", backup, "--password-stdin"); !strings.Contains(out, "added    kanri+1376") {
		t.Fatalf("restore of the legacy backup: %s", out)
	}
}

func TestRestoreNamesCertificatesNotFromThisBank(t *testing.T) {
	ours, _ := startBankWithAdmin(t)
	theirs, _ := startBankWithAdmin(t)
	theirs.store = ours.store // one PC's store holds both banks' certificates
	ours.ok("kanri-Pass-2026\n", "pickup", "--login-id", "kanri", "--password-stdin")
	theirs.ok("kanri-Pass-2026\n", "pickup", "--login-id", "kanri", "--password-stdin")
	store, err := certstore.Open(ours.store)
	if err != nil {
		t.Fatal(err)
	}
	all, err := store.List(t.Context(), certstore.ListOptions{})
	if err != nil || len(all) != 2 {
		t.Fatalf("the shared store holds %d certificates, %v", len(all), err)
	}
	pfx, err := store.Export(t.Context(), []certstore.Fingerprint{all[0].Fingerprint, all[1].Fingerprint}, "Kinko-Backup-2026", certstore.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "both.p12")
	if err := os.WriteFile(backup, pfx, 0o600); err != nil {
		t.Fatal(err)
	}

	var cfg wire.BankConfig
	data, _ := os.ReadFile(ours.config)
	json.Unmarshal(data, &cfg)
	out := newPC(t, cfg).ok("Kinko-Backup-2026\n", "restore", backup, "--password-stdin")
	if !strings.Contains(out, "added    kanri+1376") || !strings.Contains(out, "other    ") || !strings.Contains(out, "from no bank configured here") {
		t.Fatalf("restore of a backup with another bank's certificate: %s", out)
	}
	var res struct{ Added, Other []map[string]any }
	if err := json.Unmarshal([]byte(newPC(t, cfg).ok("Kinko-Backup-2026\n", "restore", backup, "--password-stdin", "--json")), &res); err != nil ||
		len(res.Added) != 1 || len(res.Other) != 1 {
		t.Fatalf("restore --json: %+v, %v", res, err)
	}
}

func TestAdminUnlockThroughTheCommands(t *testing.T) {
	p, _ := startBankWithAdmin(t)
	p.ok("kanri-Pass-2026\n", "pickup", "--login-id", "kanri", "--password-stdin")
	p.ok("kanri-Pass-2026\nippan-Pass-2026\n", "admin", "--id", "kanri+1376", "create-user", "ippan", "--role", "general", "--issue", "--password-stdin")
	p.ok("ippan-Pass-2026\n", "pickup", "--login-id", "ippan", "--password-stdin")
	for range 5 {
		if code, _, _ := p.run("wrong password\n", "login", "--id", "ippan+1376", "--password-stdin"); code != exitRefused {
			t.Fatalf("login with a wrong password: exit %d", code)
		}
	}
	if code, out, _ := p.run("ippan-Pass-2026\n", "login", "--id", "ippan+1376", "--password-stdin", "--json"); code != exitRefused || !strings.Contains(out, `"code": "locked"`) {
		t.Fatalf("login of a locked ID: exit %d\n%s", code, out)
	}
	if out := p.ok("kanri-Pass-2026\n", "admin", "--id", "kanri+1376", "unlock", "ippan", "--password-stdin"); !strings.Contains(out, "ippan") || strings.Contains(out, "LOCKED") {
		t.Fatalf("admin unlock ippan: %s", out)
	}
	p.ok("ippan-Pass-2026\n", "login", "--id", "ippan+1376", "--password-stdin")
	if code, _, errOut := p.run("kanri-Pass-2026\n", "admin", "--id", "kanri+1376", "unlock", "kanri", "--password-stdin"); code != exitRefused || !strings.Contains(errOut, "ask the bank") {
		t.Fatalf("admin unlocking an admin ID: exit %d, %s", code, errOut)
	}
}

func TestUnreachableServerExitsWithStatus3(t *testing.T) {
	p, _ := startBankWithAdmin(t)
	var cfg wire.BankConfig
	data, _ := os.ReadFile(p.config)
	json.Unmarshal(data, &cfg)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	cfg.ServerURL = "https://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	down := newPC(t, cfg)
	code, _, errOut := down.run("kanri-Pass-2026\n", "--timeout", "2s", "pickup", "--login-id", "kanri", "--password-stdin")
	if code != exitNetwork || !strings.Contains(errOut, "Cannot reach the bank's server") {
		t.Fatalf("pickup with the server down: exit %d, %s", code, errOut)
	}
}

// TestBankAddListRemoveAndBankFlag: a PC configured for one bank the old way
// (one bank.json) adds a second bank by URL and root fingerprint, picks up at
// both with --bank, lists both, logs in by label at the right bank, and removes
// the second bank only once told what to do with its certificate.
func TestBankAddListRemoveAndBankFlag(t *testing.T) {
	p, _ := startBankWithAdminAs(t, "1376", "インカン信用金庫")
	other, _ := startBankWithAdminAs(t, "2005", "さくら信用金庫")
	var cfg wire.BankConfig
	data, _ := os.ReadFile(other.config)
	json.Unmarshal(data, &cfg)

	if out := p.ok("", "bank", "list"); !strings.Contains(out, "1376  インカン信用金庫") {
		t.Fatalf("bank list of an upgraded PC: %s", out)
	}
	wrongFP := strings.Repeat("ab", 32)
	if code, _, _ := p.run("", "bank", "add", "--url", cfg.ServerURL, "--fingerprint", wrongFP, "--code", "2005", "--name", "さくら信用金庫"); code != exitNetwork {
		t.Fatalf("bank add with the wrong root fingerprint: exit %d, want %d", code, exitNetwork)
	}
	if out := p.ok("", "bank", "list"); strings.Contains(out, "2005") {
		t.Fatalf("a refused bank was added: %s", out)
	}
	p.ok("", "bank", "add", "--url", cfg.ServerURL, "--fingerprint", strings.ToUpper(cfg.CAFingerprint), "--code", "2005", "--name", "さくら信用金庫")
	if out := p.ok("", "bank", "list"); !strings.Contains(out, "1376  インカン信用金庫") || !strings.Contains(out, "2005  さくら信用金庫") {
		t.Fatalf("bank list after adding: %s", out)
	}

	if code, _, errOut := p.run("kanri-Pass-2026\n", "pickup", "--login-id", "kanri", "--password-stdin"); code != exitUsage || !strings.Contains(errOut, "--bank") {
		t.Fatalf("pickup with two banks and no --bank: exit %d, %s", code, errOut)
	}
	p.ok("kanri-Pass-2026\n", "--bank", "1376", "pickup", "--login-id", "kanri", "--password-stdin")
	p.ok("kanri-Pass-2026\n", "--bank", "2005", "pickup", "--login-id", "kanri", "--password-stdin")
	if out := p.ok("", "list"); !strings.Contains(out, "kanri+1376") || !strings.Contains(out, "kanri+2005") {
		t.Fatalf("list of both banks: %s", out)
	}
	if out := p.ok("", "--bank", "2005", "list"); strings.Contains(out, "kanri+1376") {
		t.Fatalf("list --bank 2005 shows the other bank's: %s", out)
	}
	p.ok("kanri-Pass-2026\n", "login", "--id", "kanri+2005", "--password-stdin")
	p.ok("kanri-Pass-2026\n", "login", "--id", "kanri+1376", "--password-stdin")

	if code, _, errOut := p.run("", "bank", "remove", "2005"); code != exitUsage || !strings.Contains(errOut, "--delete-certificates") {
		t.Fatalf("removing a bank whose certificate is here: exit %d, %s", code, errOut)
	}
	if out := p.ok("", "bank", "remove", "2005", "--delete-certificates"); !strings.Contains(out, "deleted kanri+2005") {
		t.Fatalf("bank remove: %s", out)
	}
	if out := p.ok("", "list"); strings.Contains(out, "kanri+2005") || !strings.Contains(out, "kanri+1376") {
		t.Fatalf("list after removing さくら: %s", out)
	}
}

func TestAdminSetPasswordThroughTheCommands(t *testing.T) {
	p, _ := startBankWithAdmin(t)
	p.ok("kanri-Pass-2026\n", "pickup", "--login-id", "kanri", "--password-stdin")
	p.ok("kanri-Pass-2026\nippan-Pass-2026\n", "admin", "--id", "kanri+1376", "create-user", "ippan", "--role", "general", "--issue", "--password-stdin")
	p.ok("ippan-Pass-2026\n", "pickup", "--login-id", "ippan", "--password-stdin")
	for range 5 {
		p.run("wrong password\n", "login", "--id", "ippan+1376", "--password-stdin")
	}
	if code, _, errOut := p.run("kanri-Pass-2026\nippan\n", "admin", "--id", "kanri+1376", "set-password", "ippan", "--password-stdin"); code != exitRefused || !strings.Contains(errOut, "8") {
		t.Fatalf("set-password with the ID as the password: exit %d, %s", code, errOut)
	}
	if out := p.ok("kanri-Pass-2026\nShin-Pass-2026\n", "admin", "--id", "kanri+1376", "set-password", "ippan", "--password-stdin"); !strings.Contains(out, "ippan") || strings.Contains(out, "LOCKED") || strings.Contains(out, "Shin-Pass-2026") {
		t.Fatalf("admin set-password ippan: %s", out)
	}
	p.ok("Shin-Pass-2026\n", "login", "--id", "ippan+1376", "--password-stdin")
	var res struct {
		User     wire.User `json:"user"`
		Password string    `json:"password"`
	}
	if err := json.Unmarshal([]byte(p.ok("kanri-Pass-2026\n", "admin", "--id", "kanri+1376", "set-password", "ippan", "--generate", "--password-stdin", "--json")), &res); err != nil || res.User.LoginID != "ippan" || len(res.Password) != 14 {
		t.Fatalf("set-password --generate --json: %+v, %v", res, err)
	}
	p.ok(res.Password+"\n", "login", "--id", "ippan+1376", "--password-stdin")
	if code, _, errOut := p.run("kanri-Pass-2026\nKanri-Shin-2026\n", "admin", "--id", "kanri+1376", "set-password", "kanri", "--password-stdin"); code != exitRefused || !strings.Contains(errOut, "ask the bank") {
		t.Fatalf("admin resetting an admin ID: exit %d, %s", code, errOut)
	}
}
