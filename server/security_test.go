package server

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/inkan-dev/inkan/server/ca"
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
