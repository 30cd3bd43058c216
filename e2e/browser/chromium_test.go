//go:build chromium

// Package browser is the Chromium test of the bank's browser login: the real
// server, inkanctl with the keyring store under a real Secret Service and its
// copy in a real NSS database, and Debian's chromium driven headless through
// the DevTools protocol. scripts/test-browser.sh runs it (build tag chromium):
// it needs root to write Chromium's managed policy and runs under
// scripts/with-secret-service.sh.
package browser

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/certstore/nssdb"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

// policyDir is where Debian's chromium reads managed policies.
const policyDir = "/etc/chromium/policies/managed"

type fixture struct {
	t        *testing.T
	url      string
	srv      *server.Server
	home     string // HOME of inkanctl and Chromium: ~/.pki/nssdb is here
	bin      string
	config   string
	stateDir string
	policy   string
}

func TestChromiumLogsInWithTheCertificateInkanPickedUp(t *testing.T) {
	if os.Getenv("INKAN_TEST_SECRET_SERVICE") != "1" {
		t.Fatal("run under scripts/with-secret-service.sh (scripts/test-browser.sh does)")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: scripts/install-deps.sh installs it")
	}
	f := newFixture(t)

	// The bank: a contract with an admin and a general ID; both pick up with inkanctl.
	op := f.srv.Operator()
	ctx := context.Background()
	cid, err := op.CreateContract(ctx, "株式会社インカン商事")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		id   string
		role wire.Role
		name string
	}{{"kanri01", wire.RoleAdmin, "山田 花子"}, {"ippan01", wire.RoleGeneral, "佐藤 一郎"}} {
		if err := op.CreateUser(ctx, cid, u.id, u.role, u.name, u.id+"@example.jp", "pass-"+u.id+"-2026"); err != nil {
			t.Fatal(err)
		}
		if err := op.IssueCertificate(ctx, u.id); err != nil {
			t.Fatal(err)
		}
		f.inkanctl("pass-"+u.id+"-2026\n", "pickup", "--login-id", u.id, "--password-stdin")
	}
	db := nssdb.DB{Dir: filepath.Join(f.home, ".pki", "nssdb")}
	first := f.nssCert(db, "kanri01+1376")
	f.nssCert(db, "ippan01+1376")

	profile := t.TempDir()
	// 1. The admin logs in: login page, certificate, password, ログイン中.
	f.selectCertificate(`{"SUBJECT":{"CN":"kanri01+1376"}}`)
	var status, user, notices string
	var png, png200 []byte
	var fits bool
	f.browse(chromium, f.home, profile,
		chromedp.Navigate(f.url+"/web/"),
		chromedp.WaitVisible(`a.button.primary`),
		chromedp.Click(`a.button.primary`),
		chromedp.WaitVisible(`#password`),
		chromedp.SendKeys(`#password`, "pass-kanri01-2026"),
		chromedp.Click(`#login`),
		chromedp.WaitVisible(`#status`),
		chromedp.Text(`#status`, &status),
		chromedp.Text(`#user`, &user),
		chromedp.Text(`#notices`, &notices),
		chromedp.CaptureScreenshot(&png),
		// 200 % zoom on a 1366×768 screen is a 683×384 CSS viewport at scale 2.
		chromedp.EmulateViewport(683, 384, chromedp.EmulateScale(2)),
		chromedp.Reload(),
		chromedp.WaitVisible(`#status`),
		chromedp.Evaluate(`document.documentElement.scrollWidth <= document.documentElement.clientWidth`, &fits),
		chromedp.CaptureScreenshot(&png200),
	)
	if !fits {
		t.Error("at 200 % zoom the ログイン中 page scrolls sideways")
	}
	if status != "ログイン中" || !strings.Contains(user, "kanri01") || !strings.Contains(notices, "重要なお知らせ") {
		t.Fatalf("ログイン中 page: status %q user %q notices %q", status, user, notices)
	}
	shot := filepath.Join("..", "..", "docs", "screenshots", "browser-login.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", "browser-login-200.png"), png200, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of ログイン中: %s, and at 200 %% zoom browser-login-200.png", shot)

	// 2. A wrong password: the password page again, with the message.
	var msg string
	f.browse(chromium, f.home, t.TempDir(),
		chromedp.Navigate(f.url+"/web/certificate"),
		chromedp.WaitVisible(`#password`),
		chromedp.SendKeys(`#password`, "wrong-password"),
		chromedp.Click(`#login`),
		chromedp.WaitVisible(`.message`),
		chromedp.Text(`.message`, &msg),
		chromedp.EmulateViewport(683, 384, chromedp.EmulateScale(2)),
		chromedp.Evaluate(`document.documentElement.scrollWidth <= document.documentElement.clientWidth`, &fits),
	)
	if !fits {
		t.Error("at 200 % zoom the password page scrolls sideways")
	}
	if !strings.Contains(msg, "ログインパスワードが正しくありません") || !strings.Contains(msg, string(wire.CodeInvalidCredentials)) {
		t.Fatalf("wrong password page: %q", msg)
	}

	// 3. A revoked certificate: refused at once, with the 失効 page.
	if err := op.RevokeCertificate(ctx, "ippan01"); err != nil {
		t.Fatal(err)
	}
	f.selectCertificate(`{"SUBJECT":{"CN":"ippan01+1376"}}`)
	f.browse(chromium, f.home, t.TempDir(),
		chromedp.Navigate(f.url+"/web/certificate"),
		chromedp.WaitVisible(`.message`),
		chromedp.Text(`.message`, &msg),
	)
	if !strings.Contains(msg, "失効") || !strings.Contains(msg, string(wire.CodeCertificateRevoked)) {
		t.Fatalf("revoked certificate page: %q", msg)
	}

	// 4. Another CA's certificate: the server names only the bank's issuing CA,
	// so Chromium does not offer it, and the page says no certificate came.
	// Another user's PC: only the foreign certificate, and the bank's root
	// trusted for the server.
	other := t.TempDir()
	odb := nssdb.DB{Dir: filepath.Join(other, ".pki", "nssdb")}
	if err := odb.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	f.addForeignIdentity(odb)
	bank, _ := f.srv.BankConfig(f.url)
	block, _ := pem.Decode([]byte(bank.CACertPEM))
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := odb.AddCA(ctx, root.Subject.CommonName, root, true); err != nil {
		t.Fatal(err)
	}
	f.selectCertificate(`{"ISSUER":{"CN":"Other Bank Issuing CA"}}`)
	f.browse(chromium, other, t.TempDir(),
		chromedp.Navigate(f.url+"/web/certificate"),
		chromedp.WaitVisible(`.message`),
		chromedp.Text(`.message`, &msg),
	)
	if !strings.Contains(msg, "電子証明書が送信されませんでした") || !strings.Contains(msg, string(wire.CodeClientCertRequired)) {
		t.Fatalf("foreign certificate page: %q", msg)
	}

	// 5. Automatic renewal (the window is open from pickup in this bank's
	// policy), then the same profile logs in again with no manual step.
	// ippan01's renewal is refused (revoked): the command fails for it, and
	// the revoked certificate leaves the browser's copy.
	out, err := f.run("", "renew", "--auto")
	if err == nil || !strings.Contains(out, "電子証明書を更新しました: kanri01+1376") || !strings.Contains(out, "ippan01+1376 を自動で更新できませんでした") {
		t.Fatalf("renew --auto: %v\n%s", err, out)
	}
	renewed := f.nssCert(db, "kanri01+1376")
	if renewed.Equal(first) {
		t.Fatal("the browser's copy still holds the old certificate after renewal")
	}
	if certs, _ := db.Certificates(ctx, "ippan01+1376"); len(certs) != 0 {
		t.Fatal("the revoked certificate is still in the browser's copy")
	}
	f.selectCertificate(`{"SUBJECT":{"CN":"kanri01+1376"}}`)
	f.browse(chromium, f.home, profile,
		chromedp.Navigate(f.url+"/web/certificate"),
		chromedp.WaitVisible(`#password`),
		chromedp.SendKeys(`#password`, "pass-kanri01-2026"),
		chromedp.Click(`#login`),
		chromedp.WaitVisible(`#status`),
		chromedp.Text(`#status`, &status),
		chromedp.Text(`#user`, &user),
	)
	if status != "ログイン中" || !strings.Contains(user, "kanri01") {
		t.Fatalf("login after renewal: %q %q", status, user)
	}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	argon := lifecycle.Argon2Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32}
	// A demo bank on loopback: its revocation URL (written into the
	// certificates) is a loopback address no one fetches in this test.
	if err := server.Init(dir, server.InitConfig{BankCode: "1376", BankName: "インカン信用金庫", Argon2: &argon, Demo: true,
		RevocationURL: "http://127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	// A bank whose renewal window opens at pickup: 30-day certificates, renewable 30 days before expiry.
	cfgPath := filepath.Join(dir, server.ConfigFile)
	cfg, err := server.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy.ValidityDays, cfg.Policy.RenewBeforeDays = 30, 30
	data, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
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
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	f := &fixture{t: t, url: "https://" + ln.Addr().String(), srv: srv, home: t.TempDir(), bin: t.TempDir(), stateDir: t.TempDir()}
	bank, err := srv.BankConfig(f.url)
	if err != nil {
		t.Fatal(err)
	}
	// The PC's configuration: the keyring store (copied into NSS by default on
	// Linux), and the user agrees to trust the bank's root for its TLS server.
	pcCfg := map[string]any{}
	raw, _ := json.Marshal(bank)
	json.Unmarshal(raw, &pcCfg)
	pcCfg["store"] = "keyring"
	pcCfg["trust_bank_root"] = true
	raw, _ = json.Marshal(pcCfg)
	f.config = filepath.Join(f.home, "bank.json")
	if err := os.WriteFile(f.config, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "build", "-o", filepath.Join(f.bin, "inkanctl"), "github.com/inkan-dev/inkan/cmd/inkanctl").CombinedOutput()
	if err != nil {
		t.Fatalf("go build inkanctl: %v\n%s", err, out)
	}
	if err := os.MkdirAll(policyDir, 0o755); err != nil {
		t.Fatalf("write Chromium's managed policy (needs root): %v", err)
	}
	f.policy = filepath.Join(policyDir, fmt.Sprintf("inkan-test-%d.json", os.Getpid()))
	t.Cleanup(func() { os.Remove(f.policy) })
	return f
}

// run runs inkanctl as the PC's user (HOME with its NSS database) and
// returns its stdout and stderr.
func (f *fixture) run(stdin string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(f.bin, "inkanctl"), append([]string{"--config", f.config, "--state-dir", f.stateDir}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+f.home)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// inkanctl runs inkanctl and fails the test if it fails or warns (a warning
// would be a browser copy that did not work).
func (f *fixture) inkanctl(stdin string, args ...string) string {
	f.t.Helper()
	out, err := f.run(stdin, args...)
	if err != nil || strings.Contains(out, "ブラウザ") {
		f.t.Fatalf("inkanctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// nssCert is the one certificate under label in the NSS database.
func (f *fixture) nssCert(db nssdb.DB, label string) *x509.Certificate {
	f.t.Helper()
	certs, err := db.Certificates(context.Background(), label)
	if err != nil || len(certs) != 1 {
		var names []string
		for _, c := range certs {
			names = append(names, fmt.Sprintf("%s serial %x until %s", c.Subject, c.SerialNumber, c.NotAfter))
		}
		f.t.Fatalf("NSS %s: %d certificates (%s), %v; want one", label, len(certs), strings.Join(names, "; "), err)
	}
	return certs[0]
}

// selectCertificate writes the managed policy that picks the certificate
// matching filter for the server, with no dialog.
func (f *fixture) selectCertificate(filter string) {
	f.t.Helper()
	rule, _ := json.Marshal(map[string]any{"pattern": f.url, "filter": json.RawMessage(filter)})
	data, _ := json.Marshal(map[string]any{"AutoSelectCertificateForUrls": []string{string(rule)}})
	if err := os.WriteFile(f.policy, data, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// browse starts Chromium on profile, as the user whose HOME is home (whose
// ~/.pki/nssdb Chromium reads), and runs the actions.
func (f *fixture) browse(chromium, home, profile string, actions ...chromedp.Action) {
	f.t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "ja"),
		chromedp.Flag("accept-lang", "ja,en"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1366, 768),
		chromedp.Env("HOME=" + home),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	// Chromium loads its managed policy in the background after start: the
	// first TLS handshake must come after AutoSelectCertificateForUrls is in,
	// or Chromium asks with a dialog that a headless browser never answers.
	if err := chromedp.Run(ctx, chromedp.Navigate("about:blank"), chromedp.Sleep(2*time.Second)); err != nil {
		f.t.Fatalf("chromium: start: %v", err)
	}
	if err := chromedp.Run(ctx, actions...); err != nil {
		var loc string
		chromedp.Run(ctx, chromedp.Location(&loc))
		f.t.Fatalf("chromium: %v (at %s)", err, loc)
	}
}

// addForeignIdentity puts another CA's certificate for the same label in NSS.
func (f *fixture) addForeignIdentity(db nssdb.DB) {
	f.t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Other Bank Issuing CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	store, _ := certstore.Open("memory")
	key, err := store.GenerateKey(context.Background(), certstore.DefaultKeyOptions())
	if err != nil {
		f.t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: pkix.Name{CommonName: "kanri01"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(12 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, _ := x509.CreateCertificate(rand.Reader, leafTmpl, ca, key.Signer().Public(), caKey)
	leaf, _ := x509.ParseCertificate(leafDER)
	id, err := key.Attach(context.Background(), []*x509.Certificate{leaf, ca}, "other+1376")
	if err != nil {
		f.t.Fatal(err)
	}
	pfx, err := store.Export(context.Background(), []certstore.Fingerprint{id.Fingerprint}, "x", certstore.ExportOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := db.ImportPKCS12(context.Background(), pfx, "x"); err != nil {
		f.t.Fatal(err)
	}
}
