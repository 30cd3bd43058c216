package server

import (
	"net/http"
	"testing"

	"github.com/inkan-dev/inkan/wire"
)

// TestUsersChangeTheirOwnPassword: POST /api/v1/password, for any role. The
// current password must be right (a wrong one counts like a wrong login
// password), the new one meets the policy; every session of the ID ends, the
// caller's included; one audit row; refusals change nothing.
func TestUsersChangeTheirOwnPassword(t *testing.T) {
	e := newEnv(t)
	e.contract("Yamada Trading", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	tok := e.mustLogin(admin, "", pw("admin1")).Token
	req := wire.CreateUserRequest{LoginID: "general1", Role: wire.RoleGeneral, Password: pw("general1"), IssueCertificate: true}
	want(t, "create general1", e.api(admin, tok, "POST", "/users", req), http.StatusCreated, "")
	general := e.pickup("general1", pw("general1"))
	gtok := e.mustLogin(general, "", pw("general1")).Token
	other := e.mustLogin(general, "", pw("general1")).Token // the same ID on another PC
	const fresh = "Atarashii-Pass-2026"

	before, hash := e.auditCount(), e.storedUser("general1").PasswordHash
	for _, c := range []struct {
		what   string
		token  string
		body   any
		status int
		code   wire.Code
	}{
		{"without a session", "", wire.ChangePasswordRequest{CurrentPassword: pw("general1"), NewPassword: fresh}, http.StatusUnauthorized, wire.CodeUnauthenticated},
		{"a weak new password", gtok, wire.ChangePasswordRequest{CurrentPassword: pw("general1"), NewPassword: "password1"}, http.StatusBadRequest, wire.CodeWeakPassword},
		{"the login ID as the new password", gtok, wire.ChangePasswordRequest{CurrentPassword: pw("general1"), NewPassword: "General1"}, http.StatusBadRequest, wire.CodeWeakPassword},
		{"no body", gtok, nil, http.StatusUnsupportedMediaType, wire.CodeUnsupportedMedia},
		{"a wrong current password", gtok, wire.ChangePasswordRequest{CurrentPassword: "Wrong-Pass-2026", NewPassword: fresh}, http.StatusUnauthorized, wire.CodeInvalidCredentials},
	} {
		want(t, "change "+c.what, e.api(general, c.token, "POST", "/password", c.body), c.status, c.code)
	}
	u := e.storedUser("general1")
	if u.PasswordHash != hash || u.FailedLogins != 1 {
		t.Fatalf("after the refusals: password changed %v, %d failed attempts counted, want unchanged and 1 (the wrong current password)", u.PasswordHash != hash, u.FailedLogins)
	}
	if n := e.auditCount() - before; n != 0 {
		t.Fatalf("the refusals wrote %d audit rows", n)
	}

	want(t, "general1 changes its password", e.api(general, gtok, "POST", "/password", wire.ChangePasswordRequest{CurrentPassword: pw("general1"), NewPassword: fresh}), http.StatusNoContent, "")
	a := e.lastAudit()
	if e.auditCount() != before+1 || a.Action != "user.change_password" || a.Actor != "general1" || a.Target != "general1" || a.RemoteAddr == "" {
		t.Fatalf("audit after the change: %d rows more, last %+v", e.auditCount()-before, a)
	}
	if u := e.storedUser("general1"); u.FailedLogins != 0 {
		t.Fatalf("the right current password left %d failed attempts", u.FailedLogins)
	}
	want(t, "the caller's session after the change", e.api(general, gtok, "GET", "/users", nil), http.StatusUnauthorized, wire.CodeUnauthenticated)
	want(t, "the ID's other session after the change", e.api(general, other, "GET", "/users", nil), http.StatusUnauthorized, wire.CodeUnauthenticated)
	_, r := e.login(general, "", pw("general1"))
	want(t, "the old password", r, http.StatusUnauthorized, wire.CodeInvalidCredentials)
	e.mustLogin(general, "", fresh)

	// An admin changes its own password the same way (its reset is the bank's).
	want(t, "admin1 changes its own password", e.api(admin, tok, "POST", "/password", wire.ChangePasswordRequest{CurrentPassword: pw("admin1"), NewPassword: fresh}), http.StatusNoContent, "")
	e.mustLogin(admin, "", fresh)
}
