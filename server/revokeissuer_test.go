package server

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

// TestRevokedIssuingCAIsRefusedByOpenSSLOCSPAndLogin revokes an issuing CA in
// the root CRL (its key is compromised) after a rollover: openssl verify
// -crl_check_all rejects its leaves at the issuing CA's link, OCSP answers
// revoked (cACompromise) for them, and the server refuses them at login and
// renewal, while the new issuing CA's leaves stay good.
func TestRevokedIssuingCAIsRefusedByOpenSSLOCSPAndLogin(t *testing.T) {
	e, admin, _ := realTimeEnv(t)
	old := e.srv.ca.Current()
	if _, err := ca.Rollover(e.dir, e.rootKey, nil, e.srv.cfg.RevocationURL, e.srv.cfg.CertificatePolicyOID, time.Now()); err != nil {
		t.Fatal(err)
	}
	// serve restarts on the rolled-over directory; a new ID picks up from the new CA.
	srv, err := Open(e.dir, Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(e.ctx)
	if _, _, err := ca.RevokeIssuer(e.dir, e.rootKey, nil, srv.ca.Current().ID(), "key-compromise", ca.RootCRLValidity, time.Now()); !errors.Is(err, ca.ErrRevokeCurrent) {
		t.Fatalf("revoking the current issuing CA was not refused: %v", err)
	}
	e.contract("Ito Shoji", "admin2")
	key := newKey(t)
	fresh, err := srv.svc.Pickup(e.ctx, "127.0.0.1:1", "admin2", pw("admin2"), csrFor(t, key))
	if err != nil {
		t.Fatal(err)
	}

	crl, cert, err := ca.RevokeIssuer(e.dir, e.rootKey, nil, strings.ToUpper(old.ID()), "key-compromise", ca.RootCRLValidity, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !cert.Equal(old.Cert) || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(old.Cert.SerialNumber) != 0 ||
		crl.RevokedCertificateEntries[0].ReasonCode != ca.ReasonKeyCompromise {
		t.Fatalf("root CRL after revoking %s: %+v", old.ID(), crl.RevokedCertificateEntries)
	}
	if _, _, err := ca.RevokeIssuer(e.dir, e.rootKey, nil, old.ID(), "key-compromise", ca.RootCRLValidity, time.Now()); err == nil || !strings.Contains(err.Error(), "already revoked") {
		t.Fatalf("revoking it twice: %v", err)
	}
	// The next root CRL signed in the ordinary way still lists it.
	next, err := ca.SignRootCRL(e.dir, e.rootKey, nil, 30*24*time.Hour, time.Now())
	if err != nil || len(next.RevokedCertificateEntries) != 1 || next.Number.Cmp(crl.Number) <= 0 {
		t.Fatalf("root CRL signed after the revocation: %v, %+v", err, next)
	}

	// serve restarts on the same plain-HTTP address, the one in the certificates.
	e.srv.Shutdown(e.ctx)
	srv.Shutdown(e.ctx)
	srv2, err := Open(e.dir, Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Shutdown(e.ctx)
	var plain net.Listener
	for try := 0; plain == nil; try++ {
		if plain, err = net.Listen("tcp", strings.TrimPrefix(e.httpURL, "http://")); err != nil && try == 50 {
			t.Fatalf("listen again on the revocation address: %v", err)
		} else if err != nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	go srv2.ServeRevocation(plain)
	if iss := srv2.ca.Issuer(old.ID()); iss == nil || iss.Revoked == nil || iss.Revoked.Reason != "key-compromise" {
		t.Fatalf("the restarted server does not know %s is revoked: %+v", old.ID(), iss)
	}

	// openssl, fetching every CRL from the URLs in the certificates.
	dir := t.TempDir()
	root := writePEMFile(t, filepath.Join(dir, "root.pem"), e.srv.ca.Root)
	untrusted := writePEMFile(t, filepath.Join(dir, "issuing.pem"), old.Cert, srv.ca.Issuing)
	verify := func(leaf *identity) (string, error) {
		path := writePEMFile(t, filepath.Join(dir, "leaf.pem"), leaf.cert)
		return opensslOut(t, "verify", "-crl_check_all", "-crl_download", "-purpose", "sslclient", "-CAfile", root, "-untrusted", untrusted, path)
	}
	if out, err := verify(admin); err == nil || !strings.Contains(out, "error 23 at 1 depth lookup: certificate revoked") {
		t.Fatalf("openssl verify of a leaf of the revoked issuing CA: %v\n%s", err, out)
	}
	if out, err := verify(&identity{cert: fresh}); err != nil || !strings.Contains(out, ": OK") {
		t.Fatalf("openssl verify of the new issuing CA's leaf: %v\n%s", err, out)
	}

	// OCSP says revoked, login and renewal refuse it.
	der, err := ocsp.CreateRequest(admin.cert, old.Cert, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(e.httpURL+"/ocsp", "application/ocsp-request", bytes.NewReader(der))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if r, err := ocsp.ParseResponseForCert(body, admin.cert, old.Cert); err != nil || r.Status != ocsp.Revoked || r.RevocationReason != ocsp.CACompromise {
		t.Fatalf("OCSP about a leaf of the revoked issuing CA: %v %+v", err, r)
	}
	_, err = srv2.svc.Login(e.ctx, "127.0.0.1:1", admin.cert, "admin1", pw("admin1"))
	if code, _ := lifecycleCode(err); !errors.Is(err, lifecycle.ErrRevoked) || code != wire.CodeCertificateRevoked {
		t.Fatalf("login with a leaf of the revoked issuing CA: %v (%s)", err, code)
	}
	if _, err := srv2.svc.Renew(e.ctx, "127.0.0.1:1", admin.cert, csrFor(t, newKey(t))); !errors.Is(err, lifecycle.ErrRevoked) {
		t.Fatalf("renewal with a leaf of the revoked issuing CA: %v", err)
	}
	if _, err := srv2.svc.Login(e.ctx, "127.0.0.1:1", fresh, "admin2", pw("admin2")); err != nil {
		t.Fatalf("login with the new issuing CA's leaf: %v", err)
	}

	// The records follow: the old CA's active certificates become revoked, each
	// audited, and its CRL lists them; the new CA's stay active.
	ids, err := srv2.Operator().RevokeIssuedBy(e.ctx, old.ID())
	slices.Sort(ids)
	if err != nil || !slices.Equal(ids, []string{"admin1", "general1"}) {
		t.Fatalf("RevokeIssuedBy(%s) = %v, %v", old.ID(), ids, err)
	}
	certs, err := srv2.Operator().ListCertificates(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range certs {
		if want := map[string]string{"admin1": "revoked", "general1": "revoked", "admin2": "active"}[c.LoginID]; string(c.State) != want {
			t.Fatalf("after RevokeIssuedBy, %s's certificate is %s, want %s", c.LoginID, c.State, want)
		}
	}
	if again, err := srv2.Operator().RevokeIssuedBy(e.ctx, old.ID()); err != nil || len(again) != 0 {
		t.Fatalf("RevokeIssuedBy a second time: %v, %v", again, err)
	}
	oldCRL, err := srv2.svc.CRL(e.ctx, srv2.ca.Issuer(old.ID()))
	if err != nil {
		t.Fatal(err)
	}
	if crl, err := x509.ParseRevocationList(oldCRL); err != nil || !crlLists(crl, admin.cert.SerialNumber) {
		t.Fatalf("the revoked CA's CRL after RevokeIssuedBy: %v", err)
	}
}
