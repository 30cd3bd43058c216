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

// crlCache is the last CRL signed for each issuing CA, kept until the records
// change (the CRL number moves on) or until half its validity has passed.
type crlCache struct {
	mu      sync.Mutex
	issuers map[string]*cachedCRL
}

type cachedCRL struct {
	number  int64
	der     []byte
	refresh time.Time
}

// CRL returns the current DER CRL of issuer (the current issuing CA or a
// retired one): every certificate it issued that was picked up and then
// revoked or superseded. It is signed again only when the records changed
// since (every such change bumps the CRL number in its own transaction, by this
// process or the CLI) or when half of the last one's validity has passed. Every
// signing takes a new number from the store, in the same transaction that reads
// the entries, so no two CRLs ever share a number, across restarts and across
// several servers on one database.
func (s *Service) CRL(ctx context.Context, issuer *ca.Issuer) ([]byte, error) {
	now := s.now()
	var number int64
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		number, err = tx.CRLNumber()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read the CRL number: %w", err)
	}
	s.crl.mu.Lock()
	defer s.crl.mu.Unlock()
	if c := s.crl.issuers[issuer.ID()]; c != nil && c.number == number && now.Before(c.refresh) {
		return c.der, nil
	}
	var entries []ca.Withdrawn
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		if number, err = tx.NextCRLNumber(); err != nil {
			return err
		}
		certs, err := tx.WithdrawnCertificates()
		if err != nil {
			return err
		}
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
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("build CRL: %w", err)
	}
	der, err := s.CA.CRL(issuer, entries, number, now)
	if err != nil {
		return nil, err
	}
	if s.crl.issuers == nil {
		s.crl.issuers = map[string]*cachedCRL{}
	}
	s.crl.issuers[issuer.ID()] = &cachedCRL{number: number, der: der, refresh: now.Add(ca.CRLValidity / 2)}
	return der, nil
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
