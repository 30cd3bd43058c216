package lifecycle

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

// CertificateView describes a certificate record as of now.
func (s *Service) CertificateView(c *store.Certificate, now time.Time) wire.Certificate {
	if c == nil {
		return wire.Certificate{State: wire.CertNone}
	}
	issued, deadline := c.IssuedAt, c.PickupDeadline
	v := wire.Certificate{Serial: c.Serial, IssuedAt: &issued, NotBefore: c.NotBefore, NotAfter: c.NotAfter, RevokedAt: c.WithdrawnAt}
	switch c.Status {
	case store.CertAwaitingPickup:
		v.PickupDeadline = &deadline
		v.State = wire.CertAwaitingPickup
		if now.After(deadline) {
			v.State = wire.CertPickupLapsed
		}
	case store.CertRevoked:
		v.State = wire.CertRevoked
	case store.CertSuperseded:
		v.State = wire.CertSuperseded
	case store.CertActive:
		from, until := s.Policy.RenewalWindow(*c.NotAfter)
		v.RenewFrom, v.RenewUntil = &from, &until
		v.Renewable = !now.Before(from) && !now.After(until) // as Renew decides
		v.State = wire.CertActive
		if now.After(*c.NotAfter) {
			v.State = wire.CertExpired
		}
	}
	return v
}

func (s *Service) view(u store.User, c store.Contract, cur *store.Certificate, now time.Time) wire.User {
	return wire.User{
		LoginID: u.LoginID, DisplayName: u.DisplayName, Email: u.Email, Role: u.Role,
		ContractID: c.ID, ContractName: c.Name, Locked: u.Locked, LastLoginAt: u.LastLoginAt,
		Certificate: s.CertificateView(cur, now),
	}
}

// ListUsers lists the IDs of contractID with their certificate state. A user
// actor sees its own contract only, whatever contractID says.
func (s *Service) ListUsers(ctx context.Context, a Actor, contractID string) ([]wire.User, error) {
	if !a.Operator {
		if a.Role != wire.RoleAdmin {
			return nil, fmt.Errorf("list users: %w", ErrForbidden)
		}
		contractID = a.ContractID
	}
	now := s.now()
	out := []wire.User{}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		c, err := tx.Contract(contractID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no contract %q: %w", contractID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		users, err := tx.Users(contractID)
		if err != nil {
			return err
		}
		for _, u := range users {
			cur, err := currentCert(tx, u)
			if err != nil {
				return err
			}
			out = append(out, s.view(u, c, cur, now))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list users of contract %s: %w", contractID, err)
	}
	return out, nil
}

// ContractSummary is one contract as the operator lists it.
type ContractSummary struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	CertificateMode bool   `json:"certificate_mode"`
	Users           int    `json:"users"`
}

// ListContracts lists every contract; only the operator may.
func (s *Service) ListContracts(ctx context.Context, a Actor) ([]ContractSummary, error) {
	if !a.Operator {
		return nil, fmt.Errorf("list contracts: %w", ErrForbidden)
	}
	out := []ContractSummary{}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		cs, err := tx.Contracts()
		if err != nil {
			return err
		}
		for _, c := range cs {
			users, err := tx.Users(c.ID)
			if err != nil {
				return err
			}
			out = append(out, ContractSummary{ID: c.ID, Name: c.Name, CertificateMode: c.CertificateModeAt != nil, Users: len(users)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list contracts: %w", err)
	}
	return out, nil
}

// CertificateRecord is one issuance as the operator lists it.
type CertificateRecord struct {
	LoginID    string `json:"login_id"`
	ContractID string `json:"contract_id"`
	wire.Certificate
}

// ListCertificates lists every issuance of loginID, or of every ID when
// loginID is empty, newest first; only the operator may.
func (s *Service) ListCertificates(ctx context.Context, a Actor, loginID string) ([]CertificateRecord, error) {
	if !a.Operator {
		return nil, fmt.Errorf("list certificates: %w", ErrForbidden)
	}
	now := s.now()
	out := []CertificateRecord{}
	err := s.Store.View(ctx, func(tx store.Tx) error {
		certs, err := tx.Certificates(loginID)
		if err != nil {
			return err
		}
		for i := range certs {
			out = append(out, CertificateRecord{LoginID: certs[i].LoginID, ContractID: certs[i].ContractID, Certificate: s.CertificateView(&certs[i], now)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list certificates: %w", err)
	}
	return out, nil
}

// User describes one ID, for an actor allowed to see it.
func (s *Service) User(ctx context.Context, a Actor, loginID string) (wire.User, error) {
	now := s.now()
	var out wire.User
	err := s.Store.View(ctx, func(tx store.Tx) error {
		u, err := target(tx, a, loginID, true)
		if err != nil {
			return err
		}
		c, err := tx.Contract(u.ContractID)
		if err != nil {
			return err
		}
		cur, err := currentCert(tx, u)
		if err != nil {
			return err
		}
		out = s.view(u, c, cur, now)
		return nil
	})
	if err != nil {
		return wire.User{}, fmt.Errorf("user %s: %w", LogID(loginID), err)
	}
	return out, nil
}

// crlCache keeps, for each issuing CA, the DER of the stored CRL this
// process last served, so that a GET reads only the CRL's number from the
// database while it is current; signing serializes this process's signers
// (across processes the database's lock does).
type crlCache struct {
	mu      sync.Mutex
	issuers map[string]store.SignedCRL
	signing sync.Mutex
}

func (c *crlCache) get(issuer string, number int64) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.issuers[issuer]; ok && k.Number == number {
		return k.DER
	}
	return nil
}

func (c *crlCache) put(crl store.SignedCRL) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.issuers == nil {
		c.issuers = map[string]store.SignedCRL{}
	}
	c.issuers[crl.Issuer] = crl
}

// crlCurrent reports whether stored CRL c still serves: it was signed after
// the last of changes (store.Tx.CRLChanges) and is younger than half its
// validity.
func crlCurrent(c store.SignedCRL, changes int64, now time.Time) bool {
	return c.DER != nil && c.Changes == changes && now.Before(c.ThisUpdate.Add(ca.CRLValidity/2))
}

// CRL returns the current DER CRL of issuer (the current issuing CA or a
// retired one): every certificate it issued that was picked up and then
// revoked or superseded.
//
// The CRL is kept in the store, so that every server sharing the database
// serves the same one: the same bytes under one number, whichever server a
// relying party asks. It is signed again only when the records changed since
// (every such change bumps the CRL number in its own transaction, on any
// server or the CLI) or when half of its validity has passed; the server that
// finds it so signs the next one, in a transaction that holds the store's CRL
// counter, takes a new number there, and stores the CRL before it commits,
// while the others wait for it and then serve what it stored. No two CRLs
// ever share a number, across restarts and across several servers.
func (s *Service) CRL(ctx context.Context, issuer *ca.Issuer) ([]byte, error) {
	now := s.now()
	var stored store.SignedCRL
	var changes int64
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if changes, err = tx.CRLChanges(); err != nil {
			return fmt.Errorf("read the CRL number: %w", err)
		}
		stored, err = tx.SignedCRLInfo(issuer.ID())
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the stored CRL: %w", err)
		}
		if stored.DER = s.crl.get(issuer.ID(), stored.Number); stored.DER != nil {
			return nil
		}
		if stored, err = tx.SignedCRL(issuer.ID()); err != nil {
			return fmt.Errorf("read the stored CRL: %w", err)
		}
		if !s.signedBy(issuer, stored) {
			stored.DER = nil // not this CA's: sign one that is
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if crlCurrent(stored, changes, now) {
		s.crl.put(stored)
		return stored.DER, nil
	}
	return s.signCRL(ctx, issuer)
}

// signCRL signs and stores issuer's next CRL, unless another server or
// goroutine did while this one waited for the store's CRL counter.
func (s *Service) signCRL(ctx context.Context, issuer *ca.Issuer) ([]byte, error) {
	s.crl.signing.Lock()
	defer s.crl.signing.Unlock()
	now := s.now()
	var crl store.SignedCRL
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		changes, err := tx.CRLChanges() // holds the counter: one signer at a time
		if err != nil {
			return fmt.Errorf("read the CRL number: %w", err)
		}
		crl, err = tx.SignedCRL(issuer.ID())
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("read the stored CRL: %w", err)
		}
		if err == nil && crlCurrent(crl, changes, now) && s.signedBy(issuer, crl) {
			return nil // signed while we waited
		}
		number, err := tx.NextCRLNumber()
		if err != nil {
			return fmt.Errorf("take a CRL number: %w", err)
		}
		certs, err := tx.WithdrawnCertificates()
		if err != nil {
			return err
		}
		var entries []ca.Withdrawn
		for _, c := range certs {
			serial, ok := new(big.Int).SetString(c.Serial, 16)
			if !ok {
				return fmt.Errorf("certificate %d has a bad serial %q", c.ID, c.Serial)
			}
			if !s.issuedBy(issuer, c) {
				continue
			}
			entries = append(entries, ca.Withdrawn{Serial: serial, RevokedAt: *c.WithdrawnAt, Reason: reasonOf(c.Status)})
		}
		der, err := s.CA.CRL(issuer, entries, number, now)
		if err != nil {
			return err
		}
		crl = store.SignedCRL{Issuer: issuer.ID(), Number: number, Changes: changes, ThisUpdate: now, DER: der}
		if err := tx.PutSignedCRL(crl); err != nil {
			return fmt.Errorf("store CRL %d: %w", number, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build CRL: %w", err)
	}
	s.crl.put(crl)
	return crl.DER, nil
}

// signedBy reports whether the stored CRL c is one that issuer signed.
func (s *Service) signedBy(issuer *ca.Issuer, c store.SignedCRL) bool {
	crl, err := x509.ParseRevocationList(c.DER)
	return err == nil && crl.CheckSignatureFrom(issuer.Cert) == nil
}

// issuedBy reports whether the certificate of record c was signed by issuer.
// The records are the server's own, so the authority key identifier decides;
// a record whose DER cannot be read counts as the current issuer's, so that it
// is never left off every CRL.
func (s *Service) issuedBy(issuer *ca.Issuer, c store.Certificate) bool {
	cert, err := x509.ParseCertificate(c.DER)
	if err != nil {
		return issuer == s.CA.Current()
	}
	return issuer.Named(cert)
}

func reasonOf(st store.CertStatus) int {
	if st == store.CertSuperseded {
		return ocsp.Superseded
	}
	return ocsp.Unspecified
}

// OCSPStatus says what the records know of the certificate with serial, issued
// by issuer: good, revoked (or superseded), or unknown (no such certificate of
// that issuer).
func (s *Service) OCSPStatus(ctx context.Context, issuer *ca.Issuer, serial *big.Int) (ca.OCSPStatus, error) {
	var st ca.OCSPStatus
	err := s.Store.View(ctx, func(tx store.Tx) error {
		c, err := tx.CertificateBySerial(ca.SerialHex(serial))
		if errors.Is(err, store.ErrNotFound) || (err == nil && c.DER != nil && !s.issuedBy(issuer, c)) {
			st.Status = ocsp.Unknown
			return nil
		}
		if err != nil {
			return err
		}
		switch c.Status {
		case store.CertActive:
			st.Status = ocsp.Good
		case store.CertRevoked, store.CertSuperseded:
			st = ca.OCSPStatus{Status: ocsp.Revoked, RevokedAt: *c.WithdrawnAt, Reason: reasonOf(c.Status)}
		default:
			st.Status = ocsp.Unknown
		}
		return nil
	})
	if err != nil {
		return ca.OCSPStatus{}, fmt.Errorf("OCSP status of %s: %w", ca.SerialHex(serial), err)
	}
	return st, nil
}
