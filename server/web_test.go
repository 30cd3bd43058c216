package server

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/web"
	"github.com/inkan-dev/inkan/wire"
)

// browser is a cookie-keeping HTTPS client presenting one certificate, like a
// browser profile with that certificate chosen.
type browser struct {
	e    *env
	c    *http.Client
	jar  *cookiejar.Jar
	lang string
}

func (e *env) browser(id *identity) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c := e.client(id.tls())
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{e: e, c: c, jar: jar}
}

// page is an answer of the web pages.
type page struct {
	status int
	code   wire.Code
	body   string
	header http.Header
}

func (b *browser) send(req *http.Request) page {
	b.e.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, code: wire.Code(resp.Header.Get(wire.CodeHeader)), body: string(body), header: resp.Header}
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, _ := http.NewRequest("GET", b.e.url+path, nil)
	return b.send(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	req, _ := http.NewRequest("POST", b.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.send(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF field in the page: %s", p.body)
	}
	return m[1]
}

// logIn opens the password page and sends password, as a person would.
func (b *browser) logIn(t *testing.T, password string) page {
	t.Helper()
	p := b.get("/web/certificate")
	if p.status != http.StatusOK {
		t.Fatalf("password page: %d %s %s", p.status, p.code, p.body)
	}
	return b.post("/web/login", url.Values{"csrf": {csrfOf(t, p)}, "password": {password}})
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.e.url)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestWebLoginPageIsJapaneseFirstAndEnglishByAcceptLanguageOrSwitch(t *testing.T) {
	e := newEnv(t)
	b := e.browser(nil)
	p := b.get("/web/")
	if p.status != 200 || !strings.Contains(p.body, "電子証明書ログイン") || !strings.Contains(p.body, `lang="ja"`) {
		t.Fatalf("Japanese login page: %d %s", p.status, p.body)
	}
	b.lang = "en-US,en;q=0.9,ja;q=0.5"
	if p := b.get("/web/"); !strings.Contains(p.body, "Certificate login") || !strings.Contains(p.body, `lang="en"`) {
		t.Fatalf("English by Accept-Language: %s", p.body)
	}
	b.lang = "fr"
	if p := b.get("/web/"); !strings.Contains(p.body, "電子証明書ログイン") {
		t.Fatalf("an unknown language gets Japanese: %s", p.body)
	}
	if p := b.get("/web/?lang=en"); !strings.Contains(p.body, "Certificate login") {
		t.Fatalf("switch to English: %s", p.body)
	}
	if p := b.get("/web/"); !strings.Contains(p.body, "Certificate login") {
		t.Fatalf("the switch is remembered: %s", p.body)
	}
	if p := b.get("/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/web/" {
		t.Fatalf("/ leads to the login page: %d %v", p.status, p.header)
	}
}

func TestWebPagesSetTheSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.browser(nil)
	for _, path := range []string{"/web/", "/web/certificate", "/web/home", "/web/nope"} {
		h := b.get(path).header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q allows script", path, csp)
		}
		if !strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("%s: HSTS %q", path, h.Get("Strict-Transport-Security"))
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
	if p := b.get("/web/"); strings.Contains(p.body, "<script") || strings.Contains(p.body, " style=") {
		t.Errorf("the login page has inline script or style: %s", p.body)
	}
}

func TestWebTLSCertificateRequestNamesTheIssuingCA(t *testing.T) {
	e := newEnv(t)
	var got [][]byte
	cfg := &tls.Config{RootCAs: e.roots, GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		got = cri.AcceptableCAs
		return &tls.Certificate{}, nil
	}}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}, Timeout: 10 * time.Second}
	resp, err := c.Get(e.url + "/web/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got) != 1 || !bytes.Equal(got[0], e.srv.ca.Issuing.RawSubject) {
		t.Fatalf("certificate_authorities = %q, want only the issuing CA %q", got, e.srv.ca.Issuing.Subject)
	}
}

func TestWebLoginOpensASessionCookieThatIsSecureHttpOnlyStrictAndShowsLoggedIn(t *testing.T) {
	e := newEnv(t)
	e.contract("Yamada Trading", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	b := e.browser(admin)

	p := b.get("/web/certificate")
	if p.status != 200 || !strings.Contains(p.body, "admin1+1376") || !strings.Contains(p.body, "ログインパスワード") {
		t.Fatalf("password page: %d %s", p.status, p.body)
	}
	csrf := b.cookie(web.CSRFCookie)
	if csrf == nil {
		t.Fatal("no CSRF cookie")
	}
	p = b.post("/web/login", url.Values{"csrf": {csrfOf(t, p)}, "password": {pw("admin1")}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/web/home" {
		t.Fatalf("login: %d %s %s", p.status, p.code, p.body)
	}
	var set *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == web.SessionCookie {
			set = c
		}
	}
	if set == nil || !set.Secure || !set.HttpOnly || set.SameSite != http.SameSiteStrictMode || set.Path != "/" || set.MaxAge <= 0 || set.MaxAge > 30*60 {
		t.Fatalf("session cookie %+v: want Secure, HttpOnly, SameSite=Strict, Path=/, expiring with the 30-minute session", set)
	}
	home := b.get("/web/home")
	for _, want := range []string{"ログイン中", "admin1", "Yamada Trading", "管理者ID", "今回が初めてのログインです", "重要なお知らせ", "ログアウト"} {
		if !strings.Contains(home.body, want) {
			t.Errorf("ログイン中 page lacks %q:\n%s", want, home.body)
		}
	}

	// Log out, then log in again a day later: the page shows the previous login.
	if p := b.post("/web/logout", url.Values{"csrf": {csrfOf(t, home)}}); p.status != http.StatusSeeOther {
		t.Fatalf("logout: %d %s", p.status, p.body)
	}
	if p := b.get("/web/home"); p.status != http.StatusSeeOther {
		t.Fatalf("after logout the ログイン中 page is gone: %d", p.status)
	}
	e.clock.Advance(day)
	if p := b.logIn(t, pw("admin1")); p.status != http.StatusSeeOther {
		t.Fatalf("second login: %d %s", p.status, p.body)
	}
	if home := b.get("/web/home"); !strings.Contains(home.body, "2026年4月1日 18:00") {
		t.Errorf("previous login (2026-04-01 09:00 UTC = 18:00 JST) missing:\n%s", home.body)
	}
}

func TestWebLoginWithoutTheCSRFTokenOrFromAnotherSiteIsRefused(t *testing.T) {
	e := newEnv(t)
	e.contract("Yamada Trading", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	b := e.browser(admin)
	b.get("/web/certificate") // sets the CSRF cookie
	audits := e.auditCount()
	if p := b.post("/web/login", url.Values{"password": {pw("admin1")}}); p.status != http.StatusForbidden || !strings.Contains(p.body, "受け付けられませんでした") {
		t.Fatalf("no token: %d %s", p.status, p.body)
	}
	if p := b.post("/web/login", url.Values{"csrf": {"forged-forged-forged-forged-forged-forged-fo"}, "password": {pw("admin1")}}); p.status != http.StatusForbidden {
		t.Fatalf("wrong token: %d %s", p.status, p.body)
	}
	req, _ := http.NewRequest("POST", e.url+"/web/login", strings.NewReader(url.Values{"csrf": {b.cookie(web.CSRFCookie).Value}, "password": {pw("admin1")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if p := b.send(req); p.status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d %s", p.status, p.body)
	}
	if e.auditCount() != audits || b.cookie(web.SessionCookie) != nil {
		t.Fatal("a refused form opened a session")
	}
}

func TestWebWrongPasswordNoCertificateAndForeignCertificateGetTheirPages(t *testing.T) {
	e := newEnv(t)
	e.contract("Yamada Trading", "admin1")
	admin := e.pickup("admin1", pw("admin1"))

	p := e.browser(admin).logIn(t, "wrong")
	if p.status != http.StatusUnauthorized || p.code != wire.CodeInvalidCredentials || !strings.Contains(p.body, `name="password"`) ||
		!strings.Contains(p.body, wire.CodeInvalidCredentials.Message("ja")) {
		t.Fatalf("wrong password: %d %s %s", p.status, p.code, p.body)
	}
	if p := e.browser(nil).get("/web/certificate"); p.status != http.StatusUnauthorized || p.code != wire.CodeClientCertRequired ||
		!strings.Contains(p.body, "電子証明書が送信されませんでした") {
		t.Fatalf("no certificate: %d %s %s", p.status, p.code, p.body)
	}
	foreign := e.browser(foreignIdentity(t, "admin1"))
	foreign.lang = "en"
	if p := foreign.get("/web/certificate"); p.status != http.StatusUnauthorized || p.code != wire.CodeUnknownIssuer ||
		!strings.Contains(p.body, wire.CodeUnknownIssuer.Message("en")) {
		t.Fatalf("foreign certificate: %d %s %s", p.status, p.code, p.body)
	}
}

func TestWebSessionEndsAtOnceWhenItsCertificateIsRevokedOrReplaced(t *testing.T) {
	e := newEnv(t)
	e.contract("Yamada Trading", "admin1")
	e.user(mustContractOf(t, e, "admin1"), "gen1", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1"))
	gen := e.pickup("gen1", pw("gen1"))

	b := e.browser(gen)
	if p := b.logIn(t, pw("gen1")); p.status != http.StatusSeeOther {
		t.Fatalf("login: %d %s", p.status, p.body)
	}
	if p := b.get("/web/home"); p.status != 200 || !strings.Contains(p.body, "一般者ID") {
		t.Fatalf("ログイン中: %d %s", p.status, p.body)
	}
	if err := e.op.RevokeCertificate(e.ctx, "gen1"); err != nil {
		t.Fatal(err)
	}
	p := b.get("/web/home")
	if p.status != http.StatusForbidden || p.code != wire.CodeCertificateRevoked || !strings.Contains(p.body, "失効") {
		t.Fatalf("after revoke: %d %s %s", p.status, p.code, p.body)
	}
	if b.cookie(web.SessionCookie) != nil {
		t.Fatal("the session cookie outlived the revocation")
	}

	// Renewal supersedes the admin's certificate: its browser session ends too,
	// and the new certificate logs in again.
	ab := e.browser(admin)
	if p := ab.logIn(t, pw("admin1")); p.status != http.StatusSeeOther {
		t.Fatalf("admin login: %d %s", p.status, p.body)
	}
	e.clock.Advance(340 * day) // 25 days before expiry: the renewal window is open
	if p := ab.get("/web/home"); p.code != wire.CodeUnauthenticated {
		t.Fatalf("the 30-minute session outlived its server-side expiry: %d %s", p.status, p.code)
	}
	if p := ab.logIn(t, pw("admin1")); p.status != http.StatusSeeOther {
		t.Fatalf("admin login in the renewal window: %d %s", p.status, p.body)
	}
	if p := ab.get("/web/home"); !strings.Contains(p.body, "電子証明書の有効期限まで残り25日です") {
		t.Fatalf("no renewal notice 25 days before expiry:\n%s", p.body)
	}
	renewed := e.renew(admin)
	if p := ab.get("/web/home"); p.code != wire.CodeCertificateReplaced {
		t.Fatalf("after renewal the old certificate's session: %d %s", p.status, p.code)
	}
	if p := e.browser(renewed).logIn(t, pw("admin1")); p.status != http.StatusSeeOther {
		t.Fatalf("renewed certificate login: %d %s", p.status, p.body)
	}
}

// mustContractOf is the contract of loginID.
func mustContractOf(t *testing.T, e *env, loginID string) string {
	t.Helper()
	u, err := e.op.User(e.ctx, loginID)
	if err != nil {
		t.Fatal(err)
	}
	return u.ContractID
}

func TestPolicyTellsAgentsWhetherTheBankAllowsSilentRenewal(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  *bool
		want bool
	}{{"default", nil, true}, {"off", new(bool), false}} {
		e := newEnv(t, func(c *Config) { c.Policy.AutoRenew = tc.set })
		r := e.do(e.client(nil), e.request("GET", "/api/v1/policy", "", nil))
		var p wire.Policy
		if r.status != 200 || json.Unmarshal(r.body, &p) != nil || p.AutoRenew != tc.want || p.RenewBeforeDays != 30 {
			t.Errorf("%s: %d %s", tc.name, r.status, r.body)
		}
	}
}

func TestWebLoginLocksTheIDAfterFiveWrongPasswordsLikeTheJSONLogin(t *testing.T) {
	e := newEnv(t)
	e.contract("Yamada Trading", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	b := e.browser(admin)
	for i := range 5 {
		if p := b.logIn(t, "wrong"); p.code != wire.CodeInvalidCredentials {
			t.Fatalf("wrong password %d: %d %s", i+1, p.status, p.code)
		}
	}
	p := b.logIn(t, pw("admin1"))
	if p.status != http.StatusForbidden || p.code != wire.CodeLocked || !strings.Contains(p.body, "ロックされています") {
		t.Fatalf("the right password on a locked ID: %d %s %s", p.status, p.code, p.body)
	}
	if _, r := e.login(admin, "", pw("admin1")); r.code != wire.CodeLocked {
		t.Fatalf("the JSON login does not see the lock the pages set: %d %s", r.status, r.code)
	}
}

func TestWebLoggedInPageInEnglish(t *testing.T) {
	e := newEnv(t)
	e.contract("Yamada Trading", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	b := e.browser(admin)
	b.lang = "en"
	if p := b.logIn(t, pw("admin1")); p.status != http.StatusSeeOther {
		t.Fatalf("login: %d %s", p.status, p.body)
	}
	e.clock.Advance(340 * day)
	b.logIn(t, pw("admin1"))
	home := b.get("/web/home")
	for _, want := range []string{"Logged in", "Administrator", "Previous login", "1 Apr 2026 18:00 JST", "Important notices", "expires in 25 days", "Log out"} {
		if !strings.Contains(home.body, want) {
			t.Errorf("English ログイン中 lacks %q:\n%s", want, home.body)
		}
	}
}
