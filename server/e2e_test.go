package server

import (
	"crypto"
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/inkan-dev/inkan/wire"
)

// ocspStatus asks /ocsp (POST) about cert and returns good, revoked or unknown.
func (e *env) ocspStatus(id *identity) int {
	e.t.Helper()
	reqDER, err := ocsp.CreateRequest(id.cert, e.srv.ca.Issuing, &ocsp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.do(e.client(nil), e.request("POST", "/ocsp", "application/ocsp-request", reqDER))
	resp, err := ocsp.ParseResponseForCert(r.body, id.cert, e.srv.ca.Issuing)
	if err != nil {
		e.t.Fatalf("OCSP answer: %v", err)
	}
	return resp.Status
}

// TestEndToEndOverHTTPS walks the whole life cycle of a contract over real HTTPS.
func TestEndToEndOverHTTPS(t *testing.T) {
	e := newEnv(t)
	// The operator issues the admin certificate; the admin picks it up and logs in.
	e.contract("Yamada Trading", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	if s, err := wire.SubjectOf(admin.cert); err != nil || s.Role != wire.RoleAdmin || s.BankCode != "1376" {
		t.Fatalf("admin certificate subject %+v, %v", s, err)
	}
	session := e.mustLogin(admin, "", pw("admin1"))
	if !session.CertificateMode || session.User.Role != wire.RoleAdmin {
		t.Fatalf("admin login: %+v", session)
	}
	tok := session.Token

	// The admin creates and issues an approver and a general user; both pick up and log in.
	for _, u := range []wire.CreateUserRequest{
		{LoginID: "approver1", Role: wire.RoleApprover, Password: pw("approver1"), IssueCertificate: true},
		{LoginID: "general1", Role: wire.RoleGeneral, Password: pw("general1"), Email: "g1@example.jp"},
	} {
		r := e.api(admin, tok, "POST", "/users", u)
		want(t, "create "+u.LoginID, r, http.StatusCreated, "")
	}
	want(t, "issue general1", e.api(admin, tok, "POST", "/users/general1/certificate", nil), http.StatusOK, "")
	approver := e.pickup("approver1", pw("approver1"))
	general := e.pickup("general1", pw("general1"))
	e.mustLogin(approver, "", pw("approver1"))
	e.mustLogin(general, "", pw("general1"))
	if e.ocspStatus(general) != ocsp.Good {
		t.Fatal("OCSP does not say good for a picked-up certificate")
	}

	// Revoke: that login is refused and OCSP says revoked.
	want(t, "revoke general1", e.api(admin, tok, "POST", "/users/general1/certificate/revoke", nil), http.StatusOK, "")
	_, r := e.login(general, "", pw("general1"))
	want(t, "login with revoked certificate", r, http.StatusForbidden, wire.CodeCertificateRevoked)
	if e.ocspStatus(general) != ocsp.Revoked {
		t.Fatal("OCSP does not say revoked after revocation")
	}

	// Reissue, pick up again, log in.
	want(t, "reissue general1", e.api(admin, tok, "POST", "/users/general1/certificate/reissue", nil), http.StatusOK, "")
	general = e.pickup("general1", pw("general1"))
	e.mustLogin(general, "", pw("general1"))

	// Renewal inside the window works; outside it is refused.
	e.clock.Advance(340 * day) // 25 days before expiry of the approver's certificate
	approver = e.renew(approver)
	e.mustLogin(approver, "", pw("approver1"))
	e.clock.Advance(25*day + 91*day) // the admin's certificate: 91 days after expiry
	want(t, "renewal after the window", e.reenroll(admin, newKey(t)), http.StatusForbidden, wire.CodeRenewalWindowClosed)

	// The operator reissues the admin certificate and nobody picks it up in 80 days:
	// every ID of the contract is blocked.
	if err := e.op.ReissueCertificate(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(81 * day)
	_, r = e.login(approver, "", pw("approver1"))
	want(t, "approver login with the admin window lapsed", r, http.StatusForbidden, wire.CodeContractBlocked)
	want(t, "approver renewal with the admin window lapsed", e.reenroll(approver, newKey(t)), http.StatusForbidden, wire.CodeContractBlocked)
	want(t, "admin pickup after its window", e.enroll("admin1", pw("admin1"), csrFor(t, newKey(t))), http.StatusForbidden, wire.CodePickupLapsed)
}

// TestCSRAttrsRefusesALapsedPickupAsThePickupDoes: a pickup's csrattrs with
// HTTP Basic (the agent asks it before 電子証明書取得開始, and before it makes
// the key) answers a lapsed pickup window with the code simpleenroll gives, and
// only to the right password.
func TestCSRAttrsRefusesALapsedPickupAsThePickupDoes(t *testing.T) {
	e := newEnv(t)
	e.contract("Yamada Trading", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	req := wire.CreateUserRequest{LoginID: "general1", Role: wire.RoleGeneral, Password: pw("general1"), IssueCertificate: true}
	want(t, "create general1", e.api(admin, tok, "POST", "/users", req), http.StatusCreated, "")
	csrattrs := func(loginID, password string) reply {
		r := e.request("GET", "/.well-known/est/csrattrs", "", nil)
		r.SetBasicAuth(loginID, password)
		return e.do(e.client(nil), r)
	}
	want(t, "csrattrs inside the pickup window", csrattrs("general1", pw("general1")), http.StatusOK, "")

	e.clock.Advance(81 * day)
	enrolled := e.enroll("general1", pw("general1"), csrFor(t, newKey(t)))
	want(t, "pickup after the window", enrolled, http.StatusForbidden, wire.CodePickupLapsed)
	want(t, "csrattrs after the window", csrattrs("general1", pw("general1")), enrolled.status, enrolled.code)
	want(t, "csrattrs after the window, wrong password", csrattrs("general1", "wrong-Pass-2026"), http.StatusUnauthorized, wire.CodeInvalidCredentials)
	want(t, "csrattrs of an ID with a certificate", csrattrs("admin1", pw("admin1")), http.StatusOK, "")
}

// TestCACertsAndCRLAreServed checks the distribution endpoints answer what they say.
func TestCACertsAndCRLAreServed(t *testing.T) {
	e := newEnv(t)
	r := e.do(e.client(nil), e.request("GET", "/.well-known/est/cacerts", "", nil))
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/pkcs7-mime") {
		t.Fatalf("cacerts: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if got := e.parseCerts(r); !got.Equal(e.srv.ca.Issuing) {
		t.Fatal("cacerts does not start with the issuing CA")
	}
	resp, err := e.client(nil).Get(e.url + "/.well-known/est/csrattrs")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("csrattrs: %d %q", resp.StatusCode, body)
	}
}
