package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Withdrawn is one certificate a CRL or an OCSP response reports as revoked.
type Withdrawn struct {
	Serial    *big.Int
	RevokedAt time.Time
	// Reason is an RFC 5280 CRLReason: ocsp.Unspecified for a revocation,
	// ocsp.Superseded for a certificate replaced by a renewal or a new issue.
	Reason int
}

// CRLValidity is how long a CRL stays current. Each revocation produces a new
// CRL at once; this only bounds how long relying parties may cache one.
const CRLValidity = 24 * time.Hour

// CRL returns a DER CRL (RFC 5280 §5) signed by issuer, listing entries.
// number must never be used twice.
func (c *CA) CRL(issuer *Issuer, entries []Withdrawn, number int64, now time.Time) ([]byte, error) {
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(number),
		ThisUpdate: now,
		NextUpdate: now.Add(CRLValidity),
	}
	for _, e := range entries {
		entry := x509.RevocationListEntry{SerialNumber: e.Serial, RevocationTime: e.RevokedAt}
		if e.Reason != 0 {
			entry.ReasonCode = e.Reason // RFC 5280 §5.3.1: unspecified is left out
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, entry)
	}
	key, err := issuer.signer()
	if err != nil {
		return nil, fmt.Errorf("sign CRL: %w", err)
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer.Cert, key)
	if err != nil {
		return nil, fmt.Errorf("sign CRL: %w", err)
	}
	return der, nil
}

// rootCRL is a CRL of the root CA listing the revoked issuing CAs.
func rootCRL(root *x509.Certificate, key crypto.Signer, entries []x509.RevocationListEntry, number int64, now time.Time, validity time.Duration) ([]byte, error) {
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(number),
		ThisUpdate:                now,
		NextUpdate:                now.Add(validity),
		RevokedCertificateEntries: entries,
	}, root, key)
	if err != nil {
		return nil, fmt.Errorf("sign the root CRL: %w", err)
	}
	return der, nil
}

// SignRootCRL signs a new root CRL for dir with the root key at rootKeyPath,
// valid from now for validity, numbered one above the current DIR/root.crl,
// and puts it in place of that file (serve publishes it at /crl/root.crl). It
// lists every issuing CA revoked by [RevokeIssuer], and whatever else the
// current root CRL lists, so no revocation is ever dropped.
func SignRootCRL(dir, rootKeyPath string, passphrase Passphrase, validity time.Duration, now time.Time) (*x509.RevocationList, error) {
	if err := checkRootCRLValidity(validity, now); err != nil {
		return nil, err
	}
	root, key, err := loadRoot(dir, rootKeyPath, passphrase)
	if err != nil {
		return nil, err
	}
	return signRootCRL(dir, root, key, validity, now)
}

// checkRootCRLValidity refuses a root CRL lifetime under a day (it would lapse
// before the next could be signed) or over twelve months (BR §7.2.2's most for
// a CRL of CA certificates; zlint e_crl_next_update_invalid).
func checkRootCRLValidity(validity time.Duration, now time.Time) error {
	switch {
	case validity < 24*time.Hour:
		return fmt.Errorf("a root CRL valid for %s would lapse before anyone could sign the next one: give a day or more", validity)
	case now.Add(validity).After(now.AddDate(0, 12, 0)):
		return fmt.Errorf("a root CRL valid for %d days is longer than the 12 months BR §7.2.2 allow a CRL of CA certificates: give at most 365 days and sign the next one each year (inkan-server status warns 60 days before)", int(validity.Hours()/24))
	}
	return nil
}

func signRootCRL(dir string, root *x509.Certificate, key crypto.Signer, validity time.Duration, now time.Time) (*x509.RevocationList, error) {
	number := int64(1)
	var entries []x509.RevocationListEntry
	if cur, err := ReadRootCRL(dir); err == nil {
		number = cur.Number.Int64() + 1
		entries = cur.RevokedCertificateEntries
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	records, err := IssuerRevocations(dir)
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		if !slices.ContainsFunc(entries, func(e x509.RevocationListEntry) bool { return e.SerialNumber.Cmp(r.serial()) == 0 }) {
			entries = append(entries, r.entry())
		}
	}
	// Only the fields a new CRL writes: the parsed entries also hold their raw
	// bytes and extensions, which CreateRevocationList would refuse to mix.
	clean := make([]x509.RevocationListEntry, len(entries))
	for i, e := range entries {
		clean[i] = x509.RevocationListEntry{SerialNumber: e.SerialNumber, RevocationTime: e.RevocationTime, ReasonCode: e.ReasonCode}
	}
	der, err := rootCRL(root, key, clean, number, now, validity)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, RootCRLFile), der, 0o644); err != nil {
		return nil, err
	}
	return x509.ParseRevocationList(der)
}

// ReadRootCRL reads DIR/root.crl and checks that the root signed it. A missing
// file is an error satisfying os.IsNotExist.
func ReadRootCRL(dir string) (*x509.RevocationList, error) {
	path := filepath.Join(dir, RootCRLFile)
	der, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	root, err := readCert(filepath.Join(dir, RootCertFile))
	if err != nil {
		return nil, err
	}
	if err := crl.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("%s is not signed by the root CA: %w", path, err)
	}
	return crl, nil
}
