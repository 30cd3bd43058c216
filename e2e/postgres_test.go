package e2e

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/store/testdb"
)

// binaries builds inkan-server and inkanctl into a temporary directory.
func binaries(t *testing.T) string {
	t.Helper()
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
	return bin
}

// run runs a binary and returns its stdout; it fails the test unless the exit status is want.
func run(t *testing.T, want int, stdin, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
	}
	if code != want {
		t.Fatalf("%s %s: exit %d, want %d\n%s%s", filepath.Base(name), strings.Join(args, " "), code, want, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// freeAddr is a 127.0.0.1 address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProcess starts `inkan-server serve` with args on addr and stops it
// (SIGINT, then a check of its exit) at stop or when the test ends.
func serveProcess(t *testing.T, bin, data, addr string, args ...string) (stop func()) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "inkan-server"), append([]string{"--data", data, "serve", "--addr", addr}, args...)...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("inkan-server serve on %s: %v\n%s", addr, err, log.String())
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("inkan-server did not listen on %s:\n%s", addr, log.String())
		}
	}
}

// TestDemoBankMigratedToPostgresLogsIn: a demo bank on SQLite, with an admin
// and a general user picked up on one PC (inkanctl) and the general one
// revoked, moves to PostgreSQL with `db migrate`; served from PostgreSQL,
// the admin logs in with the same certificate and the revoked one is refused.
func TestDemoBankMigratedToPostgresLogsIn(t *testing.T) {
	target := testdb.PostgresURL(t)
	bin := binaries(t)
	data, pc := t.TempDir(), t.TempDir()
	srv := filepath.Join(bin, "inkan-server")
	server := func(stdin string, args ...string) string {
		t.Helper()
		return run(t, 0, stdin, srv, append([]string{"--data", data}, args...)...)
	}
	ctl := func(want int, stdin string, args ...string) string {
		t.Helper()
		return run(t, want, stdin, filepath.Join(bin, "inkanctl"), append([]string{"--config", filepath.Join(pc, "bank.json"),
			"--store", "dir:" + filepath.Join(pc, "store"), "--state-dir", pc, "--lang", "en"}, args...)...)
	}
	server("", "init", "--bank-code", "1376", "--bank-name", "インカン信用金庫", "--host", "127.0.0.1")
	var demo struct {
		Users []struct {
			LoginID  string `json:"login_id"`
			Password string `json:"password"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(server("", "--json", "demo")), &demo); err != nil || len(demo.Users) != 4 {
		t.Fatalf("demo --json: %+v, %v", demo, err)
	}
	pw := map[string]string{}
	for _, u := range demo.Users {
		pw[u.LoginID] = u.Password
	}
	addr := freeAddr(t)
	server("", "agent-config", "--url", "https://"+addr, "--out", filepath.Join(pc, "bank.json"))
	stop := serveProcess(t, bin, data, addr)
	ctl(0, pw["demo-admin"]+"\n", "pickup", "--login-id", "demo-admin", "--password-stdin")
	ctl(0, pw["demo-general1"]+"\n", "pickup", "--login-id", "demo-general1", "--password-stdin")
	if out := ctl(0, pw["demo-admin"]+"\n", "login", "--id", "demo-admin+1376", "--password-stdin"); !strings.Contains(out, "logged in as demo-admin") {
		t.Fatalf("login on SQLite: %s", out)
	}
	server("", "cert", "revoke", "demo-general1")
	stop()

	// Without a running server, into the empty database.
	out := run(t, 0, "", srv, "--data", data, "db", "migrate", "--to", target)
	t.Logf("db migrate:\n%s", out)
	for _, want := range []string{"certificates            4          4", "users                   4          4", "CRL entries identical", "signed CRLs from SQLite and PostgreSQL list the same certificates"} {
		if !strings.Contains(out, want) {
			t.Fatalf("db migrate output lacks %q:\n%s", want, out)
		}
	}
	// A second run refuses the database that now holds the bank.
	run(t, 1, "", srv, "--data", data, "db", "migrate", "--to", target)

	stopPG := serveProcess(t, bin, data, addr, "--db", target)
	defer stopPG()
	if out := ctl(0, pw["demo-admin"]+"\n", "login", "--id", "demo-admin+1376", "--password-stdin"); !strings.Contains(out, "logged in as demo-admin") {
		t.Fatalf("login on the migrated bank: %s", out)
	}
	ctl(2, pw["demo-general1"]+"\n", "login", "--id", "demo-general1+1376", "--password-stdin")
	// The operator CLI reaches the migrated bank too.
	if out := server("", "--db", target, "cert", "list", "--login-id", "demo-general1"); !strings.Contains(out, "revoked") {
		t.Fatalf("cert list on PostgreSQL: %s", out)
	}
}
