package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/store/postgres"
	"github.com/inkan-dev/inkan/server/store/testdb"
	"github.com/inkan-dev/inkan/wire"
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
	cmd.Env = caPassphrase
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

// caPassphrase is the environment of the binaries: init encrypts the CA keys
// with this passphrase, serve and the CLI decrypt them with it.
var caPassphrase = append(os.Environ(), "INKAN_CA_PASSPHRASE=e2e postgres passphrase")

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
	stop, _, _ = serveProcessLog(t, bin, data, addr, args...)
	return stop
}

// serveProcessLog is serveProcess that also returns the process and its
// output (stdout and stderr), which may be read once stop has returned.
func serveProcessLog(t *testing.T, bin, data, addr string, args ...string) (stop func(), cmd *exec.Cmd, log *bytes.Buffer) {
	t.Helper()
	cmd = exec.Command(filepath.Join(bin, "inkan-server"), append([]string{"--data", data, "serve", "--addr", addr, "--http-addr", freeAddr(t)}, args...)...)
	log = new(bytes.Buffer)
	cmd.Env = caPassphrase
	cmd.Stdout, cmd.Stderr = log, log
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
			return stop, cmd, log
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
	server("", "init", "--demo", "--bank-code", "1376", "--bank-name", "インカン信用金庫", "--host", "127.0.0.1")
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
	for _, want := range []string{"certificates            4          4", "users                   4          4", "CRL entries identical", "PostgreSQL serves the very CRL SQLite served, byte for byte"} {
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

// TestThreeServersOnOnePostgreSQLBehaveAsOne runs three `inkan-server serve`
// processes on one PostgreSQL database, and 32 PCs at once picking up,
// renewing and logging in, each step through another server, while an admin
// whose session was opened on one server revokes through the others and 32
// wrong passwords for one ID arrive spread over all three. Afterwards no ID
// has two live certificates, every certificate a PC was given is in the
// database as given, the lockout fired once at exactly the limit, every
// revocation is in every server's next CRL and OCSP answer, every server
// serves the same CRL, and the CRL number grew with each change.
func TestThreeServersOnOnePostgreSQLBehaveAsOne(t *testing.T) {
	dbURL := testdb.PostgresURL(t)
	bin := binaries(t)
	ctx := context.Background()
	dir := t.TempDir()
	if err := server.Init(dir, server.InitConfig{BankCode: "1376", BankName: "インカン信用金庫", Hosts: []string{"127.0.0.1"},
		Demo: true, Argon2: cheapArgon2, Database: server.DatabaseConfig{URL: dbURL}}); err != nil {
		t.Fatal(err)
	}
	// The bank moves the root key to offline storage: serve refuses it in the data directory.
	if err := os.RemoveAll(filepath.Join(dir, ca.OfflineDir)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, server.ConfigFile)
	cfgFile, err := server.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile.Policy.RenewBeforeDays = cfgFile.Policy.ValidityDays // renewal opens at pickup, with the real clock
	cfgFile.Limits.WrongPasswordBurst = 1000                     // the per-address limit is per process; the lockout is what is tested
	data, err := json.Marshal(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	setup, err := server.Open(dir, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	op := setup.Operator()
	contract, err := op.CreateContract(ctx, "株式会社インカン商事")
	if err != nil {
		t.Fatal(err)
	}
	const n = 32
	users := []string{"kanri", "victim"}
	for i := range n {
		users = append(users, fmt.Sprintf("ippan%02d", i))
	}
	for i, id := range users {
		role := wire.RoleGeneral
		if i == 0 {
			role = wire.RoleAdmin
		}
		if err := op.CreateUser(ctx, contract, id, role, id, id+"@example.jp", password(id)); err != nil {
			t.Fatal(err)
		}
		if err := op.IssueCertificate(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	bankCfg, err := setup.BankConfig("https://127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := setup.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	var urls []string
	for range 3 {
		addr := freeAddr(t)
		serveProcess(t, bin, dir, addr)
		urls = append(urls, "https://"+addr)
	}
	pcOn := func(i int, store certstore.Store) *agent.Agent {
		cfg := bankCfg
		cfg.ServerURL = urls[i%3]
		a, err := agent.New(agent.Config{BankConfig: cfg}, store, agent.Options{Now: time.Now, StateDir: t.TempDir(), RetryWait: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	// The admin picks up on server 0 and logs in on server 1; the session then serves on all three.
	adminStore, err := certstore.Open("memory")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pcOn(0, adminStore).Pickup(ctx, "kanri", password("kanri"), nil)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := pcOn(1, adminStore).Login(ctx, admin.Fingerprint, password("kanri"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := pcOn(i, adminStore).Users(ctx, sess); err != nil {
			t.Fatalf("the session opened on server 1, used on server %d: %v", i, err)
		}
	}

	var mu sync.Mutex
	given := map[string][]byte{} // serial -> DER of every certificate a PC was given
	var revoked []*x509.Certificate
	keep := func(c *x509.Certificate) {
		mu.Lock()
		given[c.SerialNumber.Text(16)] = c.Raw
		mu.Unlock()
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	wrong := make([]error, n)
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("ippan%02d", i)
			// 32 wrong passwords for one ID, spread over the three servers.
			_, wrong[i] = pcOn(i, memStore(t)).Pickup(ctx, "victim", "wrong-password", nil)
			store, err := certstore.Open("memory")
			if err != nil {
				errs[i] = err
				return
			}
			first, err := pcOn(i, store).Pickup(ctx, id, password(id), nil)
			if err != nil {
				errs[i] = fmt.Errorf("pickup %s: %w", id, err)
				return
			}
			keep(first.Certificate)
			next, err := pcOn(i+1, store).Renew(ctx, first.Fingerprint, nil)
			if err != nil {
				errs[i] = fmt.Errorf("renew %s: %w", id, err)
				return
			}
			keep(next.Certificate)
			if _, err := pcOn(i+2, store).Login(ctx, next.Fingerprint, password(id)); err != nil {
				errs[i] = fmt.Errorf("login %s: %w", id, err)
				return
			}
			if i%4 == 0 {
				if _, err := pcOn(i+1, adminStore).RevokeCertificate(ctx, sess, id); err != nil {
					errs[i] = fmt.Errorf("revoke %s: %w", id, err)
					return
				}
				mu.Lock()
				revoked = append(revoked, next.Certificate)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("PC %d: %v", i, err)
		}
	}
	for i, err := range wrong {
		wantCode(t, fmt.Sprintf("wrong password %d", i), err, wire.CodeInvalidCredentials)
	}

	db, err := postgres.Open(ctx, dbURL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(ctx, func(tx store.Tx) error {
		v, err := tx.User("victim")
		if err != nil {
			return err
		}
		if !v.Locked || v.FailedLogins != 5 {
			t.Errorf("victim after 32 wrong passwords over 3 servers: locked %v at %d failures, want locked at exactly 5", v.Locked, v.FailedLogins)
		}
		audit, err := tx.Audit(1 << 20)
		locks := 0
		for _, e := range audit {
			if e.Action == "user.lock" && e.Target == "victim" {
				locks++
			}
		}
		if locks != 1 {
			t.Errorf("%d lock audit rows for victim, want 1", locks)
		}
		for _, id := range users {
			certs, err := tx.Certificates(id)
			if err != nil {
				return err
			}
			live := 0
			for _, c := range certs {
				if c.Status == store.CertActive || c.Status == store.CertAwaitingPickup {
					live++
				}
			}
			if live > 1 {
				t.Errorf("%s has %d live certificates", id, live)
			}
		}
		for serial, der := range given {
			c, err := tx.CertificateBySerial(serial)
			if err != nil {
				return fmt.Errorf("certificate %s given to a PC: %w", serial, err)
			}
			if !bytes.Equal(c.DER, der) {
				t.Errorf("certificate %s in the database differs from the one given", serial)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(given) != 2*n {
		t.Fatalf("%d certificates given, want %d", len(given), 2*n)
	}

	// Every server's next CRL and OCSP answer has every revocation; every
	// server serves one and the same CRL (the one stored in the database),
	// asked one after another or twelve at once, and signs no new one while
	// nothing changes. Then each further revocation, through one server, is in
	// the next CRL of every server, the same on all, under a greater number.
	issuer := readCert(t, filepath.Join(dir, "issuing-ca.crt"))
	client := tlsClient(t, filepath.Join(dir, "root-ca.crt"))
	first := fetchCRL(t, client, urls[0])
	for i, u := range urls {
		crl := fetchCRL(t, client, u)
		if !bytes.Equal(crl.Raw, first.Raw) {
			t.Fatalf("server %d serves CRL %v, server 0 CRL %v: not the one shared CRL", i, crl.Number, first.Number)
		}
		for _, c := range revoked {
			if !crlHas(crl, c.SerialNumber) {
				t.Fatalf("server %d's CRL lacks %x, revoked through another", i, c.SerialNumber)
			}
			if st := ocspOver(t, client, u, c, issuer); st != ocsp.Revoked {
				t.Fatalf("server %d's OCSP answers %d for %x, revoked through another", i, st, c.SerialNumber)
			}
		}
	}
	last := first.Number.Int64()
	for k := 1; k <= 3; k++ {
		id := fmt.Sprintf("ippan%02d", k)
		if _, err := pcOn(k, adminStore).RevokeCertificate(ctx, sess, id); err != nil {
			t.Fatal(err)
		}
		crls := make([]*x509.RevocationList, 12)
		errs := make([]error, len(crls))
		var wg sync.WaitGroup
		for i := range crls {
			wg.Go(func() { crls[i], errs[i] = getCRL(client, urls[(k+i)%3]) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		crl := crls[0]
		for i, c := range crls {
			if c == nil || !bytes.Equal(c.Raw, crl.Raw) {
				t.Fatalf("12 GETs at once over 3 servers after a revocation: answer %d is not the CRL of answer 0 (%v): each number must name one CRL", i, crl.Number)
			}
		}
		for i, u := range urls {
			if again := fetchCRL(t, client, u); !bytes.Equal(again.Raw, crl.Raw) {
				t.Fatalf("server %d signed CRL %v without a change since CRL %v", i, again.Number, crl.Number)
			}
		}
		if crl.Number.Int64() <= last {
			t.Fatalf("CRL number %d after a revocation, the last one was %d", crl.Number.Int64(), last)
		}
		last = crl.Number.Int64()
		var serial string
		db.View(ctx, func(tx store.Tx) error {
			cs, err := tx.Certificates(id)
			if err == nil && len(cs) > 0 {
				serial = cs[0].Serial
			}
			return err
		})
		s, _ := new(big.Int).SetString(serial, 16)
		if !crlHas(crl, s) {
			t.Fatalf("the next CRL of another server lacks %s, just revoked", serial)
		}
	}
}

func memStore(t *testing.T) certstore.Store {
	t.Helper()
	s, err := certstore.Open("memory")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readCert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		t.Fatalf("%s is not PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tlsClient(t *testing.T, rootPath string) *http.Client {
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, rootPath))
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
}

func fetchCRL(t *testing.T, c *http.Client, base string) *x509.RevocationList {
	t.Helper()
	crl, err := getCRL(c, base)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

// getCRL is GET BASE/crl, parsed.
func getCRL(c *http.Client, base string) (*x509.RevocationList, error) {
	resp, err := c.Get(base + "/crl")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	der, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s/crl: %d %v", base, resp.StatusCode, err)
	}
	return x509.ParseRevocationList(der)
}

func crlHas(crl *x509.RevocationList, serial *big.Int) bool {
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(serial) == 0 {
			return true
		}
	}
	return false
}

func ocspOver(t *testing.T, c *http.Client, base string, cert, issuer *x509.Certificate) int {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Post(base+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	der, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		t.Fatalf("OCSP answer of %s: %v", base, err)
	}
	return r.Status
}
