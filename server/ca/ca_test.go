package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

var t0 = time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)

const (
	testBase   = "http://pki.bank.example.jp"
	testPolicy = "2.999.1376.1"
)

// newCA creates a CA in a temporary directory and loads it.
func newCA(t *testing.T) (*CA, string) {
	t.Helper()
	dir := t.TempDir()
	if err := Create(dir, CreateOptions{BankCode: "1376", BankName: "Inkan Shinkin Bank", BaseURL: testBase, PolicyOID: testPolicy, Now: t0}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir, LoadOptions{BaseURL: testBase, PolicyOID: testPolicy, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func verifyFor(c *CA, cert *x509.Certificate, usage x509.ExtKeyUsage, at time.Time) error {
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(c.Root)
	inter.AddCert(c.Issuing)
	_, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}, CurrentTime: at})
	return err
}

func TestIssuingCACannotSignAServerCertificate(t *testing.T) {
	c, _ := newCA(t)
	key := newECKey(t)
	serial, err := NewSerial()
	if err != nil {
		t.Fatal(err)
	}
	forged := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "bank.example.jp"},
		DNSNames:     []string{"bank.example.jp"},
		NotBefore:    t0,
		NotAfter:     t0.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, forged, c.Issuing, key.Public(), c.Current().key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyFor(c, cert, x509.ExtKeyUsageServerAuth, t0.Add(time.Hour)); err == nil {
		t.Fatal("a serverAuth certificate signed with the issuing CA's key verifies against the root for serverAuth")
	}
	csr := csrFor(t, key)
	client, err := c.Issue(csr, pkix.Name{CommonName: "kanri"}, t0, t0.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyFor(c, client, x509.ExtKeyUsageClientAuth, t0.Add(time.Hour)); err != nil {
		t.Fatalf("a client certificate of the issuing CA does not verify for clientAuth: %v", err)
	}
}

func csrFor(t *testing.T, key *ecdsa.PrivateKey) *x509.CertificateRequest {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ignored"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

func TestRootKeyIsWrittenOfflineOnly(t *testing.T) {
	_, dir := newCA(t)
	if _, err := os.Stat(filepath.Join(dir, RootKeyFile)); !os.IsNotExist(err) {
		t.Fatalf("the root key sits in the data directory: %v", err)
	}
	st, err := os.Stat(RootKeyPath(dir))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("offline root key: %v %v, want mode 0600", st, err)
	}
	if st, err := os.Stat(filepath.Join(dir, OfflineDir)); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("offline directory: %v %v, want mode 0700", st, err)
	}
	if !Exists(dir) {
		t.Fatal("Exists does not see the CA")
	}
}

func TestTLSRenewSignsANewServerCertificateWithTheRootKey(t *testing.T) {
	c, dir := newCA(t)
	oldPair, err := LoadTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := oldPair.Leaf
	later := t0.Add(700 * 24 * time.Hour)
	cert, err := RenewTLS(dir, RootKeyPath(dir), nil, []string{"bank.example.jp", "192.0.2.10"}, later)
	if err != nil {
		t.Fatal(err)
	}
	if cert.SerialNumber.Cmp(old.SerialNumber) == 0 || !cert.NotAfter.After(old.NotAfter) {
		t.Fatalf("renewed certificate: serial %x until %s; old %x until %s", cert.SerialNumber, cert.NotAfter, old.SerialNumber, old.NotAfter)
	}
	if err := verifyFor(c, cert, x509.ExtKeyUsageServerAuth, later); err != nil {
		t.Fatalf("the renewed TLS certificate does not verify for serverAuth: %v", err)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "bank.example.jp", "192.0.2.10"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Fatalf("renewed certificate: %v", err)
		}
	}
	other := t.TempDir()
	if err := Create(other, CreateOptions{BankCode: "1376", BankName: "Another Bank", BaseURL: testBase, PolicyOID: testPolicy, Now: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := RenewTLS(dir, RootKeyPath(other), nil, nil, later); err == nil {
		t.Fatal("renewed the TLS certificate with another CA's root key")
	}
}

func TestIssuedCertificateLayout(t *testing.T) {
	c, _ := newCA(t)
	name := pkix.Name{Country: []string{"JP"}, Organization: []string{"Sato Shoji"}, CommonName: "kanri+1376"}
	cert, err := c.Issue(csrFor(t, newECKey(t)), name, t0, t0.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.String() != name.String() {
		t.Fatalf("subject %q, want %q from the records (not the CSR's)", cert.Subject, name)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || cert.IsCA {
		t.Fatalf("key usage %v, ext key usage %v, CA %v", cert.KeyUsage, cert.ExtKeyUsage, cert.IsCA)
	}
	if n := cert.SerialNumber.BitLen(); n < 127 || n > 128 {
		t.Fatalf("serial has %d bits, want a 128-bit random serial (bit 127 or 126 set)", n)
	}
	id := c.Current().ID()
	if len(cert.OCSPServer) != 1 || cert.OCSPServer[0] != testBase+"/ocsp" ||
		len(cert.IssuingCertificateURL) != 1 || cert.IssuingCertificateURL[0] != testBase+"/ca/"+id+".crt" ||
		len(cert.CRLDistributionPoints) != 1 || cert.CRLDistributionPoints[0] != testBase+"/crl/"+id+".crl" {
		t.Fatalf("AIA %v %v, CDP %v", cert.OCSPServer, cert.IssuingCertificateURL, cert.CRLDistributionPoints)
	}
	if len(cert.SubjectKeyId) != 20 || len(cert.Policies) != 1 || cert.Policies[0].String() != testPolicy {
		t.Fatalf("subject key ID %x, policies %v", cert.SubjectKeyId, cert.Policies)
	}
	if err := c.CheckIssued(cert); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckStored(cert); err != nil {
		t.Fatal(err)
	}
	// Another bank's CA names an issuer this one does not have: refused by both.
	other, _ := newCA(t)
	foreign, err := other.Issue(csrFor(t, newECKey(t)), name, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for what, check := range map[string]func(*x509.Certificate) error{"CheckIssued": c.CheckIssued, "CheckStored": c.CheckStored} {
		if err := check(foreign); !errors.Is(err, ErrNotIssuedHere) {
			t.Fatalf("%s of another CA's certificate: %v, want ErrNotIssuedHere", what, err)
		}
	}
}

func TestCRLAndOCSPResponsesVerifyWithTheIssuingCA(t *testing.T) {
	c, _ := newCA(t)
	cert, err := c.Issue(csrFor(t, newECKey(t)), pkix.Name{CommonName: "kanri"}, t0, t0.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	revokedAt := t0.Add(time.Hour)
	der, err := c.CRL(c.Current(), []Withdrawn{{Serial: cert.SerialNumber, RevokedAt: revokedAt, Reason: ocsp.Superseded}}, 7, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(c.Issuing); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	if crl.Number.Int64() != 7 || len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(cert.SerialNumber) != 0 ||
		crl.RevokedCertificateEntries[0].ReasonCode != ocsp.Superseded || !crl.NextUpdate.Equal(crl.ThisUpdate.Add(CRLValidity)) {
		t.Fatalf("CRL number %v, entries %+v, %s..%s", crl.Number, crl.RevokedCertificateEntries, crl.ThisUpdate, crl.NextUpdate)
	}
	reqDER, err := ocsp.CreateRequest(cert, c.Issuing, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, err := ParseOCSPRequest(reqDER)
	if err != nil {
		t.Fatal(err)
	}
	if c.IssuerFor(req) != c.Current() || req.Nonce != nil {
		t.Fatalf("the CA does not recognise a request about its own certificate (nonce %x)", req.Nonce)
	}
	for _, st := range []OCSPStatus{{Status: ocsp.Good}, {Status: ocsp.Revoked, RevokedAt: revokedAt, Reason: ocsp.KeyCompromise}, {Status: ocsp.Unknown}} {
		der, err := c.OCSPResponse(c.Current(), req, st, t0.Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ocsp.ParseResponseForCert(der, cert, c.Issuing)
		if err != nil {
			t.Fatalf("OCSP response does not verify with the issuing CA: %v", err)
		}
		if resp.Status != st.Status || (st.Status == ocsp.Revoked && (!resp.RevokedAt.Equal(revokedAt) || resp.RevocationReason != st.Reason)) {
			t.Fatalf("OCSP response %+v, want %+v", resp, st)
		}
		if resp.ProducedAt.Before(resp.ThisUpdate) || !resp.NextUpdate.Equal(resp.ThisUpdate.Add(OCSPValidity)) {
			t.Fatalf("producedAt %s, thisUpdate %s, nextUpdate %s", resp.ProducedAt, resp.ThisUpdate, resp.NextUpdate)
		}
	}
}

// TestSPKIKeyIDIsTheKeyID: the subject key identifier Issue reads from a CSR's
// encoded key is the one keyID makes from the parsed key, for every key kind
// the policy allows; anything else reads as none (Issue then re-encodes).
func TestSPKIKeyIDIsTheKeyID(t *testing.T) {
	for _, alg := range []KeyAlgorithm{ECDSAP256, ECDSAP384, "rsa-2048"} {
		var key crypto.Signer
		var err error
		if alg == "rsa-2048" {
			key, err = rsa.GenerateKey(rand.Reader, 2048)
		} else {
			key, err = newKey(alg)
		}
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
		if err != nil {
			t.Fatal(err)
		}
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := spkiKeyID(csr.RawSubjectPublicKeyInfo), keyID(key.Public()); want == nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: key ID %x from the encoded key, %x from the parsed one", alg, got, want)
		}
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, {0x30, 0x03, 0x30, 0x01, 0x00}, {0x02, 0x01, 0x00}} {
		if got := spkiKeyID(bad); got != nil {
			t.Fatalf("spkiKeyID(%x) = %x, want nil", bad, got)
		}
	}
}
