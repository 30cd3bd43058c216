package server

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

// Tests named after the rules of DESIGN.md's life-cycle table.

func TestIssueOpensEightyDayPickupWindow(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	e.clock.Advance(80*day - time.Second)
	e.pickup("admin1", pw("admin1")) // the last second of the window
	e.clock.Advance(2 * time.Second)
	r := e.enroll("general1", pw("general1"), csrFor(t, newKey(t)))
	want(t, "pickup one second after the window", r, http.StatusForbidden, wire.CodePickupLapsed)
}

func TestIssueAgainSupersedesCurrentCertificate(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	old := e.pickup("admin1", pw("admin1"))
	if err := e.op.IssueCertificate(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	_, r := e.login(old, "", pw("admin1"))
	want(t, "login with the certificate issued before", r, http.StatusForbidden, wire.CodeCertificateReplaced)
	e.pickup("admin1", pw("admin1"))
}

func TestPickupNeedsLoginPassword(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	wrong := e.enroll("admin1", "wrong-password", csrFor(t, newKey(t)))
	want(t, "pickup with a wrong password", wrong, http.StatusUnauthorized, wire.CodeInvalidCredentials)
	req := e.request("POST", "/.well-known/est/simpleenroll", "application/pkcs10", []byte(base64.StdEncoding.EncodeToString(csrFor(t, newKey(t)))))
	noAuth := e.do(e.client(nil), req)
	want(t, "pickup without Basic auth", noAuth, http.StatusUnauthorized, wire.CodeInvalidCredentials)
	if !strings.HasPrefix(noAuth.header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("no Basic challenge: %v", noAuth.header)
	}
	e.pickup("admin1", pw("admin1"))
	again := e.enroll("admin1", pw("admin1"), csrFor(t, newKey(t)))
	want(t, "second pickup of the same issuance", again, http.StatusForbidden, wire.CodeNoPickupOpen)
}

func TestPickupSubjectAndExtensionsComeFromServerRecords(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	cert := e.pickup("admin1", pw("admin1")).cert
	s, err := wire.SubjectOf(cert)
	if err != nil {
		t.Fatal(err)
	}
	if s != (wire.Subject{LoginID: "admin1", Role: wire.RoleAdmin, ContractID: cid, ContractName: "Sato Shoji", BankCode: "1376"}) {
		t.Fatalf("subject %+v does not come from the records", s)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Fatalf("key usage %v, ext key usage %v", cert.KeyUsage, cert.ExtKeyUsage)
	}
	if cert.SerialNumber.BitLen() < 120 || cert.SerialNumber.BitLen() > 128 {
		t.Fatalf("serial has %d bits, want 128 random bits", cert.SerialNumber.BitLen())
	}
	base, id := e.srv.cfg.RevocationURL, e.srv.ca.Current().ID()
	if !strings.HasPrefix(base, "http://") || len(cert.OCSPServer) != 1 || cert.OCSPServer[0] != base+"/ocsp" ||
		len(cert.IssuingCertificateURL) != 1 || cert.IssuingCertificateURL[0] != base+"/ca/"+id+".crt" ||
		len(cert.CRLDistributionPoints) != 1 || cert.CRLDistributionPoints[0] != base+"/crl/"+id+".crl" {
		t.Fatalf("AIA %v %v, CDP %v", cert.OCSPServer, cert.IssuingCertificateURL, cert.CRLDistributionPoints)
	}
	if err := cert.CheckSignatureFrom(e.srv.ca.Issuing); err != nil {
		t.Fatal(err)
	}
}

func TestPickupLapseBlocksLoginUntilReissued(t *testing.T) {
	e := newEnv(t)
	cid, err := e.op.CreateContract(e.ctx, "Sato Shoji")
	if err != nil {
		t.Fatal(err)
	}
	// No admin certificate yet: the contract is still in ID/password mode.
	if err := e.op.CreateUser(e.ctx, cid, "admin1", wire.RoleAdmin, "", "", pw("admin1")); err != nil {
		t.Fatal(err)
	}
	e.user(cid, "general1", wire.RoleGeneral)
	e.mustLogin(nil, "general1", pw("general1"))
	e.clock.Advance(81 * day)
	_, r := e.login(nil, "general1", pw("general1"))
	want(t, "password login after the pickup window lapsed", r, http.StatusForbidden, wire.CodePickupLapsed)
	if err := e.op.ReissueCertificate(e.ctx, "general1"); err != nil {
		t.Fatal(err)
	}
	e.mustLogin(nil, "general1", pw("general1"))
}

func TestAdminPickupLapseBlocksWholeContract(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.clock.Advance(10 * day)
	e.user(cid, "general1", wire.RoleGeneral) // its own window runs to day 90
	e.contract("Other KK", "admin2")
	e.clock.Advance(70 * day)
	e.mustLogin(nil, "general1", pw("general1")) // day 80: the admin's window is still open
	e.clock.Advance(time.Second)
	_, r := e.login(nil, "general1", pw("general1"))
	want(t, "login of a general ID once the admin window lapsed", r, http.StatusForbidden, wire.CodeContractBlocked)
	r = e.enroll("general1", pw("general1"), csrFor(t, newKey(t)))
	want(t, "pickup of a general ID once the admin window lapsed", r, http.StatusForbidden, wire.CodeContractBlocked)
	e.mustLogin(nil, "admin2", pw("admin2")) // another contract is not affected
	// Only the operator's reissue of the admin certificate unblocks the contract.
	if err := e.op.ReissueCertificate(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	e.pickup("general1", pw("general1"))
	e.pickup("admin1", pw("admin1"))
}

func TestLoginNeedsCertificateAndPassword(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	_, r := e.login(admin, "", "wrong-password")
	want(t, "certificate with a wrong password", r, http.StatusUnauthorized, wire.CodeInvalidCredentials)
	res := e.mustLogin(admin, "admin1", pw("admin1"))
	if res.User.LastLoginAt != nil {
		t.Fatalf("last_login_at %v on the first login, want none", res.User.LastLoginAt)
	}
	first := e.clock.Now()
	e.clock.Advance(3 * time.Hour)
	res = e.mustLogin(admin, "admin1", pw("admin1"))
	if res.User.LastLoginAt == nil || !res.User.LastLoginAt.Equal(first) {
		t.Fatalf("last_login_at %v on the second login, want the first one, %v", res.User.LastLoginAt, first)
	}
	_, r = e.login(admin, "someone-else", pw("admin1"))
	want(t, "certificate with another login ID", r, http.StatusBadRequest, wire.CodeBadRequest)
}

func TestCertificateModeRefusesPasswordLogin(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	res := e.mustLogin(nil, "general1", pw("general1"))
	if res.CertificateMode {
		t.Fatal("certificate mode before the admin picked up")
	}
	e.pickup("admin1", pw("admin1"))
	for _, id := range []string{"admin1", "general1"} {
		_, r := e.login(nil, id, pw(id))
		want(t, "password login of "+id+" in certificate mode", r, http.StatusForbidden, wire.CodeCertificateRequired)
	}
	_, r := e.login(nil, "general1", "wrong-password")
	want(t, "wrong password in certificate mode", r, http.StatusUnauthorized, wire.CodeInvalidCredentials)
}

func TestLoginRefusesExpiredCertificate(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	e.clock.Set(admin.cert.NotAfter)
	e.mustLogin(admin, "", pw("admin1"))
	e.clock.Advance(time.Second)
	_, r := e.login(admin, "", pw("admin1"))
	want(t, "login one second after expiry", r, http.StatusForbidden, wire.CodeCertificateExpired)
}

func TestValidityIsOneYearFromPickup(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	e.clock.Advance(10 * day)
	cert := e.pickup("admin1", pw("admin1")).cert
	if got := cert.NotAfter.Sub(e.clock.Now()); got != 365*day {
		t.Fatalf("validity %v from pickup, want 365 days", got)
	}
}

func TestValidityFromIssuanceIsAPolicyOption(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Policy.ValidityFrom = "issuance" })
	e.contract("Sato Shoji", "admin1")
	issued := e.clock.Now()
	e.clock.Advance(10 * day)
	cert := e.pickup("admin1", pw("admin1")).cert
	if got := cert.NotAfter.Sub(issued); got != 365*day {
		t.Fatalf("validity %v from issuance, want 365 days", got)
	}
}

func TestRenewalOpensThirtyDaysBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	e.clock.Set(admin.cert.NotAfter.Add(-30*day - time.Second))
	want(t, "renewal one second before the window", e.reenroll(admin, newKey(t)), http.StatusForbidden, wire.CodeNotRenewableYet)
	e.clock.Advance(time.Second)
	e.renew(admin)
}

func TestRenewalClosesNinetyDaysAfterExpiry(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	e.clock.Set(admin.cert.NotAfter.Add(90*day + time.Second))
	want(t, "renewal one second after the window", e.reenroll(admin, newKey(t)), http.StatusForbidden, wire.CodeRenewalWindowClosed)
	e.clock.Advance(-time.Second)
	renewed := e.renew(admin) // an expired certificate still renews inside the window
	e.mustLogin(renewed, "", pw("admin1"))
}

func TestRenewalRequiresNewKey(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	e.clock.Set(admin.cert.NotAfter.Add(-day))
	want(t, "renewal with the same key", e.reenroll(admin, admin.key), http.StatusBadRequest, wire.CodeRenewalNeedsNewKey)
}

func TestRenewalSupersedesOldCertificate(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	old := e.pickup("admin1", pw("admin1"))
	e.clock.Set(old.cert.NotAfter.Add(-day))
	renewed := e.renew(old)
	if s, _ := wire.SubjectOf(renewed.cert); s.LoginID != "admin1" {
		t.Fatalf("renewed subject %+v", s)
	}
	if got := renewed.cert.NotAfter.Sub(e.clock.Now()); got != 365*day {
		t.Fatalf("renewed validity %v", got)
	}
	_, r := e.login(old, "", pw("admin1"))
	want(t, "login with the certificate renewed away", r, http.StatusForbidden, wire.CodeCertificateReplaced)
	want(t, "renewing the old certificate again", e.reenroll(old, newKey(t)), http.StatusForbidden, wire.CodeCertificateReplaced)
	e.mustLogin(renewed, "", pw("admin1"))
}

func TestRenewalNoticeFromThirtyDaysBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	e.clock.Set(admin.cert.NotAfter.Add(-30*day - time.Second))
	if res := e.mustLogin(admin, "", pw("admin1")); len(res.Notices) != 0 {
		t.Fatalf("notices before the window: %+v", res.Notices)
	}
	e.clock.Advance(time.Second)
	res := e.mustLogin(admin, "", pw("admin1"))
	if len(res.Notices) != 1 || res.Notices[0].Kind != wire.NoticeRenewalDue || res.Notices[0].Action != wire.ActionRenew || res.Notices[0].DaysLeft != 30 {
		t.Fatalf("notices 30 days before expiry: %+v", res.Notices)
	}
}

func TestRevokeIsImmediateAndKillsSessions(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	want(t, "list users", e.api(admin, tok, "GET", "/users", nil), http.StatusOK, "")
	if err := e.op.RevokeCertificate(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	want(t, "admin call on a session of a revoked certificate", e.api(admin, tok, "GET", "/users", nil), http.StatusForbidden, wire.CodeCertificateRevoked)
	_, r := e.login(admin, "", pw("admin1"))
	want(t, "login with a revoked certificate", r, http.StatusForbidden, wire.CodeCertificateRevoked)
	if err := e.op.RevokeCertificate(e.ctx, "admin1"); err == nil {
		t.Fatal("revoking twice succeeded")
	}
}

func TestDeletingUserRevokesItsCertificate(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1"))
	general := e.pickup("general1", pw("general1"))
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	want(t, "delete general1", e.api(admin, tok, "DELETE", "/users/general1", nil), http.StatusNoContent, "")
	_, r := e.login(general, "", pw("general1"))
	want(t, "login of a deleted ID", r, http.StatusForbidden, wire.CodeCertificateRevoked)
	want(t, "delete the admin itself", e.api(admin, tok, "DELETE", "/users/admin1", nil), http.StatusForbidden, wire.CodeForbidden)
}

func TestOnlyOperatorReissuesAdminCertificate(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	for _, path := range []string{"/users/admin1/certificate/reissue", "/users/admin1/certificate/revoke", "/users/admin1/certificate"} {
		want(t, "admin acting on its own admin certificate: "+path, e.api(admin, tok, "POST", path, nil), http.StatusForbidden, wire.CodeForbidden)
	}
	want(t, "admin creating another admin", e.api(admin, tok, "POST", "/users", wire.CreateUserRequest{LoginID: "admin9", Role: wire.RoleAdmin, Password: pw("admin9")}), http.StatusForbidden, wire.CodeForbidden)
	if err := e.op.ReissueCertificate(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
}

func TestApproverAndGeneralSessionsAreForbiddenAdminCalls(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "approver1", wire.RoleApprover)
	e.user(cid, "general1", wire.RoleGeneral)
	e.pickup("admin1", pw("admin1"))
	for _, id := range []string{"approver1", "general1"} {
		who := e.pickup(id, pw(id))
		tok := e.mustLogin(who, "", pw(id)).Token
		want(t, id+" listing users", e.api(who, tok, "GET", "/users", nil), http.StatusForbidden, wire.CodeForbidden)
		want(t, id+" revoking", e.api(who, tok, "POST", "/users/general1/certificate/revoke", nil), http.StatusForbidden, wire.CodeForbidden)
	}
}

func TestUserOfAnotherContractIsNotFound(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	other := e.contract("Other KK", "admin2")
	e.user(other, "general2", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1"))
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	want(t, "revoke in another contract", e.api(admin, tok, "POST", "/users/general2/certificate/revoke", nil), http.StatusNotFound, wire.CodeNotFound)
	want(t, "delete in another contract", e.api(admin, tok, "DELETE", "/users/general2", nil), http.StatusNotFound, wire.CodeNotFound)
	r := e.api(admin, tok, "GET", "/users", nil)
	if bytes.Contains(r.body, []byte("general2")) {
		t.Fatal("the user list shows another contract's ID")
	}
}

func TestSessionIsBoundToItsCertificate(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1"))
	general := e.pickup("general1", pw("general1"))
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	want(t, "the session without the certificate", e.api(nil, tok, "GET", "/users", nil), http.StatusUnauthorized, wire.CodeClientCertRequired)
	want(t, "the session with another certificate", e.api(general, tok, "GET", "/users", nil), http.StatusUnauthorized, wire.CodeUnauthenticated)
	want(t, "no session", e.api(admin, "", "GET", "/users", nil), http.StatusUnauthorized, wire.CodeUnauthenticated)
	e.clock.Advance(31 * time.Minute)
	want(t, "an expired session", e.api(admin, tok, "GET", "/users", nil), http.StatusUnauthorized, wire.CodeUnauthenticated)
	tok = e.mustLogin(admin, "", pw("admin1")).Token
	want(t, "logout", e.api(admin, tok, "POST", "/logout", nil), http.StatusNoContent, "")
	want(t, "after logout", e.api(admin, tok, "GET", "/users", nil), http.StatusUnauthorized, wire.CodeUnauthenticated)
}

func TestLockoutAfterFiveWrongPasswords(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	for i := 0; i < 4; i++ {
		e.login(nil, "admin1", "wrong-password")
	}
	e.mustLogin(nil, "admin1", pw("admin1")) // a right password resets the count
	for i := 0; i < 5; i++ {
		_, r := e.login(nil, "admin1", "wrong-password")
		want(t, "wrong password", r, http.StatusUnauthorized, wire.CodeInvalidCredentials)
	}
	_, r := e.login(nil, "admin1", pw("admin1"))
	want(t, "right password after five wrong ones", r, http.StatusForbidden, wire.CodeLocked)
	want(t, "pickup while locked", e.enroll("admin1", pw("admin1"), csrFor(t, newKey(t))), http.StatusForbidden, wire.CodeLocked)
	if err := e.op.UnlockUser(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	e.mustLogin(nil, "admin1", pw("admin1"))
}

func TestUnknownIDAnswersLikeWrongPassword(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	same := func(what string, a, b reply) {
		t.Helper()
		if a.status != b.status || a.code != b.code || !bytes.Equal(a.body, b.body) {
			t.Fatalf("%s: wrong password answers %d %s %s, unknown ID %d %s %s", what, a.status, a.code, a.body, b.status, b.code, b.body)
		}
	}
	check := func(state string) {
		t.Helper()
		_, wrong := e.login(nil, "admin1", "wrong-password")
		_, unknown := e.login(nil, "nobody", "wrong-password")
		same("login, "+state, wrong, unknown)
		want(t, "wrong password, "+state, wrong, http.StatusUnauthorized, wire.CodeInvalidCredentials)
		estWrong := e.enroll("admin1", "wrong-password", csrFor(t, newKey(t)))
		estUnknown := e.enroll("nobody", "wrong-password", csrFor(t, newKey(t)))
		same("EST, "+state, estWrong, estUnknown)
		if estWrong.header.Get("WWW-Authenticate") != estUnknown.header.Get("WWW-Authenticate") {
			t.Fatalf("EST, %s: challenges differ", state)
		}
	}
	check("not locked")
	for i := 0; i < 5; i++ {
		e.login(nil, "admin1", "wrong-password")
	}
	check("locked")
	_, r := e.login(nil, "admin1", pw("admin1"))
	want(t, "right password on the locked ID", r, http.StatusForbidden, wire.CodeLocked)
}

func TestParallelWrongPasswordsLockAfterMaxChecks(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits.WrongPasswordBurst, c.Limits.PasswordChecks = 100, 64 })
	e.contract("Sato Shoji", "admin1")
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			r := e.enroll("admin1", "wrong-password", csrFor(t, newKey(t)))
			if r.status != http.StatusUnauthorized || r.code != wire.CodeInvalidCredentials {
				t.Errorf("wrong password: %d %s", r.status, r.code)
			}
		})
	}
	wg.Wait()
	u := e.storedUser("admin1")
	if !u.Locked || u.FailedLogins != 5 {
		t.Fatalf("after 40 parallel wrong passwords: locked %v with %d failures counted, want locked with 5", u.Locked, u.FailedLogins)
	}
	want(t, "the right password afterwards", e.enroll("admin1", pw("admin1"), csrFor(t, newKey(t))), http.StatusForbidden, wire.CodeLocked)
}

func TestLoginIDsAreUniqueServerWide(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	other, err := e.op.CreateContract(e.ctx, "Other KK")
	if err != nil {
		t.Fatal(err)
	}
	err = e.op.CreateUser(e.ctx, other, "admin1", wire.RoleAdmin, "", "", pw("admin1"))
	if code, _ := codeOf(err); code != wire.CodeAlreadyExists {
		t.Fatalf("second admin1 in another contract: %v", err)
	}
}

func TestAdminListsUsersWithCertificateState(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "approver1", wire.RoleApprover)
	e.user(cid, "general1", wire.RoleGeneral)
	if err := e.op.CreateUser(e.ctx, cid, "general2", wire.RoleGeneral, "", "", pw("general2")); err != nil {
		t.Fatal(err)
	}
	e.user(e.contract("Other KK", "admin2"), "general3", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1"))
	e.pickup("approver1", pw("approver1"))
	if err := e.op.RevokeCertificate(e.ctx, "approver1"); err != nil {
		t.Fatal(err)
	}
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	r := e.api(admin, tok, "GET", "/users", nil)
	want(t, "list users", r, http.StatusOK, "")
	var list wire.UserList
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	type row struct {
		role  wire.Role
		state wire.CertState
	}
	got := map[string]row{}
	for _, u := range list.Users {
		if u.ContractID != cid || u.ContractName != "Sato Shoji" {
			t.Fatalf("%s of contract %s %q in the list", u.LoginID, u.ContractID, u.ContractName)
		}
		got[u.LoginID] = row{u.Role, u.Certificate.State}
	}
	wantRows := map[string]row{
		"admin1":    {wire.RoleAdmin, wire.CertActive},
		"approver1": {wire.RoleApprover, wire.CertRevoked},
		"general1":  {wire.RoleGeneral, wire.CertAwaitingPickup},
		"general2":  {wire.RoleGeneral, wire.CertNone},
	}
	if len(got) != len(wantRows) {
		t.Fatalf("listed %v, want %v", got, wantRows)
	}
	for id, w := range wantRows {
		if got[id] != w {
			t.Fatalf("%s listed as %+v, want %+v", id, got[id], w)
		}
	}
}

// codeOf reads the wire code out of an in-process error.
func codeOf(err error) (wire.Code, string) {
	if err == nil {
		return "", ""
	}
	return lifecycleCode(err)
}

func TestPasswordSessionEndsWhenContractSwitchesToCertificateMode(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	tok := e.mustLogin(nil, "admin1", pw("admin1")).Token
	want(t, "password-only session before certificate mode", e.api(nil, tok, "GET", "/users", nil), http.StatusOK, "")
	admin := e.pickup("admin1", pw("admin1"))
	for _, id := range []*identity{nil, admin} {
		r := e.api(id, tok, "POST", "/users", wire.CreateUserRequest{LoginID: "general9", Role: wire.RoleGeneral, Password: pw("general9")})
		want(t, "creating a user with the password-only session in certificate mode", r, http.StatusForbidden, wire.CodeCertificateRequired)
	}
	if _, err := e.op.User(e.ctx, "general9"); err == nil {
		t.Fatal("the password-only session created a user in certificate mode")
	}
	tok = e.mustLogin(admin, "", pw("admin1")).Token
	want(t, "certificate session", e.api(admin, tok, "GET", "/users", nil), http.StatusOK, "")
}

func TestSessionsEndOnPasswordChangeAndOnLock(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	if err := e.op.SetPassword(e.ctx, "admin1", "new-password-1"); err != nil {
		t.Fatal(err)
	}
	want(t, "session after a password change", e.api(admin, tok, "GET", "/users", nil), http.StatusUnauthorized, wire.CodeUnauthenticated)
	tok = e.mustLogin(admin, "", "new-password-1").Token
	for range 5 {
		e.login(admin, "", "wrong-password")
	}
	if err := e.op.UnlockUser(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	want(t, "session opened before the lock, after the unlock", e.api(admin, tok, "GET", "/users", nil), http.StatusUnauthorized, wire.CodeUnauthenticated)
}

func TestRevokingALapsedAdminWindowKeepsTheContractBlocked(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.clock.Advance(10 * day)
	e.user(cid, "general1", wire.RoleGeneral) // its own window runs to day 90
	e.clock.Advance(71 * day)
	_, r := e.login(nil, "general1", pw("general1"))
	want(t, "login once the admin window lapsed", r, http.StatusForbidden, wire.CodeContractBlocked)
	if err := e.op.RevokeCertificate(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	_, r = e.login(nil, "general1", pw("general1"))
	want(t, "login after the operator revoked the lapsed admin window", r, http.StatusForbidden, wire.CodeContractBlocked)
	if err := e.op.ReissueCertificate(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	e.mustLogin(nil, "general1", pw("general1"))
}

func TestLockedIDCannotRenew(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	e.clock.Set(admin.cert.NotAfter.Add(-day))
	for range 5 {
		e.login(admin, "", "wrong-password")
	}
	want(t, "renewal of a locked ID", e.reenroll(admin, newKey(t)), http.StatusForbidden, wire.CodeLocked)
	if err := e.op.UnlockUser(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	e.renew(admin)
}

func TestAdminUnlocksItsStaffButNotAnAdmin(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	other := e.contract("Other KK", "admin2")
	e.user(other, "general2", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1"))
	general := e.pickup("general1", pw("general1"))
	e.pickup("admin2", pw("admin2"))
	for range 5 {
		e.login(general, "", "wrong-password")
	}
	_, r := e.login(general, "", pw("general1"))
	want(t, "locked general1", r, http.StatusForbidden, wire.CodeLocked)
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	before := e.auditCount()
	r = e.api(admin, tok, "POST", "/users/general1/unlock", nil)
	want(t, "admin unlocks general1", r, http.StatusOK, "")
	var u wire.User
	if err := json.Unmarshal(r.body, &u); err != nil || u.LoginID != "general1" || u.Locked {
		t.Fatalf("unlock answered %s (%v)", r.body, err)
	}
	if e.auditCount() != before+1 {
		t.Fatal("the unlock left no audit row")
	}
	e.mustLogin(general, "", pw("general1"))
	r = e.api(admin, tok, "POST", "/users/admin1/unlock", nil)
	want(t, "admin unlocking an admin ID", r, http.StatusForbidden, wire.CodeForbidden)
	if !bytes.Contains(r.body, []byte("bank")) {
		t.Fatalf("refusal does not say the bank unlocks admin IDs: %s", r.body)
	}
	want(t, "unlock in another contract", e.api(admin, tok, "POST", "/users/general2/unlock", nil), http.StatusNotFound, wire.CodeNotFound)
	gtok := e.mustLogin(general, "", pw("general1")).Token
	want(t, "a general ID unlocking", e.api(general, gtok, "POST", "/users/general1/unlock", nil), http.StatusForbidden, wire.CodeForbidden)
}

func TestUserEmailMustBeABareAddress(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	for _, bad := range []string{"not an address", "Taro <taro@example.jp>", "taro@example.jp\r\nBcc: all@example.jp", "<taro@example.jp>", " taro@example.jp"} {
		r := e.api(admin, tok, "POST", "/users", wire.CreateUserRequest{LoginID: "general9", Role: wire.RoleGeneral, Email: bad, Password: pw("general9")})
		want(t, "create with e-mail "+bad, r, http.StatusBadRequest, wire.CodeBadRequest)
		if !bytes.Contains(r.body, []byte("e-mail address")) {
			t.Fatalf("refusal of %q does not say what is wrong: %s", bad, r.body)
		}
		err := e.op.CreateUser(e.ctx, cid, "general9", wire.RoleGeneral, "", bad, pw("general9"))
		if code, _ := codeOf(err); code != wire.CodeBadRequest {
			t.Fatalf("operator create with e-mail %q: %v", bad, err)
		}
	}
	r := e.api(admin, tok, "POST", "/users", wire.CreateUserRequest{LoginID: "general9", Role: wire.RoleGeneral, Email: "taro.yamada@example.co.jp", Password: pw("general9")})
	want(t, "create with a bare address", r, http.StatusCreated, "")
}

// lastAudit is the newest audit row.
func (e *env) lastAudit() store.AuditEntry {
	e.t.Helper()
	var rows []store.AuditEntry
	err := e.srv.db.View(e.ctx, func(tx store.Tx) error {
		var err error
		rows, err = tx.Audit(1)
		return err
	})
	if err != nil || len(rows) != 1 {
		e.t.Fatalf("audit: %v, %d rows", err, len(rows))
	}
	return rows[0]
}

func TestAdminResetsItsStaffsPasswordButNotAnAdmins(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	other := e.contract("Other KK", "admin2")
	e.user(other, "general2", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1"))
	general := e.pickup("general1", pw("general1"))
	e.pickup("admin2", pw("admin2"))
	gtok := e.mustLogin(general, "", pw("general1")).Token
	for range 5 {
		e.login(general, "", "wrong-password")
	}
	_, r := e.login(general, "", pw("general1"))
	want(t, "locked general1", r, http.StatusForbidden, wire.CodeLocked)
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	const fresh = "Shin-Pass-2026"

	// Every refusal changes nothing and writes no audit row.
	before, hash := e.auditCount(), e.storedUser("general1").PasswordHash
	refusals := []struct {
		what       string
		id         *identity
		token, who string
		body       any
		status     int
		code       wire.Code
	}{
		{"without a session", admin, "", "general1", wire.SetPasswordRequest{Password: fresh}, http.StatusUnauthorized, wire.CodeUnauthenticated},
		{"a weak password", admin, tok, "general1", wire.SetPasswordRequest{Password: "password1"}, http.StatusBadRequest, wire.CodeWeakPassword},
		{"the login ID as the password", admin, tok, "general1", wire.SetPasswordRequest{Password: "General1"}, http.StatusBadRequest, wire.CodeWeakPassword},
		{"no body", admin, tok, "general1", nil, http.StatusUnsupportedMediaType, wire.CodeUnsupportedMedia},
		{"an admin ID", admin, tok, "admin1", wire.SetPasswordRequest{Password: fresh}, http.StatusForbidden, wire.CodeForbidden},
		{"an ID of another contract", admin, tok, "general2", wire.SetPasswordRequest{Password: fresh}, http.StatusNotFound, wire.CodeNotFound},
		{"an unknown ID", admin, tok, "nobody", wire.SetPasswordRequest{Password: fresh}, http.StatusNotFound, wire.CodeNotFound},
	}
	for _, c := range refusals {
		r := e.api(c.id, c.token, "POST", "/users/"+c.who+"/password", c.body)
		want(t, "reset "+c.what, r, c.status, c.code)
		if c.what == "an admin ID" && !bytes.Contains(r.body, []byte("bank")) {
			t.Fatalf("refusal does not say the bank resets admin IDs: %s", r.body)
		}
	}
	if e.auditCount() != before || e.storedUser("general1").PasswordHash != hash || !e.storedUser("general1").Locked {
		t.Fatal("a refused reset changed the ID or wrote an audit row")
	}

	r = e.api(admin, tok, "POST", "/users/general1/password", wire.SetPasswordRequest{Password: fresh})
	want(t, "admin resets general1's password", r, http.StatusOK, "")
	var u wire.User
	if err := json.Unmarshal(r.body, &u); err != nil || u.LoginID != "general1" || u.Locked {
		t.Fatalf("reset answered %s (%v)", r.body, err)
	}
	if bytes.Contains(r.body, []byte(fresh)) {
		t.Fatal("the answer carries the new password")
	}
	a := e.lastAudit()
	if e.auditCount() != before+1 || a.Action != "user.set_password" || a.Actor != "admin1" || a.Target != "general1" || a.Detail != "unlocked" || a.RemoteAddr == "" {
		t.Fatalf("audit after the reset: %d rows more, last %+v", e.auditCount()-before, a)
	}
	want(t, "general1's session opened before the reset", e.api(general, gtok, "GET", "/users", nil), http.StatusUnauthorized, wire.CodeUnauthenticated)
	_, r = e.login(general, "", pw("general1"))
	want(t, "the old password", r, http.StatusUnauthorized, wire.CodeInvalidCredentials)
	e.mustLogin(general, "", fresh)

	// Not locked: the audit row says no lock was lifted.
	r = e.api(admin, tok, "POST", "/users/general1/password", wire.SetPasswordRequest{Password: "Mata-Pass-2026"})
	want(t, "second reset", r, http.StatusOK, "")
	if a := e.lastAudit(); a.Detail != "" {
		t.Fatalf("a reset of an unlocked ID audits %q", a.Detail)
	}
	gtok = e.mustLogin(general, "", "Mata-Pass-2026").Token
	want(t, "a general ID resetting", e.api(general, gtok, "POST", "/users/general1/password", wire.SetPasswordRequest{Password: fresh}), http.StatusForbidden, wire.CodeForbidden)
}

// TestUserListSaysWhileRenewalIsOpen: the admin's list marks a certificate
// renewable exactly while Renew would take it, at both ends of the window.
func TestUserListSaysWhileRenewalIsOpen(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	renewable := func() (wire.CertState, bool) {
		t.Helper()
		u, err := e.op.User(e.ctx, "admin1")
		if err != nil {
			t.Fatal(err)
		}
		return u.Certificate.State, u.Certificate.Renewable
	}
	notAfter := admin.cert.NotAfter
	for _, c := range []struct {
		at        time.Time
		state     wire.CertState
		renewable bool
	}{
		{notAfter.Add(-30*day - time.Second), wire.CertActive, false},
		{notAfter.Add(-30 * day), wire.CertActive, true},
		{notAfter, wire.CertActive, true},
		{notAfter.Add(time.Second), wire.CertExpired, true},
		{notAfter.Add(90 * day), wire.CertExpired, true},
		{notAfter.Add(90*day + time.Second), wire.CertExpired, false},
	} {
		e.clock.Set(c.at)
		if state, ok := renewable(); state != c.state || ok != c.renewable {
			t.Fatalf("%s from expiry: %s, renewable %v; want %s, %v", c.at.Sub(notAfter), state, ok, c.state, c.renewable)
		}
	}
}
