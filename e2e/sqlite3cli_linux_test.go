package e2e

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"golang.org/x/crypto/ocsp"
	"golang.org/x/sys/unix"

	"github.com/inkan-dev/inkan/wire"
)

// TestOperatorSQLite3WhileServingLosesNoRevocation is issue 8's reproduction: an
// operator runs the Debian sqlite3 CLI on the live database (reads and a write)
// while `inkan-server serve` runs, then revokes with `inkan-server cert revoke`.
// OCSP must answer revoked and the CRL must list the certificate, the server must
// still hold its SQLite locks (seen from this second process), and the revocation
// must survive the server's restart. `db backup` while serving copies it and
// `db restore` is refused until the server stops.
func TestOperatorSQLite3WhileServingLosesNoRevocation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds inkan-server")
	}
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("no sqlite3 CLI (Debian package sqlite3; scripts/install-deps.sh installs it)")
	}
	bin := buildServer(t)
	data := t.TempDir()
	db := filepath.Join(data, "inkan.db")
	// init encrypts the CA keys with it; serve reads it from the environment too.
	t.Setenv("INKAN_CA_PASSPHRASE", "e2e sqlite3 passphrase")
	server := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--data", data}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("inkan-server %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	sql := func(query string) string {
		t.Helper()
		out, err := exec.Command(sqlite3, db, query).CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3 %q: %v\n%s", query, err, out)
		}
		return strings.TrimSpace(string(out))
	}

	server("", "init", "--demo", "--bank-code", "1376", "--bank-name", "インカン信用金庫", "--host", "127.0.0.1")
	var contract struct{ ID string }
	if err := json.Unmarshal([]byte(server("", "--json", "contract", "add", "株式会社インカン商事")), &contract); err != nil {
		t.Fatal(err)
	}
	server(password("kanri")+"\n", "user", "add", "kanri", "--contract", contract.ID, "--role", "admin", "--password-stdin")
	server("", "cert", "issue", "kanri")
	var bc wire.BankConfig
	if err := json.Unmarshal([]byte(server("", "agent-config", "--url", "https://127.0.0.1")), &bc); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(bc.CACertPEM)) {
		t.Fatal("agent config holds no CA certificate")
	}

	addr, serve := startServe(t, bin, data)
	base := "https://" + addr
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

	// 電子証明書取得 over EST, as the agent does.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf, issuer := estPickup(t, client, base, "kanri", password("kanri"), key)

	// The operator looks at and changes the live database with sqlite3, twice,
	// with the server writing in between (a login writes its session).
	if n := sql(`SELECT COUNT(*) FROM certificates WHERE status = 'active'`); n != "1" {
		t.Fatalf("sqlite3 sees %s active certificates, want 1", n)
	}
	sql(`UPDATE contracts SET name = name || '' WHERE id = '` + contract.ID + `'`)
	login(t, client, base, "kanri", password("kanri"), key, leaf)
	if n := sql(`SELECT COUNT(*) FROM sessions WHERE login_id = 'kanri'`); n != "1" {
		t.Fatalf("sqlite3 sees %s sessions of kanri after its login, want 1 (the server's write went to another WAL?)", n)
	}
	if _, err := os.Stat(db + "-wal"); err != nil {
		t.Fatalf("the WAL is gone while the server runs: %v", err)
	}
	assertHoldsSQLiteLocks(t, serve.Process.Pid, db)

	server("", "cert", "revoke", "kanri")

	if st := ocspStatus(t, client, base, leaf, issuer); st != ocsp.Revoked {
		t.Fatalf("OCSP answers %d for the revoked certificate, want revoked (%d)", st, ocsp.Revoked)
	}
	if !crlLists(t, client, base, issuer, leaf.SerialNumber.Text(16)) {
		t.Fatal("the CRL does not list the revoked certificate")
	}
	assertHoldsSQLiteLocks(t, serve.Process.Pid, db)

	// The online backup while serving holds the revocation; a restore is refused
	// while the server has the database open.
	backup := filepath.Join(t.TempDir(), "inkan-backup.db")
	server("", "db", "backup", "--to", backup)
	if out, err := exec.Command(sqlite3, backup, `SELECT status FROM certificates WHERE serial = '`+leaf.SerialNumber.Text(16)+`'; PRAGMA integrity_check;`).CombinedOutput(); err != nil ||
		strings.Join(strings.Fields(string(out)), " ") != "revoked ok" {
		t.Fatalf("sqlite3 on the backup: %v %s", err, out)
	}
	if out, err := exec.Command(bin, "--data", data, "db", "restore", "--from", backup).CombinedOutput(); err == nil || !strings.Contains(string(out), "in use") {
		t.Fatalf("db restore while serving: %v %s", err, out)
	}
	assertHoldsSQLiteLocks(t, serve.Process.Pid, db)

	// The server's and the operator's writes are all in the file after a restart.
	stopServe(t, serve)
	if got := sql(`PRAGMA integrity_check`); got != "ok" {
		t.Fatalf("integrity_check after serve: %s", got)
	}
	if st := sql(`SELECT status FROM certificates WHERE serial = '` + leaf.SerialNumber.Text(16) + `'`); st != "revoked" {
		t.Fatalf("after the restart the certificate is %q, want revoked", st)
	}
	server("", "db", "restore", "--from", backup)
	addr, _ = startServe(t, bin, data)
	if st := ocspStatus(t, client, "https://"+addr, leaf, issuer); st != ocsp.Revoked {
		t.Fatalf("after the restart OCSP answers %d, want revoked", st)
	}
}

// buildServer builds cmd/inkan-server into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	return buildServerWith(t)
}

// buildServerWith builds cmd/inkan-server with the extra go build flags into
// a temporary directory.
func buildServerWith(t *testing.T, flags ...string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	bin := filepath.Join(t.TempDir(), "inkan-server")
	if out, err := exec.Command(goTool, append(append([]string{"build", "-o", bin}, flags...), "github.com/inkan-dev/inkan/cmd/inkan-server")...).CombinedOutput(); err != nil {
		t.Fatalf("go build inkan-server: %v\n%s", err, out)
	}
	return bin
}

// startServe runs `inkan-server serve` on a free loopback port until the test ends.
func startServe(t *testing.T, bin, data string) (string, *exec.Cmd) {
	t.Helper()
	serve := exec.Command(bin, "--data", data, "serve", "--addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	addr, _ := startServing(t, serve)
	t.Cleanup(func() { stopServe(t, serve) })
	return addr, serve
}

func stopServe(t *testing.T, serve *exec.Cmd) {
	t.Helper()
	if serve.ProcessState != nil {
		return
	}
	serve.Process.Signal(os.Interrupt)
	if err := serve.Wait(); err != nil {
		t.Errorf("inkan-server serve: %v", err)
	}
}

func estPickup(t *testing.T, client *http.Client, base, loginID, pass string, key crypto.Signer) (leaf, issuer *x509.Certificate) {
	t.Helper()
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: loginID}}, key)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/.well-known/est/simpleenroll", strings.NewReader(base64.StdEncoding.EncodeToString(csr)))
	req.Header.Set("Content-Type", "application/pkcs10")
	req.SetBasicAuth(loginID, pass)
	body := doOK(t, client, req)
	der, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(body)))
	if err != nil {
		t.Fatalf("simpleenroll answer is not base64: %v", err)
	}
	p7, err := pkcs7.Parse(der)
	if err != nil || len(p7.Certificates) == 0 {
		t.Fatalf("simpleenroll answer is not a PKCS#7 with a certificate: %v", err)
	}
	leaf = p7.Certificates[0]
	req, _ = http.NewRequest("GET", base+"/ca/issuing.crt", nil)
	raw := doOK(t, client, req)
	if issuer, err = x509.ParseCertificate(raw); err != nil {
		t.Fatalf("/ca/issuing.crt: %v", err)
	}
	return leaf, issuer
}

// login is 電子証明書ログイン: the certificate on the TLS connection, then the password.
func login(t *testing.T, base *http.Client, url, loginID, pass string, key crypto.Signer, leaf *x509.Certificate) {
	t.Helper()
	tr := base.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = []tls.Certificate{{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}}
	client := &http.Client{Timeout: base.Timeout, Transport: tr}
	body, _ := json.Marshal(wire.LoginRequest{LoginID: loginID, Password: pass})
	req, _ := http.NewRequest("POST", url+"/api/v1/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	doOK(t, client, req)
}

func doOK(t *testing.T, client *http.Client, req *http.Request) []byte {
	t.Helper()
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s %v", req.Method, req.URL.Path, res.StatusCode, body, err)
	}
	return body
}

func ocspStatus(t *testing.T, client *http.Client, base string, leaf, issuer *x509.Certificate) int {
	t.Helper()
	der, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", base+"/ocsp", bytes.NewReader(der))
	req.Header.Set("Content-Type", "application/ocsp-request")
	res, err := ocsp.ParseResponseForCert(doOK(t, client, req), leaf, issuer)
	if err != nil {
		t.Fatalf("OCSP response: %v", err)
	}
	return res.Status
}

func crlLists(t *testing.T, client *http.Client, base string, issuer *x509.Certificate, serialHex string) bool {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/crl", nil)
	crl, err := x509.ParseRevocationList(doOK(t, client, req))
	if err != nil {
		t.Fatalf("CRL: %v", err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Text(16) == serialHex {
			return true
		}
	}
	return false
}

// SQLite's lock bytes (sqlite3.c, os_unix.c): in WAL mode every connection keeps
// a SHARED lock, a read lock on the SHARED range of the database file, for as
// long as it is open, and a read lock on the -shm's "DMS" byte.
const (
	sqliteSharedFirst = 0x40000000 + 2 // PENDING_BYTE + 2
	sqliteSharedSize  = 510
	sqliteShmDMS      = (22+8)*4 + 8 // UNIX_SHM_BASE + SQLITE_SHM_NLOCK
)

// assertHoldsSQLiteLocks checks, as a second process would, that pid holds
// SQLite's locks on db and its -shm: F_GETLK for a write lock over each range
// must name pid, and /proc/locks must list pid's POSIX locks on both inodes.
func assertHoldsSQLiteLocks(t *testing.T, pid int, db string) {
	t.Helper()
	for _, c := range []struct {
		path          string
		start, length int64
	}{{db, sqliteSharedFirst, sqliteSharedSize}, {db + "-shm", sqliteShmDMS, 1}} {
		f, err := os.Open(c.path)
		if err != nil {
			t.Fatalf("open %s to test its locks: %v", c.path, err)
		}
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: c.start, Len: c.length}
		err = syscall.FcntlFlock(f.Fd(), syscall.F_GETLK, &lk)
		f.Close()
		if err != nil {
			t.Fatalf("F_GETLK %s: %v", c.path, err)
		}
		if lk.Type == syscall.F_UNLCK || int(lk.Pid) != pid {
			t.Fatalf("%s: F_GETLK finds no lock of the server (pid %d) on bytes %d+%d (type %d, pid %d): its SQLite locks were dropped",
				filepath.Base(c.path), pid, c.start, c.length, lk.Type, lk.Pid)
		}
		if !procLocksHold(t, pid, c.path) {
			t.Fatalf("/proc/locks lists no POSIX lock of pid %d on %s", pid, filepath.Base(c.path))
		}
	}
}

// procLocksHold reports whether /proc/locks lists a POSIX lock of pid on path's inode.
func procLocksHold(t *testing.T, pid int, path string) bool {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	// Lines read "1: POSIX  ADVISORY  READ 1234 08:01:5678 1073741826 1073742335",
	// the device in hex major:minor, the inode in decimal.
	dev := fmt.Sprintf("%02x:%02x:%d", unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev)), st.Ino)
	raw, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Fatalf("read /proc/locks: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[1] == "POSIX" && f[4] == strconv.Itoa(pid) && strings.EqualFold(f[5], dev) {
			return true
		}
	}
	return false
}
