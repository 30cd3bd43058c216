package server

import (
	"bytes"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/wire"
)

func TestRolloverKeepsAnsweringForTheOldIssuingCA(t *testing.T) {
	e := newEnv(t)
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	admin := e.pickup("admin1", pw("admin1"))
	general := e.pickup("general1", pw("general1"))
	old := e.srv.ca.Current()

	e.clock.Advance(24 * time.Hour)
	cert, err := ca.Rollover(e.dir, e.rootKey, nil, e.srv.cfg.RevocationURL, e.srv.cfg.CertificatePolicyOID, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	// serve restarts on the rolled-over directory.
	srv, err := Open(e.dir, Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(e.ctx)
	if srv.ca.Current().ID() == old.ID() || !srv.ca.Issuing.Equal(cert) || len(srv.ca.Issuers) != 2 || srv.ca.Issuer(old.ID()) == nil {
		t.Fatalf("after rollover: current %s (old %s), %d issuers", srv.ca.Current().ID(), old.ID(), len(srv.ca.Issuers))
	}
	if cert.NotAfter.Before(old.Cert.NotAfter) || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Fatalf("new issuing CA until %s (old until %s), EKU %v", cert.NotAfter, old.Cert.NotAfter, cert.ExtKeyUsage)
	}
	relying := httptest.NewServer(srv.RevocationHandler())
	defer relying.Close()

	status := func(id *identity) int {
		t.Helper()
		der, err := ocsp.CreateRequest(id.cert, old.Cert, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(relying.URL+"/ocsp", "application/ocsp-request", bytes.NewReader(der))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r, err := ocsp.ParseResponseForCert(body, id.cert, old.Cert)
		if err != nil {
			t.Fatalf("OCSP answer about a certificate of the old issuing CA: %v", err)
		}
		return r.Status
	}
	if status(admin) != ocsp.Good {
		t.Fatal("after rollover, OCSP does not answer good for the old CA's certificate")
	}
	if err := srv.Operator().RevokeCertificate(e.ctx, "general1"); err != nil {
		t.Fatal(err)
	}
	if status(general) != ocsp.Revoked {
		t.Fatal("after rollover, OCSP does not answer revoked for the old CA's revoked certificate")
	}
	resp, err := http.Get(relying.URL + "/crl/" + old.ID() + ".crl")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	crl, err := x509.ParseRevocationList(body)
	if err != nil || crl.CheckSignatureFrom(old.Cert) != nil || !crlLists(crl, general.cert.SerialNumber) || crlLists(crl, admin.cert.SerialNumber) {
		t.Fatalf("the old issuing CA's CRL after rollover: %v", err)
	}

	// New certificates come from the new issuing CA, and its CRL is its own.
	e.user(cid, "general2", wire.RoleGeneral)
	key := newKey(t)
	fresh, err := srv.svc.Pickup(e.ctx, "127.0.0.1:1", "general2", pw("general2"), csrFor(t, key))
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.CheckSignatureFrom(cert); err != nil || fresh.CRLDistributionPoints[0] != e.srv.cfg.RevocationURL+"/crl/"+srv.ca.Current().ID()+".crl" {
		t.Fatalf("certificate after rollover: %v, CDP %v", err, fresh.CRLDistributionPoints)
	}
	if fresh.NotAfter.After(cert.NotAfter) {
		t.Fatalf("leaf notAfter %s beyond its issuing CA's %s", fresh.NotAfter, cert.NotAfter)
	}
}
