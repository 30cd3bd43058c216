package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/wire"
)

// These tests check revocation as a relying party does: with the real openssl
// binary and plain HTTP, on the listener whose URL is in the certificates.

func writePEMFile(t *testing.T, path string, certs ...*x509.Certificate) string {
	t.Helper()
	var b bytes.Buffer
	for _, c := range certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func opensslOut(t *testing.T, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is missing: run scripts/install-deps.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "openssl", args...).CombinedOutput()
	return string(out), err
}

// realTimeEnv is a server whose clock is the real one from now on (openssl
// checks validity against the real time), with a general ID picked up.
func realTimeEnv(t *testing.T) (*env, *identity, *identity) {
	e := newEnv(t)
	e.clock.Set(time.Now())
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1"))
	general := e.pickup("general1", pw("general1"))
	return e, admin, general
}

func TestOpenSSLVerifyDownloadsTheCRLsOverPlainHTTP(t *testing.T) {
	e, admin, general := realTimeEnv(t)
	dir := t.TempDir()
	root := writePEMFile(t, filepath.Join(dir, "root.pem"), e.srv.ca.Root)
	issuing := writePEMFile(t, filepath.Join(dir, "issuing.pem"), e.srv.ca.Issuing)
	if !strings.HasPrefix(general.cert.CRLDistributionPoints[0], e.httpURL+"/") ||
		!strings.HasPrefix(e.srv.ca.Issuing.CRLDistributionPoints[0], e.httpURL+"/") {
		t.Fatalf("CRL distribution points %v (leaf), %v (issuing CA), want under %s",
			general.cert.CRLDistributionPoints, e.srv.ca.Issuing.CRLDistributionPoints, e.httpURL)
	}
	verify := func(leaf *identity) (string, error) {
		path := writePEMFile(t, filepath.Join(dir, "leaf.pem"), leaf.cert)
		return opensslOut(t, "verify", "-crl_check_all", "-crl_download", "-purpose", "sslclient",
			"-CAfile", root, "-untrusted", issuing, path)
	}
	if out, err := verify(general); err != nil || !strings.Contains(out, ": OK") {
		t.Fatalf("openssl verify -crl_check_all -crl_download of a good leaf: %v\n%s", err, out)
	}
	if err := e.op.RevokeCertificate(e.ctx, "general1"); err != nil {
		t.Fatal(err)
	}
	if out, err := verify(general); err == nil || !strings.Contains(out, "certificate revoked") {
		t.Fatalf("openssl verify of the revoked leaf: %v\n%s", err, out)
	}
	if out, err := verify(admin); err != nil || !strings.Contains(out, ": OK") {
		t.Fatalf("openssl verify of the admin's leaf after another's revocation: %v\n%s", err, out)
	}
	// The CA certificates are where the AIA says, in DER.
	for _, u := range []string{general.cert.IssuingCertificateURL[0], e.srv.ca.Issuing.IssuingCertificateURL[0]} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if _, err := x509.ParseCertificate(body); err != nil || resp.Header.Get("Content-Type") != "application/pkix-cert" {
			t.Fatalf("GET %s: %s %q, %v", u, resp.Status, resp.Header.Get("Content-Type"), err)
		}
	}
}

func TestOpenSSLOCSPWithNonceOverPlainHTTP(t *testing.T) {
	e, admin, general := realTimeEnv(t)
	if err := e.op.RevokeCertificate(e.ctx, "general1"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	root := writePEMFile(t, filepath.Join(dir, "root.pem"), e.srv.ca.Root)
	issuing := writePEMFile(t, filepath.Join(dir, "issuing.pem"), e.srv.ca.Issuing)
	for _, c := range []struct {
		id   *identity
		want string
	}{{admin, ": good"}, {general, ": revoked"}} {
		leaf := writePEMFile(t, filepath.Join(dir, "leaf.pem"), c.id.cert)
		// openssl sends a nonce by default and checks that the answer carries it.
		out, err := opensslOut(t, "ocsp", "-issuer", issuing, "-cert", leaf, "-url", c.id.cert.OCSPServer[0],
			"-CAfile", root, "-resp_text")
		if err != nil || !strings.Contains(out, "Response verify OK") || !strings.Contains(out, c.want) ||
			strings.Contains(out, "WARNING") || !strings.Contains(out, "OCSP Nonce") {
			t.Fatalf("openssl ocsp for %s: %v\n%s", c.id.cert.Subject.CommonName, err, out)
		}
		produced := regexp.MustCompile(`Produced At: (.*)`).FindStringSubmatch(out)
		this := regexp.MustCompile(`This Update: (.*)`).FindStringSubmatch(out)
		if produced == nil || this == nil {
			t.Fatalf("no Produced At or This Update in\n%s", out)
		}
		p, err1 := time.Parse("Jan _2 15:04:05 2006 MST", strings.TrimSpace(produced[1]))
		u, err2 := time.Parse("Jan _2 15:04:05 2006 MST", strings.TrimSpace(this[1]))
		if err1 != nil || err2 != nil || p.Before(u) {
			t.Fatalf("producedAt %s before thisUpdate %s (%v %v)", produced[1], this[1], err1, err2)
		}
	}
}

func TestOCSPGetIsCacheableAndPostIsNot(t *testing.T) {
	e, admin, _ := realTimeEnv(t)
	der, err := ocsp.CreateRequest(admin.cert, e.srv.ca.Issuing, nil)
	if err != nil {
		t.Fatal(err)
	}
	get := func(etag string) *http.Response {
		req, _ := http.NewRequest("GET", e.httpURL+"/ocsp/"+base64.StdEncoding.EncodeToString(der), nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	first := get("")
	cc := first.Header.Get("Cache-Control")
	m := regexp.MustCompile(`max-age=(\d+)`).FindStringSubmatch(cc)
	if first.StatusCode != 200 || m == nil || first.Header.Get("ETag") == "" || first.Header.Get("Last-Modified") == "" || first.Header.Get("Expires") == "" {
		t.Fatalf("GET answer %s, headers %v", first.Status, first.Header)
	}
	if age, _ := strconv.Atoi(m[1]); age < 1 || age > int(ca.OCSPValidity/time.Second) {
		t.Fatalf("Cache-Control %q: max-age beyond the answer's nextUpdate", cc)
	}
	if _, err := http.ParseTime(first.Header.Get("Last-Modified")); err != nil {
		t.Fatalf("Last-Modified %q: %v", first.Header.Get("Last-Modified"), err)
	}
	if again := get(first.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
		t.Fatalf("GET with If-None-Match of an unchanged answer: %s", again.Status)
	}
	if err := e.op.RevokeCertificate(e.ctx, "admin1"); err != nil {
		t.Fatal(err)
	}
	if changed := get(first.Header.Get("ETag")); changed.StatusCode != 200 || changed.Header.Get("ETag") == first.Header.Get("ETag") {
		t.Fatalf("GET after revocation: %s, ETag %q (before %q)", changed.Status, changed.Header.Get("ETag"), first.Header.Get("ETag"))
	}
	resp, err := http.Post(e.httpURL+"/ocsp", "application/ocsp-request", bytes.NewReader(der))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("ETag") != "" {
		t.Fatalf("POST answer headers %v, want Cache-Control: no-store and no ETag", resp.Header)
	}
}

func TestOCSPNonceIsEchoedAndAnOversizedOneRefused(t *testing.T) {
	e, admin, _ := realTimeEnv(t)
	for _, c := range []struct {
		nonce string
		ok    bool
	}{{strings.Repeat("ab", 32), true}, {strings.Repeat("ab", 33), false}} {
		// The request is built here: openssl picks its own nonce length.
		der := requestWithNonce(t, admin.cert, e.srv.ca.Issuing, c.nonce)
		resp, err := http.Post(e.httpURL+"/ocsp", "application/ocsp-request", bytes.NewReader(der))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		parsed, err := ocsp.ParseResponse(body, e.srv.ca.Issuing)
		if !c.ok {
			var re ocsp.ResponseError
			if !errors.As(err, &re) || re.Status != ocsp.Malformed {
				t.Fatalf("a %d-byte nonce: %v, want malformedRequest (RFC 8954 §2.1)", len(c.nonce)/2, err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		nonce, _ := hex.DecodeString(c.nonce)
		if parsed.Status != ocsp.Good || !bytes.Contains(parsed.TBSResponseData, nonce) {
			t.Fatalf("status %d; the answer does not echo the nonce %s", parsed.Status, c.nonce)
		}
	}
}

// requestWithNonce is an OCSP request about cert whose requestExtensions carry
// the nonce (hex) as RFC 8954 has it: an OCTET STRING inside the extnValue.
func requestWithNonce(t *testing.T, cert, issuer *x509.Certificate, nonceHex string) []byte {
	t.Helper()
	plain, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	// OCSPRequest { TBSRequest { requestList { Request { CertID } } } }: take CertID.
	var req, tbs, list, single, certID cryptobyte.String
	in := cryptobyte.String(plain)
	if !in.ReadASN1(&req, cbasn1.SEQUENCE) || !req.ReadASN1(&tbs, cbasn1.SEQUENCE) || !tbs.ReadASN1(&list, cbasn1.SEQUENCE) ||
		!list.ReadASN1(&single, cbasn1.SEQUENCE) || !single.ReadASN1Element(&certID, cbasn1.SEQUENCE) {
		t.Fatal("cannot read the CertID of a Go OCSP request")
	}
	nonce, _ := hex.DecodeString(nonceHex)
	inner, _ := asn1.Marshal(nonce)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(certID) })
			})
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2})
						b.AddASN1OctetString(inner)
					})
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// TestCRLNumberIsNeverReusedAfterARestart: a restarted server (a new
// process, nothing in memory) serves the CRL stored under the current number
// byte for byte, never another CRL under that number; after a change it signs
// one under a higher number.
func TestCRLNumberIsNeverReusedAfterARestart(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	e.pickup("admin1", pw("admin1"))
	e.pickup("general1", pw("general1"))
	before := e.fetchCRL()
	restarted := func() *x509.RevocationList {
		t.Helper()
		again, err := Open(e.dir, Options{Now: e.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		der, err := again.svc.CRL(e.ctx, again.ca.Current())
		if err != nil {
			t.Fatal(err)
		}
		if err := again.Shutdown(e.ctx); err != nil {
			t.Fatal(err)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		return crl
	}
	e.clock.Advance(time.Minute) // a CRL signed again now would differ in thisUpdate
	for range 2 {
		if crl := restarted(); !bytes.Equal(crl.Raw, before.Raw) {
			t.Fatalf("after a restart with no change: CRL %v, not the stored CRL %v", crl.Number, before.Number)
		}
	}
	if err := e.op.RevokeCertificate(e.ctx, "general1"); err != nil {
		t.Fatal(err)
	}
	if crl := restarted(); crl.Number.Cmp(before.Number) <= 0 || len(crl.RevokedCertificateEntries) != len(before.RevokedCertificateEntries)+1 {
		t.Fatalf("after a revocation and a restart: CRL %v with %d entries, want above %v with %d", crl.Number, len(crl.RevokedCertificateEntries), before.Number, len(before.RevokedCertificateEntries)+1)
	}
}
