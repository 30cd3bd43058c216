package ca

import (
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	"github.com/inkan-dev/inkan/wire"
)

// TestZlintFindsNoErrorOrWarning lints the root, the issuing CA and a leaf laid
// out as the server issues them: no error and no warning, except the
// Certificate Transparency notices (these are not TLS server certificates and
// are never logged).
func TestZlintFindsNoErrorOrWarning(t *testing.T) {
	c, _ := newCA(t)
	certs := map[string][]byte{"root": c.Root.Raw, "issuing CA": c.Issuing.Raw}
	// A leaf as lifecycle lays it out (CN "kanri+1376", no organizationIdentifier),
	// and one with the longest login ID a user may have, whose CN is 64 characters.
	for what, id := range map[string]string{"leaf": "kanri", "leaf of the longest login ID": strings.Repeat("k", wire.MaxLoginIDInCertificate)} {
		name := wire.Subject{LoginID: id, Role: wire.RoleAdmin, ContractID: "1000000001", ContractName: "佐藤商事株式会社", BankCode: "1376"}.Name()
		leaf, err := c.Issue(csrFor(t, newECKey(t)), name, t0, t0.AddDate(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		certs[what] = leaf.Raw
	}
	for what, der := range certs {
		cert, err := zx509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("zcrypto cannot parse the %s: %v", what, err)
		}
		res := zlint.LintCertificate(cert)
		if len(res.Results) < 100 {
			t.Fatalf("zlint ran only %d lints on the %s", len(res.Results), what)
		}
		ran := 0
		for _, r := range res.Results {
			if r.Status == lint.Pass || r.Status == lint.Notice {
				ran++
			}
		}
		t.Logf("zlint on the %s: %d lints, %d applied and passed or noticed", what, len(res.Results), ran)
		for id, r := range res.Results {
			if r.Status != lint.Error && r.Status != lint.Warn && r.Status != lint.Fatal {
				continue
			}
			if strings.Contains(id, "_ct_") || strings.Contains(id, "sct") {
				continue
			}
			t.Errorf("zlint on the %s: %s %s (%s)", what, r.Status, id, r.Details)
		}
	}
}

// TestZlintFindsNoErrorOrWarningInTheCRLs lints the CRLs as relying parties
// get them: the root CRL listing a revoked issuing CA (ca revoke-issuer), and
// an issuing CA's CRL with a revoked and a superseded leaf.
func TestZlintFindsNoErrorOrWarningInTheCRLs(t *testing.T) {
	c, dir := newCA(t)
	old := c.Current().ID()
	rootKey := RootKeyPath(dir)
	if _, err := Rollover(dir, rootKey, nil, testBase, testPolicy, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := RevokeIssuer(dir, rootKey, nil, old, "key-compromise", RootCRLValidity, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rootCRL, err := os.ReadFile(filepath.Join(dir, RootCRLFile))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := c.Issue(csrFor(t, newECKey(t)), pkix.Name{CommonName: "kanri+1376"}, t0, t0.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	issuingCRL, err := c.CRL(c.Current(), []Withdrawn{
		{Serial: leaf.SerialNumber, RevokedAt: t0.Add(time.Hour)},
		{Serial: big.NewInt(0x4242), RevokedAt: t0.Add(time.Hour), Reason: ReasonSuperseded},
	}, 7, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for what, der := range map[string][]byte{"root CRL": rootCRL, "issuing CA's CRL": issuingCRL} {
		crl, err := zx509.ParseRevocationList(der)
		if err != nil {
			t.Fatalf("zcrypto cannot parse the %s: %v", what, err)
		}
		res := zlint.LintRevocationList(crl)
		if what == "root CRL" {
			// It covers CA certificates (the issuing CAs): BR §7.2.2's twelve
			// months apply, not the ten days of a CRL of subscribers.
			res = zlint.LintRevocationListEx(crl, caCRLRegistry(t))
		}
		applied := 0
		for id, r := range res.Results {
			switch r.Status {
			case lint.Pass, lint.Notice:
				applied++
			case lint.Error, lint.Warn, lint.Fatal:
				t.Errorf("zlint on the %s: %s %s (%s)", what, r.Status, id, r.Details)
			}
		}
		if applied == 0 {
			t.Fatalf("zlint applied no lint to the %s (%d results)", what, len(res.Results))
		}
		t.Logf("zlint on the %s: %d lints, %d applied and passed or noticed", what, len(res.Results), applied)
	}
}

// caCRLRegistry is zlint's registry configured for a CRL of CA certificates.
func caCRLRegistry(t *testing.T) lint.Registry {
	t.Helper()
	cfg, err := lint.NewConfigFromString("[e_crl_next_update_invalid]\nSubscriberCRL = false\n")
	if err != nil {
		t.Fatal(err)
	}
	r := lint.GlobalRegistry()
	r.SetConfiguration(cfg)
	return r
}
