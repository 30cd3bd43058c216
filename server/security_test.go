package server

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/web"
	"github.com/inkan-dev/inkan/wire"
)

// Tests named after the attacks of the outside security review (issue 13)
// that they stop.

// forgeWithIssuingKey signs, with the issuing key read off the server's disk
// (the attacker has a copy of it), a certificate that copies victim's serial,
// subject, validity and extensions for a key of the attacker's own.
func (e *env) forgeWithIssuingKey(victim *identity) *identity {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.dir, ca.IssuingKeyFile))
	if err != nil {
		e.t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		e.t.Fatal(err)
	}
	v := victim.cert
	tmpl := &x509.Certificate{
		SerialNumber: v.SerialNumber, Subject: v.Subject, NotBefore: v.NotBefore, NotAfter: v.NotAfter,
		KeyUsage: v.KeyUsage, ExtKeyUsage: v.ExtKeyUsage, BasicConstraintsValid: true,
		OCSPServer: v.OCSPServer, IssuingCertificateURL: v.IssuingCertificateURL, CRLDistributionPoints: v.CRLDistributionPoints,
	}
	mine := newKey(e.t)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, e.srv.ca.Issuing, mine.Public(), key.(crypto.Signer))
	if err != nil {
		e.t.Fatal(err)
	}
	forged, err := x509.ParseCertificate(der)
	if err != nil {
		e.t.Fatal(err)
	}
	if forged.CheckSignatureFrom(e.srv.ca.Issuing) != nil || forged.SerialNumber.Cmp(v.SerialNumber) != 0 {
		e.t.Fatal("the forgery does not carry the victim's serial under the issuing CA's signature")
	}
	return &identity{key: mine, cert: forged}
}

func TestCertificateForgedWithVictimSerialCannotLogIn(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	victim := e.pickup("admin1", pw("admin1"))
	forged := e.forgeWithIssuingKey(victim)
	_, r := e.login(forged, "", pw("admin1"))
	want(t, "login with the forgery and the victim's password", r, http.StatusUnauthorized, wire.CodeUnknownIssuer)
	e.mustLogin(victim, "", pw("admin1"))
}

func TestCertificateForgedWithVictimSerialCannotRenewOrSupersedeIt(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	victim := e.pickup("admin1", pw("admin1"))
	e.clock.Set(victim.cert.NotAfter.Add(-day)) // renewal is open
	forged := e.forgeWithIssuingKey(victim)
	r := e.reenroll(forged, newKey(t))
	want(t, "EST simplereenroll with the forgery", r, http.StatusUnauthorized, wire.CodeUnknownIssuer)
	e.mustLogin(victim, "", pw("admin1")) // the victim's certificate is still the current one
	e.renew(victim)
}

func TestCertificateForgedWithVictimSerialCannotUseVictimSession(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	victim := e.pickup("admin1", pw("admin1"))
	tok := e.mustLogin(victim, "", pw("admin1")).Token
	forged := e.forgeWithIssuingKey(victim)
	want(t, "admin call with the victim's token and the forgery", e.api(forged, tok, "GET", "/users", nil), http.StatusUnauthorized, wire.CodeUnknownIssuer)
	want(t, "the victim's own call", e.api(victim, tok, "GET", "/users", nil), http.StatusOK, "")
}

func TestPasswordGuessesWithoutCertificateCannotLockCertificateModeID(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits.WrongPasswordBurst = 1000 }) // this test is about the ID, not the address
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1")) // the contract is in certificate mode now
	general := e.pickup("general1", pw("general1"))
	for i := 0; i < 3*e.srv.cfg.Policy.MaxFailedLogins; i++ {
		for _, id := range []string{"admin1", "general1"} {
			_, r := e.login(nil, id, "Guess-Number-1")
			want(t, "a guess without a certificate", r, http.StatusUnauthorized, wire.CodeInvalidCredentials)
		}
	}
	for _, id := range []string{"admin1", "general1"} {
		if u := e.storedUser(id); u.Locked || u.FailedLogins != 0 {
			t.Fatalf("%s after guesses without a certificate: locked %v, %d failures counted", id, u.Locked, u.FailedLogins)
		}
	}
	_, r := e.login(nil, "admin1", pw("admin1"))
	want(t, "the right password without a certificate", r, http.StatusForbidden, wire.CodeCertificateRequired)
	e.mustLogin(admin, "", pw("admin1"))
	e.mustLogin(general, "", pw("general1"))
	// Guesses with the certificate still count, and still lock.
	for i := 0; i < e.srv.cfg.Policy.MaxFailedLogins; i++ {
		e.login(general, "", "Guess-Number-1")
	}
	_, r = e.login(general, "", pw("general1"))
	want(t, "the right password after five wrong ones with the certificate", r, http.StatusForbidden, wire.CodeLocked)
}

func TestTLS12DowngradeToCBCOrSHA1SuitesIsRefused(t *testing.T) {
	e := newEnv(t)
	host := strings.TrimPrefix(e.url, "https://")
	dial := func(suite uint16) error {
		conn, err := tls.Dial("tcp", host, &tls.Config{RootCAs: e.roots, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
		if err == nil {
			conn.Close()
		}
		return err
	}
	for _, suite := range []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	} {
		if err := dial(suite); err == nil {
			t.Errorf("TLS 1.2 with %s was accepted", tls.CipherSuiteName(suite))
		}
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256} {
		if err := dial(suite); err != nil {
			t.Errorf("TLS 1.2 with %s: %v", tls.CipherSuiteName(suite), err)
		}
	}
}

// A client that keeps TLS sessions (a browser does) gets no ticket to resume
// with: each of its connections is a full handshake, in which the certificate
// is proven again by its key's signature, over TLS 1.3 and TLS 1.2 alike.
func TestEveryConnectionProvesTheCertificateKeyAgain(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	for _, version := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		cache := tls.NewLRUClientSessionCache(8)
		cert := admin.tls()
		client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{
			RootCAs: e.roots, ClientSessionCache: cache, MaxVersion: version,
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil },
		}}}
		for i := range 3 {
			body, _ := json.Marshal(wire.LoginRequest{Password: pw("admin1")})
			resp, err := client.Do(e.request("POST", "/api/v1/login", "application/json", body))
			if err != nil {
				t.Fatalf("%s, login %d: %v", tls.VersionName(version), i+1, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s, login %d: %d", tls.VersionName(version), i+1, resp.StatusCode)
			}
			if resp.TLS.Version != version {
				t.Fatalf("login %d spoke %s, not %s", i+1, tls.VersionName(resp.TLS.Version), tls.VersionName(version))
			}
			if resp.TLS.DidResume {
				t.Errorf("%s, login %d resumed a session: the certificate was taken from a ticket without its key's signature", tls.VersionName(version), i+1)
			}
		}
	}
}

func TestSessionTokenAnswerIsNeverCachedAndNoAnswerIsSniffed(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	body, _ := json.Marshal(wire.LoginRequest{Password: pw("admin1")})
	login := e.do(e.client(admin.tls()), e.request("POST", "/api/v1/login", "application/json", body))
	want(t, "login", login, http.StatusOK, "")
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	answers := map[string]reply{
		"login":              login,
		"user list":          e.api(admin, tok, "GET", "/users", nil),
		"refused login":      e.do(e.client(nil), e.request("POST", "/api/v1/login", "application/json", []byte(`{"login_id":"admin1","password":"x"}`))),
		"EST cacerts":        e.do(e.client(nil), e.request("GET", "/.well-known/est/cacerts", "", nil)),
		"unknown API":        e.api(nil, "", "GET", "/nothing", nil),
		"EST simpleenroll":   e.enroll("admin1", pw("admin1"), csrFor(t, newKey(t))),
		"the CA certificate": e.do(e.client(nil), e.request("GET", "/ca/root.crt", "", nil)),
	}
	for what, r := range answers {
		if got := r.header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
			t.Errorf("%s: Strict-Transport-Security %q", what, got)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", what, got)
		}
	}
	for _, what := range []string{"login", "user list", "refused login", "EST simpleenroll"} {
		if got := answers[what].header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", what, got)
		}
	}
}

func TestOversizedRequestHeadersAreRefused(t *testing.T) {
	e := newEnv(t)
	req := e.request("GET", "/.well-known/est/cacerts", "", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 2*maxHeaderBytes))
	r := e.do(e.client(nil), req)
	if r.status != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("a %d-byte header: %d, want 431", 2*maxHeaderBytes, r.status)
	}
}

func TestIdleConnectionsCannotExhaustTheServer(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits.MaxConnections = 2 })
	host := strings.TrimPrefix(e.url, "https://")
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
		defer c.Close()
	}
	client := e.client(nil)
	client.Transport.(*http.Transport).DisableKeepAlives = true
	client.Timeout = 1500 * time.Millisecond
	if resp, err := client.Get(e.url + "/ca/root.crt"); err == nil {
		resp.Body.Close()
		t.Fatal("a third connection was served while two idle ones held the limit of 2")
	}
	idle[0].Close()
	client.Timeout = 10 * time.Second
	resp, err := client.Get(e.url + "/ca/root.crt")
	if err != nil {
		t.Fatalf("after an idle connection closed: %v", err)
	}
	resp.Body.Close()
	// The bounds that end slow and idle connections on their own.
	hs := e.srv.newHTTPServer()
	if hs.WriteTimeout <= 0 || hs.ReadHeaderTimeout <= 0 || hs.ReadTimeout <= 0 || hs.IdleTimeout <= 0 || hs.MaxHeaderBytes != maxHeaderBytes {
		t.Fatalf("the HTTP server leaves a bound open: %+v", hs)
	}
}

func TestUserNamedOperatorCannotPassForTheBankInTheAudit(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "operator", wire.RoleGeneral) // a login ID like any other
	e.mustLogin(nil, "operator", pw("operator"))
	var bank, user []string
	err := e.srv.db.View(e.ctx, func(tx store.Tx) error {
		rows, err := tx.Audit(100)
		for _, a := range rows {
			switch a.Action {
			case "contract.create":
				bank = append(bank, a.Actor)
			case "login":
				user = append(user, a.Actor)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(bank) != 1 || !strings.HasPrefix(bank[0], "operator:") || len(bank[0]) == len("operator:") {
		t.Fatalf("the bank's actor %q is not operator:<OS user>", bank)
	}
	if len(user) != 1 || user[0] != "operator" || user[0] == bank[0] {
		t.Fatalf("the user's actor %q is not its login ID, or equals the bank's %q", user, bank)
	}
	err = e.op.CreateUser(e.ctx, cid, bank[0], wire.RoleGeneral, "", "", pw("x"))
	if code, _ := lifecycleCode(err); code != wire.CodeBadRequest {
		t.Fatalf("a login ID spelled like the bank's actor %q: %v", bank[0], err)
	}
}

// loggedServer is an in-process server whose log lines go to a buffer.
func loggedServer(t *testing.T) (*fuzzServer, *syncBuffer) {
	var buf syncBuffer
	fs := newInProcessServer(t, Options{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return fs, &buf
}

// syncBuffer is a bytes.Buffer that handlers may log into at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// webHomeRequest is the browser's ログイン中 page with a session cookie, whose
// check reads the database.
func webHomeRequest(ctx context.Context) *http.Request {
	req := httptest.NewRequestWithContext(ctx, "GET", "/web/home", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: "no-such-session"})
	return req
}

func TestClientHangingUpIsNotLoggedAsAServerFault(t *testing.T) {
	fs, log := loggedServer(t)
	if _, err := fs.srv.Operator().CreateContract(context.Background(), "Sato Shoji"); err != nil {
		t.Fatal(err)
	}
	gone, hangUp := context.WithCancel(context.Background())
	hangUp()
	body := []byte(`{"login_id":"admin1","password":"Kanri-Pass-2026"}`)
	for _, req := range []*http.Request{
		jsonRequest(gone, "POST", "/api/v1/login", body),
		httptest.NewRequestWithContext(gone, "GET", "/crl", nil),
		webHomeRequest(gone),
	} {
		rec := fs.serve(req)
		if rec.Code != statusClientClosedRequest {
			t.Errorf("%s after the client hung up: answered %d, want %d", req.URL.Path, rec.Code, statusClientClosedRequest)
		}
	}
	if strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "client hung up") {
		t.Fatalf("log after clients hung up:\n%s", log)
	}
}

func TestPasswordTypedIntoTheLoginIDFieldNeverReachesTheLog(t *testing.T) {
	fs, log := loggedServer(t)
	const typed = "Himitsu no パスワード!"
	enroll := httptest.NewRequest("POST", "/.well-known/est/simpleenroll", strings.NewReader(base64.StdEncoding.EncodeToString(csrFor(t, newKey(t)))))
	enroll.Header.Set("Content-Type", "application/pkcs10")
	enroll.SetBasicAuth(typed, "whatever")
	login, _ := json.Marshal(wire.LoginRequest{LoginID: typed, Password: "whatever"})
	for _, req := range []*http.Request{
		enroll,
		jsonRequest(context.Background(), "POST", "/api/v1/login", login),
		httptest.NewRequest("POST", "/api/v1/users/"+url.PathEscape(typed)+"/unlock", nil),
	} {
		checkRefusal(t, req.URL.Path, fs.serve(req))
	}
	if strings.Contains(log.String(), "Himitsu") || strings.Contains(log.String(), url.PathEscape(typed)) {
		t.Fatalf("the text typed as a login ID is in the log:\n%s", log)
	}
	// The pickup's error and the unlock's path name it; the login's error does not name it at all.
	if n := strings.Count(log.String(), lifecycle.LogID(typed)); n != 2 {
		t.Fatalf("%d log lines name the typed ID by its hash %s, want 2:\n%s", n, lifecycle.LogID(typed), log)
	}
	// A login ID with the syntax of one is logged as it is.
	enroll = httptest.NewRequest("POST", "/.well-known/est/simpleenroll", strings.NewReader(base64.StdEncoding.EncodeToString(csrFor(t, newKey(t)))))
	enroll.Header.Set("Content-Type", "application/pkcs10")
	enroll.SetBasicAuth("ippan7", "whatever")
	fs.serve(enroll)
	if !strings.Contains(log.String(), "pick up certificate for ippan7:") {
		t.Fatalf("a well-formed login ID is not in the log:\n%s", log)
	}
}

func TestWeakPasswordsAreRefusedWithTheRuleStated(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	tok := e.mustLogin(nil, "admin1", pw("admin1")).Token
	for _, weak := range []string{"aaaaaaaa", "12345678", "abcdefghij", "Password1", "ippan1", "short1!", strings.Repeat("Ab1", 43)} {
		r := e.api(nil, tok, "POST", "/users", wire.CreateUserRequest{LoginID: "ippan1", Role: wire.RoleGeneral, Password: weak})
		want(t, "password "+weak, r, http.StatusBadRequest, wire.CodeWeakPassword)
		var we wire.Error
		json.Unmarshal(r.body, &we)
		if !strings.Contains(we.Message, "8 to 128 characters") || !strings.Contains(we.Message, "at least two of upper case, lower case, digits and symbols") {
			t.Fatalf("the refusal does not state the rule: %q", we.Message)
		}
	}
	err := e.op.CreateUser(e.ctx, "", "ippan1", wire.RoleGeneral, "", "", "Ippan1")
	if code, _ := lifecycleCode(err); code != wire.CodeWeakPassword {
		t.Fatalf("the login ID as its own password: %v", err)
	}
	if err := e.op.SetPassword(e.ctx, "admin1", "aaaaaaaa"); err == nil {
		t.Fatal("the bank set a password of one kind of character")
	}
	for _, good := range []string{"Ippan-Pass-2026", "にほんごのパスワード1", "correct horse battery"} {
		r := e.api(nil, tok, "POST", "/users", wire.CreateUserRequest{LoginID: "ok" + strings.Repeat("1", len(good)%5), Role: wire.RoleGeneral, Password: good})
		if r.status != http.StatusCreated && r.code != wire.CodeAlreadyExists {
			t.Fatalf("password %q: %d %s", good, r.status, r.body)
		}
	}
}

func TestOversizedOrControlCharacterTextFieldsAreRefused(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	tok := e.mustLogin(nil, "admin1", pw("admin1")).Token
	before := e.auditCount()
	for what, req := range map[string]wire.CreateUserRequest{
		"a 60 KB display name":          {DisplayName: strings.Repeat("あ", 20_000)},
		"a 101-character display name":  {DisplayName: strings.Repeat("a", 101)},
		"a display name with a newline": {DisplayName: "Taro\r\nBcc: all@example.jp"},
		"a 300-byte e-mail address":     {Email: strings.Repeat("a", 288) + "@example.jp"},
		"a 65-character login ID":       {LoginID: strings.Repeat("a", 65)},
		// "<loginID>+1376" must fit the certificate's 64-character CN.
		"a 60-character login ID": {LoginID: strings.Repeat("a", wire.MaxLoginIDInCertificate+1)},
	} {
		if req.LoginID == "" {
			req.LoginID = "ippan1"
		}
		req.Role, req.Password = wire.RoleGeneral, "Ippan-Pass-2026"
		r := e.api(nil, tok, "POST", "/users", req)
		want(t, what, r, http.StatusBadRequest, wire.CodeBadRequest)
	}
	if _, err := e.op.CreateContract(e.ctx, strings.Repeat("社", 201)); err == nil {
		t.Fatal("a 201-character contract name was accepted")
	}
	_, r := e.login(nil, strings.Repeat("a", 10_000), "x")
	want(t, "a 10,000-character login ID at login", r, http.StatusBadRequest, wire.CodeBadRequest)
	_, r = e.login(nil, "admin1", strings.Repeat("x", 20_000))
	want(t, "a 20,000-character password at login", r, http.StatusBadRequest, wire.CodeBadRequest)
	if e.auditCount() != before || e.storedUser("admin1").FailedLogins != 0 {
		t.Fatal("a refused text field changed the records")
	}
	// Right at the limits is fine.
	r = e.api(nil, tok, "POST", "/users", wire.CreateUserRequest{LoginID: strings.Repeat("b", wire.MaxLoginIDInCertificate), Role: wire.RoleGeneral,
		DisplayName: strings.Repeat("山", 100), Email: strings.Repeat("a", 242) + "@example.jp", Password: "Ippan-Pass-2026"})
	want(t, "every field at its limit", r, http.StatusCreated, "")
}

func TestLoginIDsDifferingOnlyInCaseAreOneID(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	other, err := e.op.CreateContract(e.ctx, "Other KK")
	if err != nil {
		t.Fatal(err)
	}
	err = e.op.CreateUser(e.ctx, other, "ADMIN1", wire.RoleAdmin, "", "", pw("admin1"))
	if code, _ := lifecycleCode(err); code != wire.CodeAlreadyExists {
		t.Fatalf("ADMIN1 beside admin1: %v", err)
	}
	res := e.mustLogin(nil, "Admin1", pw("admin1")) // found whatever the case it is typed in
	if res.User.LoginID != "admin1" {
		t.Fatalf("logged in as %q, want the ID as created", res.User.LoginID)
	}
	want(t, "the session of a login typed in another case", e.api(nil, res.Token, "GET", "/users", nil), http.StatusOK, "")
	id := e.pickup("ADMIN1", pw("admin1"))
	if s, _ := wire.SubjectOf(id.cert); s.LoginID != "admin1" {
		t.Fatalf("the certificate names %q", s.LoginID)
	}
	if err := e.op.RevokeCertificate(e.ctx, "aDmIn1"); err != nil {
		t.Fatalf("revoke by the ID in another case: %v", err)
	}
}

func TestAdminCannotEnumerateOtherCompaniesLoginIDs(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	theirs := e.contract("Other KK", "kanri-b")
	e.user(theirs, "ippan-b", wire.RoleGeneral)
	tok := e.mustLogin(nil, "admin1", pw("admin1")).Token
	create := func(id string) reply {
		return e.api(nil, tok, "POST", "/users", wire.CreateUserRequest{LoginID: id, Role: wire.RoleGeneral, Password: "Ippan-Pass-2026"})
	}
	own := create("admin1")
	foreign := create("IPPAN-B")
	want(t, "an ID of the admin's own contract", own, http.StatusConflict, wire.CodeAlreadyExists)
	want(t, "an ID of another company, in another case", foreign, http.StatusConflict, wire.CodeAlreadyExists)
	if !bytes.Equal(own.body, foreign.body) {
		t.Fatalf("the taken answers differ: %s / %s", own.body, foreign.body)
	}
	for i := 2; i < takenIDBurst; i++ {
		want(t, "a guess", create("guess"+strings.Repeat("x", i)+"-b"), http.StatusCreated, "")
		want(t, "a taken guess", create("kanri-b"), http.StatusConflict, wire.CodeAlreadyExists)
	}
	r := create("kanri-b")
	want(t, "one taken answer beyond the limit", r, http.StatusTooManyRequests, wire.CodeRateLimited)
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	var asked []string
	err := e.srv.db.View(e.ctx, func(tx store.Tx) error {
		rows, err := tx.Audit(1000)
		for _, a := range rows {
			if a.Action == "user.create.taken" && a.Actor == "admin1" {
				asked = append(asked, a.Target)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != takenIDBurst {
		t.Fatalf("%d taken answers audited, want %d: %v", len(asked), takenIDBurst, asked)
	}
	e.clock.Advance(takenIDEvery)
	want(t, "after the wait", create("ippan-a2"), http.StatusCreated, "")
}

func TestCertificateForgedWithVictimSerialCannotLogInOnTheWebPage(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	victim := e.pickup("admin1", pw("admin1"))
	forged := e.browser(e.forgeWithIssuingKey(victim))
	if p := forged.get("/web/certificate"); p.status != http.StatusUnauthorized || p.code != wire.CodeUnknownIssuer {
		t.Fatalf("the web password page for the forgery: %d %s", p.status, p.code)
	}
	if p := e.browser(victim).logIn(t, pw("admin1")); p.status >= 400 {
		t.Fatalf("the victim's own web login: %d %s", p.status, p.code)
	}
}
