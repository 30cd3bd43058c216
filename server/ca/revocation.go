package ca

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/ocsp"
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

// CRL returns a DER CRL (RFC 5280 §5) signed by the issuing CA, listing entries.
// number must grow with every change of entries.
func (c *CA) CRL(entries []Withdrawn, number int64, now time.Time) ([]byte, error) {
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(number),
		ThisUpdate: now,
		NextUpdate: now.Add(CRLValidity),
	}
	for _, e := range entries {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber:   e.Serial,
			RevocationTime: e.RevokedAt,
			ReasonCode:     e.Reason,
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, c.Issuing, c.key)
	if err != nil {
		return nil, fmt.Errorf("sign CRL: %w", err)
	}
	return der, nil
}

// OCSPStatus is what the records say about one serial.
type OCSPStatus struct {
	Status    int // ocsp.Good, ocsp.Revoked or ocsp.Unknown
	RevokedAt time.Time
	Reason    int
}

// OCSPResponse answers req (RFC 6960 §4.2), signed directly by the issuing CA.
func (c *CA) OCSPResponse(req *ocsp.Request, st OCSPStatus, now time.Time) ([]byte, error) {
	tmpl := ocsp.Response{
		Status:       st.Status,
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now,
		NextUpdate:   now.Add(time.Hour),
		RevokedAt:    st.RevokedAt,
	}
	if st.Status == ocsp.Revoked {
		tmpl.RevocationReason = st.Reason
	}
	der, err := ocsp.CreateResponse(c.Issuing, c.Issuing, tmpl, c.key)
	if err != nil {
		return nil, fmt.Errorf("sign OCSP response: %w", err)
	}
	return der, nil
}

// IssuedByUs reports whether an OCSP request names this CA as the issuer.
func (c *CA) IssuedByUs(req *ocsp.Request) bool {
	if !req.HashAlgorithm.Available() {
		return false
	}
	h := req.HashAlgorithm.New()
	h.Write(c.Issuing.RawSubject)
	nameHash := h.Sum(nil)
	var spki struct {
		Algorithm asn1AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.Issuing.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	h = req.HashAlgorithm.New()
	h.Write(spki.PublicKey.RightAlign())
	keyHash := h.Sum(nil)
	return bytes.Equal(nameHash, req.IssuerNameHash) && bytes.Equal(keyHash, req.IssuerKeyHash)
}

type asn1AlgorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}
