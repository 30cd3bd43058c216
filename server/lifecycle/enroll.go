package lifecycle

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

// ParseCSR parses a DER PKCS#10 request and checks its self-signature and key.
func ParseCSR(der []byte) (*x509.CertificateRequest, error) {
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrBadCSR, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrBadCSR, err)
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return csr, nil
		}
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n >= 2048 && n <= 4096 {
			return csr, nil
		}
	}
	return nil, ErrKeyNotAllowed
}

// parseCSR is ParseCSR, then the policy's rule: the key is the kind the bank
// asks for in csrattrs.
func (s *Service) parseCSR(der []byte) (*x509.CertificateRequest, error) {
	csr, err := ParseCSR(der)
	if err != nil {
		return nil, err
	}
	if got := csrKeyType(csr); got != s.Policy.keyType() {
		return nil, fmt.Errorf("%w (this bank asks for %s keys, the CSR has %s)", ErrKeyNotAllowed, s.Policy.keyType(), got)
	}
	return csr, nil
}

// csrKeyType names the key type of a CSR that ParseCSR accepted.
func csrKeyType(csr *x509.CertificateRequest) wire.KeyType {
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P384() {
			return wire.KeyECDSAP384
		}
		return wire.KeyECDSAP256
	case *rsa.PublicKey:
		return wire.KeyType(fmt.Sprintf("rsa-%d", k.N.BitLen()))
	}
	return ""
}

// CSRAttrs is what csrattrs answers (RFC 7030 §4.5): the policy's key type and
// the roles that may back up their keys.
func (s *Service) CSRAttrs() wire.CSRAttrs {
	return wire.CSRAttrs{KeyType: s.Policy.keyType(), BackupRoles: s.Policy.BackupRoles}
}

// CSRAttrsFor is CSRAttrs for the ID whose login ID and password came with the
// request, with its role, so that the PC knows before it makes the key whether
// the key may be backed up. The password is checked and counted like a pickup's,
// and an ID the pickup would refuse as lapsed (its own pickup window passed, or
// its contract blocked by the admin's) is refused with the pickup's code, so the
// PC learns it before it makes anything.
func (s *Service) CSRAttrsFor(ctx context.Context, remoteAddr, loginID, password string) (wire.CSRAttrs, error) {
	snap, err := s.snapshotUser(ctx, loginID)
	if err != nil {
		return wire.CSRAttrs{}, fmt.Errorf("CSR attributes for %s: %w", LogID(loginID), err)
	}
	a, err := s.checkPassword(ctx, remoteAddr, loginID, password, snap)
	if err != nil {
		return wire.CSRAttrs{}, fmt.Errorf("CSR attributes for %s: %w", LogID(loginID), err)
	}
	attrs := s.CSRAttrs()
	now := s.now()
	var refusal error // after a right password: commit the cleared failure count, then refuse
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		refusal = nil
		u, err := s.settleAttempt(tx, a)
		if err != nil {
			return err
		}
		cur, err := currentCert(tx, u)
		if err != nil {
			return err
		}
		refusal = s.checkNotBlocked(tx, u, cur, now)
		attrs.Role = u.Role
		return nil
	})
	if err == nil {
		err = refusal
	}
	if err != nil {
		return wire.CSRAttrs{}, fmt.Errorf("CSR attributes for %s: %w", LogID(loginID), err)
	}
	return attrs, nil
}

// issueX509 signs the certificate of record rec for u, and turns the record active.
//
// pre, when not nil, is a certificate signed before the transaction from a
// snapshot of the records (see presign): it is used only if the records still
// give the same subject and validity, else it is discarded and the
// certificate is signed here. Either way the certificate the record gets is
// the one the rules, read inside this transaction, call for.
func (s *Service) issueX509(tx store.Tx, u store.User, rec *store.Certificate, csr *x509.CertificateRequest, now time.Time, pre *presigned) (*x509.Certificate, error) {
	c, err := tx.Contract(u.ContractID)
	if err != nil {
		return nil, fmt.Errorf("load contract %s: %w", u.ContractID, err)
	}
	name, notAfter := s.certFields(u, c, rec, now)
	var cert *x509.Certificate
	if pre != nil && pre.csr == csr && pre.now.Equal(now) && pre.notAfter.Equal(notAfter) && pre.name == name.String() {
		cert = pre.cert
	} else if cert, err = s.CA.Issue(csr, name, now, notAfter); err != nil {
		return nil, err
	}
	nb, na := cert.NotBefore.UTC(), cert.NotAfter.UTC()
	rec.Status, rec.Serial, rec.DER, rec.NotBefore, rec.NotAfter = store.CertActive, ca.SerialHex(cert.SerialNumber), cert.Raw, &nb, &na
	if err := tx.UpdateCertificate(*rec); err != nil {
		return nil, err
	}
	// The admin's first pickup switches the contract to certificate mode.
	if u.Role == wire.RoleAdmin && c.CertificateModeAt == nil {
		c.CertificateModeAt = &now
		if err := tx.UpdateContract(c); err != nil {
			return nil, err
		}
	}
	return cert, nil
}

// certFields are the subject and notAfter of the certificate for record rec of u.
func (s *Service) certFields(u store.User, c store.Contract, rec *store.Certificate, now time.Time) (pkix.Name, time.Time) {
	start := now
	if s.Policy.ValidityFromIssuance {
		start = rec.IssuedAt
	}
	name := wire.Subject{LoginID: u.LoginID, Role: u.Role, ContractID: c.ID, ContractName: c.Name, BankCode: s.Policy.BankCode}.Name()
	return name, start.Add(days(s.Policy.ValidityDays))
}

// presigned is a certificate signed outside the write transaction, with what
// it was signed from, so that issueX509 can tell whether it still fits.
type presigned struct {
	csr      *x509.CertificateRequest
	now      time.Time
	name     string
	notAfter time.Time
	cert     *x509.Certificate
}

// presign signs, outside the write transaction, the certificate that issueX509
// would sign for u's record rec now, from a read snapshot. Signing is the
// slowest step of a pickup or renewal; done here it runs in parallel on every
// core instead of inside the one write transaction everyone queues for. It
// returns nil when it cannot sign (the transaction then signs as before); a
// presigned certificate the transaction does not use is dropped unseen.
func (s *Service) presign(u store.User, c store.Contract, rec *store.Certificate, csr *x509.CertificateRequest, now time.Time) *presigned {
	name, notAfter := s.certFields(u, c, rec, now)
	cert, err := s.CA.Issue(csr, name, now, notAfter)
	if err != nil {
		return nil
	}
	return &presigned{csr: csr, now: now, name: name.String(), notAfter: notAfter, cert: cert}
}

// pickupSnapshot is what a pickup reads before its password check: the ID
// (nil when unknown), and, when its pickup window is open, its contract and
// waiting record, from which the certificate can be presigned.
type pickupSnapshot struct {
	user     *store.User
	contract store.Contract
	waiting  *store.Certificate
}

// readPickup reads loginID for a pickup in one read snapshot.
func (s *Service) readPickup(ctx context.Context, loginID string) (pickupSnapshot, error) {
	var snap pickupSnapshot
	err := s.Store.View(ctx, func(tx store.Tx) error {
		snap = pickupSnapshot{}
		u, err := tx.User(loginID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		snap.user = &u
		cur, err := currentCert(tx, u)
		if err != nil || cur == nil || cur.Status != store.CertAwaitingPickup {
			return err
		}
		if snap.contract, err = tx.Contract(u.ContractID); err != nil {
			return err
		}
		snap.waiting = cur
		return nil
	})
	if err != nil {
		return pickupSnapshot{}, fmt.Errorf("load user %s: %w", LogID(loginID), err)
	}
	return snap, nil
}

// presignRenewal presigns the renewal of current, whose signature the caller
// checked (so this CA issued it), from the subject current carries: the ID,
// role and contract it was issued for, which are what the records give in the
// common case. It reads no records; the transaction recomputes the subject
// from them and signs anew if anything changed since (issueX509).
func (s *Service) presignRenewal(current *x509.Certificate, csr *x509.CertificateRequest, now time.Time) *presigned {
	subj, err := wire.SubjectOf(current)
	if err != nil {
		return nil
	}
	u := store.User{LoginID: subj.LoginID, Role: subj.Role}
	c := store.Contract{ID: subj.ContractID, Name: subj.ContractName}
	return s.presign(u, c, &store.Certificate{IssuedAt: now}, csr, now)
}

// Pickup (取得) signs the certificate waiting for loginID, for the key in csrDER,
// after checking the login password. It answers only inside the pickup window,
// except that a pickup repeated with the same key within the policy's
// RepeatGrace gets the certificate already picked up (see repeatedPickup).
func (s *Service) Pickup(ctx context.Context, remoteAddr, loginID, password string, csrDER []byte) (*x509.Certificate, error) {
	csr, err := s.parseCSR(csrDER)
	if err != nil {
		return nil, fmt.Errorf("pick up certificate for %s: %w", LogID(loginID), err)
	}
	snap, err := s.readPickup(ctx, loginID)
	if err != nil {
		return nil, fmt.Errorf("pick up certificate for %s: %w", LogID(loginID), err)
	}
	at, err := s.checkPassword(ctx, remoteAddr, loginID, password, snap.user)
	if err != nil {
		return nil, fmt.Errorf("pick up certificate for %s: %w", LogID(loginID), err)
	}
	now := s.now()
	var pre *presigned
	if snap.waiting != nil {
		pre = s.presign(*snap.user, snap.contract, snap.waiting, csr, now)
	}
	var cert *x509.Certificate
	var refusal error // after a right password: commit the cleared failure count, then refuse
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		refusal = nil
		u, err := s.settleAttempt(tx, at)
		if err != nil {
			return err
		}
		cur, err := currentCert(tx, u)
		if err != nil {
			return err
		}
		if refusal = s.checkNotBlocked(tx, u, cur, now); refusal != nil {
			return nil
		}
		a := Actor{Name: loginID, Role: u.Role, ContractID: u.ContractID, RemoteAddr: remoteAddr}
		again, ok, err := s.repeatedPickup(cur, csr, now)
		if err != nil {
			return err
		}
		if ok {
			cert = again
			return audit(tx, now, a, "certificate.pickup.repeat", u.LoginID, cur.Serial)
		}
		if cur == nil || cur.Status != store.CertAwaitingPickup {
			refusal = ErrNoPickupOpen
			return nil
		}
		cert, err = s.issueX509(tx, u, cur, csr, now, pre)
		if err != nil {
			return err
		}
		return audit(tx, now, a, "certificate.pickup", u.LoginID, cur.Serial)
	})
	if err == nil {
		err = refusal
	}
	if err != nil {
		return nil, fmt.Errorf("pick up certificate for %s: %w", LogID(loginID), err)
	}
	return cert, nil
}

// Renew (更新) replaces the presented current certificate with a new one for
// the new key in csrDER. It answers from RenewBeforeDays before expiry to
// RenewAfterDays after it, both ends included, and not while the ID is
// locked; the old certificate is superseded. A renewal repeated
// with the superseded certificate and the same new key within the policy's
// RepeatGrace gets the certificate already issued (see repeatedRenewal).
func (s *Service) Renew(ctx context.Context, remoteAddr string, current *x509.Certificate, csrDER []byte) (*x509.Certificate, error) {
	csr, err := s.parseCSR(csrDER)
	if err != nil {
		return nil, fmt.Errorf("renew certificate: %w", err)
	}
	// The presented certificate's signature is checked once, here, outside
	// the write transaction; inside, identifyStored checks it is the stored one.
	if current == nil {
		return nil, fmt.Errorf("renew certificate: %w", ErrClientCertRequired)
	}
	if err := s.checkIssued(current); err != nil {
		return nil, fmt.Errorf("renew certificate: %w", err)
	}
	now := s.now()
	pre := s.presignRenewal(current, csr, now)
	var cert *x509.Certificate
	var loginID string
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		u, rec, err := s.identifyStored(tx, current)
		if errors.Is(err, ErrSuperseded) {
			again, ok, rerr := s.answerRepeatedRenewal(tx, remoteAddr, rec, csr, now)
			if rerr != nil || ok {
				cert = again
				return rerr
			}
		}
		if err != nil {
			return err
		}
		loginID = u.LoginID
		if u.Locked {
			return ErrLocked
		}
		if err := s.checkNotBlocked(tx, u, &rec, now); err != nil {
			return err
		}
		from, until := s.Policy.RenewalWindow(*rec.NotAfter)
		switch {
		case now.Before(from):
			return ErrNotRenewableYet
		case now.After(until):
			return ErrRenewalWindowClosed
		}
		if bytes.Equal(csr.RawSubjectPublicKeyInfo, current.RawSubjectPublicKeyInfo) {
			return ErrRenewalNeedsNewKey
		}
		if err := withdraw(tx, &rec, store.CertSuperseded, now); err != nil {
			return err
		}
		next := store.Certificate{LoginID: u.LoginID, ContractID: u.ContractID, Status: store.CertAwaitingPickup, IssuedAt: now, PickupDeadline: now, RenewalOf: &rec.ID}
		next.ID, err = tx.InsertCertificate(next)
		if err != nil {
			return err
		}
		u.CurrentCertID = &next.ID
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		cert, err = s.issueX509(tx, u, &next, csr, now, pre)
		if err != nil {
			return err
		}
		a := Actor{Name: u.LoginID, Role: u.Role, ContractID: u.ContractID, RemoteAddr: remoteAddr}
		return audit(tx, now, a, "certificate.renew", u.LoginID, rec.Serial+" -> "+next.Serial)
	})
	if err != nil {
		if loginID != "" {
			return nil, fmt.Errorf("renew certificate of %s: %w", LogID(loginID), err)
		}
		return nil, fmt.Errorf("renew certificate: %w", err)
	}
	return cert, nil
}

// answerRepeatedRenewal answers a renewal repeated with presented, the
// certificate it superseded, when repeatedRenewal applies: the certificate
// already issued, after the usual blocking checks, with an audit row. ok is
// false when the rule does not apply.
func (s *Service) answerRepeatedRenewal(tx store.Tx, remoteAddr string, presented store.Certificate, csr *x509.CertificateRequest, now time.Time) (*x509.Certificate, bool, error) {
	u, next, cert, ok, err := s.repeatedRenewal(tx, presented, csr, now)
	if err != nil || !ok {
		return nil, false, err
	}
	if u.Locked {
		return nil, false, fmt.Errorf("repeat the renewal of %s: %w", u.LoginID, ErrLocked)
	}
	if err := s.checkNotBlocked(tx, u, next, now); err != nil {
		return nil, false, fmt.Errorf("repeat the renewal of %s: %w", u.LoginID, err)
	}
	a := Actor{Name: u.LoginID, Role: u.Role, ContractID: u.ContractID, RemoteAddr: remoteAddr}
	if err := audit(tx, now, a, "certificate.renew.repeat", u.LoginID, presented.Serial+" -> "+next.Serial); err != nil {
		return nil, false, err
	}
	return cert, true, nil
}
