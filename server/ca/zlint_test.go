package ca

import (
	"strings"
	"testing"

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
