package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/wire"
)

// foreignIdentity is a certificate with the Inkan subject layout from a CA that
// is not the bank's.
func foreignIdentity(t *testing.T, loginID string) *identity {
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      wire.Subject{LoginID: loginID, Role: wire.RoleAdmin, ContractID: "1", ContractName: "x", BankCode: "1376"}.Name(),
		NotBefore:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &identity{key: key, cert: cert}
}

// TestBadInputIsRefusedWithCodeAndWritesNothing sends each kind of malformed
// request and checks the 4xx code, and that no record changed.
func TestBadInputIsRefusedWithCodeAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	e.clock.Set(admin.cert.NotAfter.Add(-day)) // inside the renewal window, so only the input is wrong
	tok := e.mustLogin(admin, "", pw("admin1")).Token

	goodCSR := csrFor(t, newKey(t))
	brokenSig := bytes.Clone(goodCSR)
	brokenSig[len(brokenSig)-3] ^= 0xff
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	weakCSR := csrFor(t, p224)
	b64 := func(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }
	enroll := func(ct string, body []byte) func() reply {
		return func() reply {
			req := e.request("POST", "/.well-known/est/simplereenroll", ct, body)
			return e.do(e.client(admin.tls()), req)
		}
	}
	pickup := func(body []byte) func() reply {
		return func() reply {
			req := e.request("POST", "/.well-known/est/simpleenroll", "application/pkcs10", body)
			req.SetBasicAuth("admin1", pw("admin1"))
			return e.do(e.client(nil), req)
		}
	}
	login := func(id *identity, ct string, body []byte) func() reply {
		return func() reply { return e.do(e.client(id.tls()), e.request("POST", "/api/v1/login", ct, body)) }
	}
	foreign := foreignIdentity(t, "admin1")
	cases := []struct {
		name   string
		send   func() reply
		status int
		code   wire.Code
	}{
		{"malformed base64", enroll("application/pkcs10", []byte("not base64 !!")), 400, wire.CodeBadRequest},
		{"empty body", enroll("application/pkcs10", nil), 400, wire.CodeBadRequest},
		{"base64 of something that is not DER", enroll("application/pkcs10", b64([]byte("hello"))), 400, wire.CodeBadCSR},
		{"a certificate instead of a CSR", enroll("application/pkcs10", b64(admin.cert.Raw)), 400, wire.CodeBadCSR},
		{"CSR with a broken self-signature", enroll("application/pkcs10", b64(brokenSig)), 400, wire.CodeBadCSR},
		{"CSR with a P-224 key", enroll("application/pkcs10", b64(weakCSR)), 400, wire.CodeKeyNotAllowed},
		{"pickup CSR with a broken self-signature", pickup(b64(brokenSig)), 400, wire.CodeBadCSR},
		{"wrong content type", enroll("text/plain", b64(goodCSR)), 415, wire.CodeUnsupportedMedia},
		{"no content type", enroll("", b64(goodCSR)), 415, wire.CodeUnsupportedMedia},
		{"body over the size limit", enroll("application/pkcs10", bytes.Repeat([]byte("A"), 70<<10)), 413, wire.CodeTooLarge},
		{"renewal without a client certificate", func() reply {
			return e.do(e.client(nil), e.request("POST", "/.well-known/est/simplereenroll", "application/pkcs10", b64(goodCSR)))
		}, 401, wire.CodeClientCertRequired},
		{"renewal with a certificate of another CA", func() reply {
			return e.do(e.client(foreign.tls()), e.request("POST", "/.well-known/est/simplereenroll", "application/pkcs10", b64(goodCSR)))
		}, 401, wire.CodeUnknownIssuer},
		{"login with a certificate of another CA", login(foreign, "application/json", []byte(`{"password":"pass-admin1"}`)), 401, wire.CodeUnknownIssuer},
		{"login with bad JSON", login(nil, "application/json", []byte(`{"login_id":`)), 400, wire.CodeBadRequest},
		{"login with a JSON array", login(nil, "application/json", []byte(`[1,2]`)), 400, wire.CodeBadRequest},
		{"login with a form body", login(nil, "application/x-www-form-urlencoded", []byte(`login_id=admin1`)), 415, wire.CodeUnsupportedMedia},
		{"login with a huge body", login(nil, "application/json", bytes.Repeat([]byte(" "), 70<<10)), 413, wire.CodeTooLarge},
		{"create user with bad JSON", func() reply {
			req := e.request("POST", "/api/v1/users", "application/json", []byte(`{"login_id": 5}`))
			req.Header.Set("Authorization", "Bearer "+tok)
			return e.do(e.client(admin.tls()), req)
		}, 400, wire.CodeBadRequest},
		{"create user with a bad login ID", func() reply {
			return e.api(admin, tok, "POST", "/users", wire.CreateUserRequest{LoginID: "bad id:1", Role: wire.RoleGeneral, Password: "long-enough"})
		}, 400, wire.CodeBadRequest},
		{"create user with a bad role", func() reply {
			return e.api(admin, tok, "POST", "/users", wire.CreateUserRequest{LoginID: "x1", Role: "boss", Password: "long-enough"})
		}, 400, wire.CodeBadRequest},
		{"create user with a short password", func() reply {
			return e.api(admin, tok, "POST", "/users", wire.CreateUserRequest{LoginID: "x1", Role: wire.RoleGeneral, Password: "short"})
		}, 400, wire.CodeWeakPassword},
		{"unknown API route", func() reply { return e.api(admin, tok, "GET", "/nothing", nil) }, 400, wire.CodeBadRequest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.auditCount()
			r := c.send()
			want(t, c.name, r, c.status, c.code)
			if e.auditCount() != before {
				t.Fatal("a refused request wrote an audit row")
			}
		})
	}
	// Nothing above changed the admin's records: it still renews and logs in.
	e.mustLogin(e.renew(admin), "", pw("admin1"))
}
