package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRealBinariesPickUpAndLogIn builds inkan-server and inkanctl, sets up a bank
// with the operator CLI, serves it on a loopback port, and picks up and logs in
// with inkanctl: the path a bank and a PC take, with the real clock.
func TestRealBinariesPickUpAndLogIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	bin := t.TempDir()
	for _, cmd := range []string{"inkan-server", "inkanctl"} {
		out, err := exec.Command(goTool, "build", "-o", filepath.Join(bin, cmd), "github.com/inkan-dev/inkan/cmd/"+cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", cmd, err, out)
		}
	}
	data, pc := t.TempDir(), t.TempDir()
	// init encrypts the CA keys; serve decrypts them with the same passphrase.
	caPassphraseEnv := append(os.Environ(), "INKAN_CA_PASSPHRASE=e2e demo passphrase")
	server := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "inkan-server"), append([]string{"--data", data}, args...)...)
		cmd.Env = caPassphraseEnv
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("inkan-server %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	inkanctl := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "inkanctl"), append([]string{"--config", filepath.Join(pc, "bank.json"),
			"--store", "dir:" + filepath.Join(pc, "store"), "--state-dir", pc, "--lang", "en"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("inkanctl %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String()
	}

	server("", "init", "--demo", "--bank-code", "1376", "--bank-name", "インカン信用金庫", "--host", "127.0.0.1")
	var contract struct{ ID string }
	if err := json.Unmarshal([]byte(server("", "--json", "contract", "add", "株式会社インカン商事")), &contract); err != nil || contract.ID == "" {
		t.Fatalf("contract add --json: %v", err)
	}
	server(password("kanri")+"\n", "user", "add", "kanri", "--contract", contract.ID, "--role", "admin", "--password-stdin")
	server("", "cert", "issue", "kanri")

	serve := exec.Command(filepath.Join(bin, "inkan-server"), "--data", data, "serve", "--addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	serve.Env = caPassphraseEnv
	addr, serveLog := startServing(t, serve)
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		if err := serve.Wait(); err != nil {
			t.Errorf("inkan-server serve: %v\n%s", err, serveLog.String())
		}
	})
	server("", "agent-config", "--url", "https://"+addr, "--out", filepath.Join(pc, "bank.json"))

	inkanctl(password("kanri")+"\n", "pickup", "--login-id", "kanri", "--password-stdin")
	if out := inkanctl(password("kanri")+"\n", "login", "--password-stdin"); !strings.Contains(out, "logged in as kanri (admin") {
		t.Fatalf("login: %s", out)
	}
	var ids []struct{ Label, State string }
	if err := json.Unmarshal([]byte(inkanctl("", "list", "--json")), &ids); err != nil || len(ids) != 1 || ids[0].Label != "kanri+1376" || ids[0].State != "valid" {
		t.Fatalf("list --json: %+v, %v", ids, err)
	}
}
