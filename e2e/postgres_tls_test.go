package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/inkan-dev/inkan/server/store/testdb"
)

// TestServeOnPostgreSQLOverVerifiedTLSWithAPasswordFile: `inkan-server serve
// --db` reaches the private cluster over TCP with sslmode=verify-full against
// a CA the test made, the password from --db-password-file. A PC picks up and
// logs in through it; every session of the server's database role is TLS
// (pg_stat_ssl); the password is on no command line, in no environment and in
// no log line; the log names the verified connection. A wrong password file
// or a URL with the password in it is refused with a message that says what
// to do and does not show the password.
func TestServeOnPostgreSQLOverVerifiedTLSWithAPasswordFile(t *testing.T) {
	d := testdb.PostgresTLS(t)
	bin := binaries(t)
	data, pc, secrets := t.TempDir(), t.TempDir(), t.TempDir()
	pwFile := filepath.Join(secrets, "db-password")
	if err := os.WriteFile(pwFile, []byte(d.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := filepath.Join(bin, "inkan-server")
	db := []string{"--db", d.URL, "--db-password-file", pwFile}
	run(t, 0, "", srv, "--data", data, "init", "--demo", "--bank-code", "1376", "--bank-name", "インカン信用金庫", "--host", "127.0.0.1")
	var demo struct {
		Users []struct {
			LoginID  string `json:"login_id"`
			Password string `json:"password"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(run(t, 0, "", srv, append(append([]string{"--data", data}, db...), "--json", "demo")...)), &demo); err != nil || len(demo.Users) == 0 {
		t.Fatalf("demo --json on PostgreSQL over TLS: %+v, %v", demo, err)
	}
	admin := demo.Users[0]
	for _, u := range demo.Users {
		if u.LoginID == "demo-admin" {
			admin = u
		}
	}
	addr := freeAddr(t)
	run(t, 0, "", srv, "--data", data, "agent-config", "--url", "https://"+addr, "--out", filepath.Join(pc, "bank.json"))
	stop, cmd, log := serveProcessLog(t, bin, data, addr, db...)

	ctl := func(args ...string) string {
		t.Helper()
		return run(t, 0, admin.Password+"\n", filepath.Join(bin, "inkanctl"), append([]string{"--config", filepath.Join(pc, "bank.json"),
			"--store", "dir:" + filepath.Join(pc, "store"), "--state-dir", pc, "--lang", "en"}, args...)...)
	}
	ctl("pickup", "--login-id", admin.LoginID, "--password-stdin")
	if out := ctl("login", "--id", admin.LoginID+"+1376", "--password-stdin"); !strings.Contains(out, "logged in as "+admin.LoginID) {
		t.Fatalf("login through serve on PostgreSQL over TLS: %s", out)
	}

	// What the cluster sees of the server's sessions.
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, os.Getenv(testdb.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var sessions, tlsSessions int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE s.ssl AND s.version LIKE 'TLSv1.%')
		FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = $1 AND a.application_name = 'inkan-server'`, d.Role).Scan(&sessions, &tlsSessions); err != nil {
		t.Fatal(err)
	}
	if sessions == 0 || tlsSessions != sessions {
		t.Fatalf("serve's sessions in the cluster: %d, of them TLS: %d", sessions, tlsSessions)
	}
	t.Logf("serve holds %d database sessions, all TLS", sessions)

	// ps and /proc show neither the password nor a URL carrying one.
	for _, f := range []string{"cmdline", "environ"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", cmd.Process.Pid, f))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(d.Password)) {
			t.Errorf("/proc/PID/%s of serve holds the database password", f)
		}
	}
	stop()
	if strings.Contains(log.String(), d.Password) {
		t.Errorf("serve's log shows the database password:\n%s", log)
	}
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, "msg=database") {
			t.Logf("serve: %s", l)
		}
	}
	if !strings.Contains(log.String(), "sslmode=verify-full") || strings.Contains(log.String(), "level=WARN msg=データベースへの接続") {
		t.Errorf("serve's log does not name the verified database connection:\n%s", log)
	}

	refused := func(wantInErr string, args ...string) {
		t.Helper()
		c := exec.Command(srv, append([]string{"--data", data}, args...)...)
		c.Env = caPassphrase
		out, err := c.CombinedOutput()
		if err == nil {
			t.Fatalf("inkan-server %s succeeded:\n%s", strings.Join(args, " "), out)
		}
		if !strings.Contains(string(out), wantInErr) || strings.Contains(string(out), d.Password) {
			t.Fatalf("inkan-server %s: want %q and no password in:\n%s", strings.Join(args, " "), wantInErr, out)
		}
		t.Logf("refused: %s", out)
	}
	wrong := filepath.Join(secrets, "wrong")
	os.WriteFile(wrong, []byte("not-the-password\n"), 0o600)
	refused("データベースがパスワードを受け付けませんでした", "--db", d.URL, "--db-password-file", wrong, "serve", "--addr", freeAddr(t), "--http-addr", freeAddr(t))
	withPassword := strings.Replace(d.URL, d.Role+"@", d.Role+":"+d.Password+"@", 1)
	refused("URL にパスワードを含めないでください", "--db", withPassword, "serve", "--addr", freeAddr(t), "--http-addr", freeAddr(t))
}
