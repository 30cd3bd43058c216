package lifecycle

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/inkan-dev/inkan/server/store"
)

// A pickup or renewal whose answer was lost on the way has still been committed:
// the pickup window is closed, or the old certificate superseded. The agent then
// sends the same request again with the same key, and the rules below answer the
// certificate already issued instead of refusing, so the user keeps the key that
// matches it. Nothing is issued and no record changes; the repeat is audited.

// withinRepeatGrace reports whether rec, the current certificate of its ID, was
// signed no longer than the policy's RepeatGrace before now, for the key of csr.
// The moment of signing is the certificate's notBefore: the CA sets it to the
// time of the pickup or renewal.
func (s *Service) withinRepeatGrace(rec *store.Certificate, csr *x509.CertificateRequest, now time.Time) (*x509.Certificate, bool, error) {
	if s.Policy.RepeatGrace <= 0 || rec.Status != store.CertActive || rec.NotBefore == nil {
		return nil, false, nil
	}
	if now.After(rec.NotBefore.Add(s.Policy.RepeatGrace)) {
		return nil, false, nil
	}
	cert, err := x509.ParseCertificate(rec.DER)
	if err != nil {
		return nil, false, fmt.Errorf("parse stored certificate %s: %w", rec.Serial, err)
	}
	if !bytes.Equal(cert.RawSubjectPublicKeyInfo, csr.RawSubjectPublicKeyInfo) {
		return nil, false, nil
	}
	return cert, true, nil
}

// repeatedPickup answers a pickup repeated with the same key: cur, the ID's
// current certificate, was issued by a pickup (not by a renewal), is active and
// was picked up within the grace period, for the key of csr. ok is false when
// the rule does not apply and the usual refusal stands.
func (s *Service) repeatedPickup(cur *store.Certificate, csr *x509.CertificateRequest, now time.Time) (cert *x509.Certificate, ok bool, err error) {
	if cur == nil || cur.RenewalOf != nil {
		return nil, false, nil
	}
	return s.withinRepeatGrace(cur, csr, now)
}

// repeatedRenewal answers a renewal repeated with the same key: presented, the
// certificate on the connection, was superseded by the renewal that made the
// ID's current certificate, which is active, was signed within the grace
// period, and is for the key of csr. It returns the ID and that certificate's
// record too. ok is false when the rule does not apply and the usual refusal
// stands.
func (s *Service) repeatedRenewal(tx store.Tx, presented store.Certificate, csr *x509.CertificateRequest, now time.Time) (u store.User, next *store.Certificate, cert *x509.Certificate, ok bool, err error) {
	if presented.Status != store.CertSuperseded {
		return store.User{}, nil, nil, false, nil
	}
	u, err = tx.User(presented.LoginID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, nil, nil, false, nil
	}
	if err != nil {
		return store.User{}, nil, nil, false, fmt.Errorf("load user %s: %w", presented.LoginID, err)
	}
	next, err = currentCert(tx, u)
	if err != nil || next == nil || next.RenewalOf == nil || *next.RenewalOf != presented.ID {
		return store.User{}, nil, nil, false, err
	}
	cert, ok, err = s.withinRepeatGrace(next, csr, now)
	if !ok || err != nil {
		return store.User{}, nil, nil, false, err
	}
	return u, next, cert, true, nil
}
