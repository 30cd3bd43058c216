package server

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/store/testdb"
	"github.com/inkan-dev/inkan/wire"
)

// cheapArgon2 keeps tests fast; production parameters are in config.json.
var cheapArgon2 = lifecycle.Argon2Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32}

const day = 24 * time.Hour

// fakeClock is the clock tests move across the rules' day boundaries.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is a server on 127.0.0.1 over real HTTPS, with a fake clock.
type env struct {
	t     testing.TB
	dir   string
	srv   *Server
	clock *fakeClock
	url   string
	// httpURL is the plain-HTTP revocation listener, the certificates' revocation URL.
	httpURL string
	// rootKey is the root CA key, kept outside the data directory as a bank does.
	rootKey string
	roots   *x509.CertPool
	op      *Operator
	ctx     context.Context
}

type envOption func(*Config)

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	dir := t.TempDir()
	clock := &fakeClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	argon := cheapArgon2
	// The plain-HTTP revocation listener comes first: its address is written
	// into the certificates, as relying parties will fetch from it.
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpURL := "http://" + plain.Addr().String()
	// SQLite in dir, or a fresh PostgreSQL database under INKAN_TEST_DB=postgres.
	db := DatabaseConfig{URL: testdb.URL(t)}
	if err := Init(dir, InitConfig{BankCode: "1376", BankName: "Inkan Shinkin Bank", Demo: true, RevocationURL: httpURL, Argon2: &argon, Now: clock.Now, Database: db}); err != nil {
		t.Fatal(err)
	}
	// The bank moves the root key to offline storage: every test serves without it.
	rootKey := filepath.Join(t.TempDir(), "usb-root-ca.key")
	if err := os.Rename(ca.RootKeyPath(dir), rootKey); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, ca.OfflineDir)); err != nil {
		t.Fatal(err)
	}
	if len(opts) > 0 {
		path := dir + "/" + ConfigFile
		cfg, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range opts {
			o(&cfg)
		}
		if err := writeConfig(path, cfg); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := Open(dir, Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() { done <- srv.Serve(ln) }()
	go func() { done <- srv.ServeRevocation(plain) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		for range 2 {
			// A test that ends at once may shut down before a listener's
			// goroutine began serving: that one answers ErrServerClosed.
			if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("serve: %v", err)
			}
		}
	})
	roots := x509.NewCertPool()
	roots.AddCert(srv.ca.Root)
	e := &env{t: t, dir: dir, srv: srv, clock: clock, url: "https://" + ln.Addr().String(), httpURL: httpURL, rootKey: rootKey, roots: roots, op: srv.Operator(), ctx: context.Background()}
	return e
}

// identity is a key pair and, once picked up, its certificate.
type identity struct {
	key  crypto.Signer
	cert *x509.Certificate
}

func (id *identity) tls() *tls.Certificate {
	if id == nil || id.cert == nil {
		return nil
	}
	return &tls.Certificate{Certificate: [][]byte{id.cert.Raw}, PrivateKey: id.key, Leaf: id.cert}
}

func newKey(t testing.TB) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func csrFor(t testing.TB, key crypto.Signer) []byte {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "whatever the PC says"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// client returns an HTTPS client trusting only the bank's root, presenting cert if not nil.
func (e *env) client(cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: e.roots}
	if cert != nil {
		// Always present it, as a client that ignores the request's
		// certificate_authorities would, so that a foreign certificate reaches the rules.
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 20 * time.Second}
}

// reply is an answer: status, the wire code (JSON body or EST header) and the body.
type reply struct {
	status int
	code   wire.Code
	body   []byte
	header http.Header
}

func (e *env) do(c *http.Client, req *http.Request) reply {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, body: body, header: resp.Header, code: wire.Code(resp.Header.Get(wire.CodeHeader))}
	if resp.StatusCode >= 400 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var we wire.Error
		if err := json.Unmarshal(body, &we); err != nil {
			e.t.Fatalf("%s %s: error body is not a wire.Error: %q", req.Method, req.URL.Path, body)
		}
		r.code = we.Code
	}
	return r
}

func (e *env) request(method, path, contentType string, body []byte) *http.Request {
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// enroll posts csr to simpleenroll with HTTP Basic.
func (e *env) enroll(loginID, password string, csr []byte) reply {
	req := e.request("POST", "/.well-known/est/simpleenroll", "application/pkcs10", []byte(base64.StdEncoding.EncodeToString(csr)))
	req.SetBasicAuth(loginID, password)
	return e.do(e.client(nil), req)
}

func (e *env) parseCerts(r reply) *x509.Certificate {
	e.t.Helper()
	der, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(r.body)))
	if err != nil {
		e.t.Fatalf("answer is not base64: %v", err)
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		e.t.Fatalf("answer is not PKCS#7: %v", err)
	}
	if len(p7.Certificates) == 0 {
		e.t.Fatal("PKCS#7 answer holds no certificate")
	}
	return p7.Certificates[0]
}

// pickup picks up loginID's certificate with a new key; it fails the test if refused.
func (e *env) pickup(loginID, password string) *identity {
	e.t.Helper()
	key := newKey(e.t)
	r := e.enroll(loginID, password, csrFor(e.t, key))
	if r.status != http.StatusOK {
		e.t.Fatalf("pickup %s: %d %s %s", loginID, r.status, r.code, r.body)
	}
	return &identity{key: key, cert: e.parseCerts(r)}
}

// reenroll posts a CSR for newKey to simplereenroll, presenting id.
func (e *env) reenroll(id *identity, newKey crypto.Signer) reply {
	req := e.request("POST", "/.well-known/est/simplereenroll", "application/pkcs10", []byte(base64.StdEncoding.EncodeToString(csrFor(e.t, newKey))))
	return e.do(e.client(id.tls()), req)
}

// renew renews id with a new key; it fails the test if refused.
func (e *env) renew(id *identity) *identity {
	e.t.Helper()
	key := newKey(e.t)
	r := e.reenroll(id, key)
	if r.status != http.StatusOK {
		e.t.Fatalf("renew: %d %s %s", r.status, r.code, r.body)
	}
	return &identity{key: key, cert: e.parseCerts(r)}
}

// login logs in with id's certificate (nil: password only).
func (e *env) login(id *identity, loginID, password string) (wire.LoginResponse, reply) {
	body, _ := json.Marshal(wire.LoginRequest{LoginID: loginID, Password: password})
	r := e.do(e.client(id.tls()), e.request("POST", "/api/v1/login", "application/json", body))
	var res wire.LoginResponse
	if r.status == http.StatusOK {
		if err := json.Unmarshal(r.body, &res); err != nil {
			e.t.Fatal(err)
		}
	}
	return res, r
}

func (e *env) mustLogin(id *identity, loginID, password string) wire.LoginResponse {
	e.t.Helper()
	res, r := e.login(id, loginID, password)
	if r.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s %s", loginID, r.status, r.code, r.body)
	}
	return res
}

// api calls /api/v1 with a bearer token, presenting id.
func (e *env) api(id *identity, token, method, path string, body any) reply {
	var data []byte
	ct := ""
	if body != nil {
		data, _ = json.Marshal(body)
		ct = "application/json"
	}
	req := e.request(method, "/api/v1"+path, ct, data)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(e.client(id.tls()), req)
}

// contract creates a contract with an admin ID whose certificate is issued.
func (e *env) contract(name, adminID string) string {
	e.t.Helper()
	cid, err := e.op.CreateContract(e.ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	e.user(cid, adminID, wire.RoleAdmin)
	return cid
}

// user creates an ID with password pw(loginID) and issues its certificate.
func (e *env) user(contractID, loginID string, role wire.Role) {
	e.t.Helper()
	if err := e.op.CreateUser(e.ctx, contractID, loginID, role, "", loginID+"@example.jp", pw(loginID)); err != nil {
		e.t.Fatal(err)
	}
	if err := e.op.IssueCertificate(e.ctx, loginID); err != nil {
		e.t.Fatal(err)
	}
}

func pw(loginID string) string { return "pass-" + loginID }

// want fails the test unless r has status and code.
func want(t testing.TB, what string, r reply, status int, code wire.Code) {
	t.Helper()
	if r.status != status || r.code != code {
		t.Fatalf("%s: got %d %q (%s), want %d %q", what, r.status, r.code, bytes.TrimSpace(r.body), status, code)
	}
}

// auditCount counts the audit rows, to show a refused request wrote nothing.
func (e *env) auditCount() int {
	e.t.Helper()
	var n int
	err := e.srv.db.View(e.ctx, func(tx store.Tx) error {
		rows, err := tx.Audit(1 << 30)
		n = len(rows)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func lifecycleCode(err error) (wire.Code, string) {
	var re *lifecycle.RuleError
	if errors.As(err, &re) {
		return re.Code, re.Message
	}
	return wire.CodeInternal, err.Error()
}

// storedUser reads loginID's record.
func (e *env) storedUser(loginID string) store.User {
	e.t.Helper()
	var u store.User
	err := e.srv.db.View(e.ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.User(loginID)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}
