package server

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/inkan-dev/inkan/wire"
)

func (e *env) fetchCRL() *x509.RevocationList {
	e.t.Helper()
	r := e.do(e.client(nil), e.request("GET", "/crl", "", nil))
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /crl: %d", r.status)
	}
	crl, err := x509.ParseRevocationList(r.body)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(e.srv.ca.Issuing); err != nil {
		e.t.Fatalf("CRL is not signed by the issuing CA: %v", err)
	}
	return crl
}

func crlLists(crl *x509.RevocationList, serial *big.Int) bool {
	for _, entry := range crl.RevokedCertificateEntries {
		if entry.SerialNumber.Cmp(serial) == 0 {
			return true
		}
	}
	return false
}

func TestCRLReflectsRevocationByCLIWhileServing(t *testing.T) {
	e := newEnv(t)
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	before := e.fetchCRL()
	if crlLists(before, admin.cert.SerialNumber) {
		t.Fatal("the CRL lists a good certificate")
	}
	// The operator CLI opens the same data directory while the server runs.
	cli, err := Open(e.dir, Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Operator().RevokeCertificate(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	if err := cli.Shutdown(e.ctx); err != nil {
		t.Fatal(err)
	}
	after := e.fetchCRL()
	if !crlLists(after, admin.cert.SerialNumber) {
		t.Fatal("the CRL does not list the certificate the CLI revoked")
	}
	if after.Number.Cmp(before.Number) <= 0 {
		t.Fatalf("CRL number did not grow: %v then %v", before.Number, after.Number)
	}
	_, r := e.login(admin, "", pw("admin1"))
	want(t, "login after the CLI revoked", r, http.StatusForbidden, wire.CodeCertificateRevoked)
}

func TestOCSPAnswersGoodRevokedAndUnknown(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1"))
	general := e.pickup("general1", pw("general1"))
	if err := e.op.RevokeCertificate(e.ctx, "general1"); err != nil {
		t.Fatal(err)
	}
	unknown := &x509.Certificate{SerialNumber: big.NewInt(12345), RawIssuer: e.srv.ca.Issuing.RawSubject}
	ask := func(cert *x509.Certificate, get bool) *ocsp.Response {
		t.Helper()
		der, err := ocsp.CreateRequest(cert, e.srv.ca.Issuing, &ocsp.RequestOptions{Hash: crypto.SHA1})
		if err != nil {
			t.Fatal(err)
		}
		var r reply
		if get {
			r = e.do(e.client(nil), e.request("GET", "/ocsp/"+base64.StdEncoding.EncodeToString(der), "", nil))
		} else {
			r = e.do(e.client(nil), e.request("POST", "/ocsp", "application/ocsp-request", der))
		}
		resp, err := ocsp.ParseResponse(r.body, e.srv.ca.Issuing)
		if err != nil {
			t.Fatal(err)
		}
		if resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			t.Fatal("OCSP answered about another serial")
		}
		return resp
	}
	for _, get := range []bool{false, true} {
		if s := ask(admin.cert, get).Status; s != ocsp.Good {
			t.Errorf("get=%v: picked-up certificate: status %d, want good", get, s)
		}
		if s := ask(general.cert, get).Status; s != ocsp.Revoked {
			t.Errorf("get=%v: revoked certificate: status %d, want revoked", get, s)
		}
		if s := ask(unknown, get).Status; s != ocsp.Unknown {
			t.Errorf("get=%v: unknown serial: status %d, want unknown", get, s)
		}
	}
	r := e.do(e.client(nil), e.request("POST", "/ocsp", "application/ocsp-request", []byte("garbage")))
	var re ocsp.ResponseError
	if _, err := ocsp.ParseResponse(r.body, nil); !errors.As(err, &re) || re.Status != ocsp.Malformed {
		t.Fatalf("garbage OCSP request: %v, want the malformedRequest response", err)
	}
}

func TestOCSPGetWithDoubleSlashInTheBase64IsAnswered(t *testing.T) {
	e := newEnv(t)
	var der []byte
	var encoded string
	for i := int64(1); encoded == ""; i++ { // find a serial whose request's base64 holds "//"
		cert := &x509.Certificate{SerialNumber: big.NewInt(i), RawIssuer: e.srv.ca.Issuing.RawSubject}
		d, err := ocsp.CreateRequest(cert, e.srv.ca.Issuing, &ocsp.RequestOptions{Hash: crypto.SHA1})
		if err != nil {
			t.Fatal(err)
		}
		if b := base64.StdEncoding.EncodeToString(d); strings.Contains(b, "//") {
			der, encoded = d, b
		}
	}
	c := e.client(nil)
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, path := range []string{"/ocsp/" + encoded, "/ocsp/" + url.PathEscape(encoded)} {
		r := e.do(c, e.request("GET", path, "", nil))
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.header.Get("Location"))
		}
		resp, err := ocsp.ParseResponse(r.body, e.srv.ca.Issuing)
		if err != nil || resp.Status != ocsp.Unknown {
			t.Fatalf("GET %s: %v %+v", path, err, resp)
		}
	}
	r := e.do(c, e.request("POST", "/ocsp", "application/ocsp-request; charset=binary", der))
	if _, err := ocsp.ParseResponse(r.body, e.srv.ca.Issuing); err != nil {
		t.Fatalf("POST with a media type parameter: %v", err)
	}
}

func (e *env) crlBytes() []byte {
	e.t.Helper()
	r := e.do(e.client(nil), e.request("GET", "/crl", "", nil))
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /crl: %d", r.status)
	}
	return r.body
}

func TestCRLNumberOnlyGrowsAndAnUnchangedCRLIsNotSignedAgain(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	e.user(cid, "general2", wire.RoleGeneral)
	e.pickup("admin1", pw("admin1"))
	e.pickup("general1", pw("general1"))
	e.pickup("general2", pw("general2"))
	first := e.crlBytes()
	if again := e.crlBytes(); !bytes.Equal(first, again) {
		t.Fatal("two GETs without a change gave different CRLs")
	}
	last := e.fetchCRL().Number
	for _, id := range []string{"general1", "general2"} {
		if err := e.op.RevokeCertificate(e.ctx, id); err != nil {
			t.Fatal(err)
		}
		crl := e.fetchCRL()
		if crl.Number.Cmp(last) <= 0 {
			t.Fatalf("CRL number after revoking %s: %v, not above %v", id, crl.Number, last)
		}
		last = crl.Number
	}
	held := e.crlBytes()
	e.clock.Advance(12*time.Hour + time.Second) // past half the CRL's validity: signed again, with a new number
	fresh := e.fetchCRL()
	if bytes.Equal(fresh.Raw, held) || fresh.Number.Cmp(last) <= 0 || !fresh.ThisUpdate.Equal(e.clock.Now().Truncate(time.Second)) {
		t.Fatalf("CRL after 12 hours: number %v (last %v), thisUpdate %v", fresh.Number, last, fresh.ThisUpdate)
	}
}
