package lifecycle

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net/mail"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

// OperatorName starts the audit actor of the bank's own actions:
// "operator:<OS user>" (see [OperatorActor]).
const OperatorName = "operator"

// Actor is who asks for a change: the bank's operator, or a logged-in user.
type Actor struct {
	Name       string // "operator:<OS user>" or the caller's login ID
	Operator   bool
	Role       wire.Role // the caller's role, for a user
	ContractID string    // the caller's contract, for a user
	RemoteAddr string    // where the request came from; empty for the local CLI
}

// OperatorActor is the bank acting through its CLI or in-process API, as the
// OS user running it: the audit trail names it "operator:<OS user>". A login ID
// cannot hold ':' (loginIDPattern), so no user, not even one named
// "operator", can pass for the bank in the audit trail.
func OperatorActor() Actor { return OperatorActorAs(osUser()) }

// OperatorActorAs is the bank acting as the OS user who.
func OperatorActorAs(who string) Actor {
	return Actor{Name: OperatorName + ":" + who, Operator: true}
}

// osUser names the OS account running this process, for the audit trail.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, env := range []string{"USER", "USERNAME", "LOGNAME"} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	return "uid-" + strconv.Itoa(os.Getuid())
}

// Service applies the life-cycle rules to the records in Store, signing with CA.
type Service struct {
	Store  store.Store
	CA     *ca.CA
	Policy Policy
	Now    func() time.Time

	dummyHash string // verified against when the login ID is unknown, so both cases take as long
	// verify checks a password against a hash: VerifyPassword, replaced by
	// tests that need to hold checks in flight.
	verify func(password, hash string) (bool, error)
	// checkSlots holds one token per password check in flight; see LimitPasswordChecks.
	checkSlots chan struct{}
	checkWait  time.Duration
	crl        crlCache
}

// New returns a Service. now may be nil for the wall clock.
func New(st store.Store, authority *ca.CA, p Policy, now func() time.Time) (*Service, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	dummy, err := HashPassword("inkan-dummy-password", p.Argon2)
	if err != nil {
		return nil, err
	}
	s := &Service{Store: st, CA: authority, Policy: p, Now: now, dummyHash: dummy, verify: VerifyPassword}
	s.LimitPasswordChecks(DefaultCheckSlots(), DefaultCheckWait)
	return s, nil
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func audit(tx store.Tx, at time.Time, a Actor, action, target, detail string) error {
	return tx.AppendAudit(store.AuditEntry{At: at, Actor: a.Name, Action: action, Target: target, RemoteAddr: a.RemoteAddr, Detail: detail})
}

var loginIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Length limits of the text fields a caller sets (in characters, e-mail in bytes).
const (
	maxLoginIDLength     = 64
	maxDisplayNameLength = 100
	maxEmailLength       = 254 // RFC 5321's limit on a forward path
	maxContractName      = 200
)

// checkText refuses a text field over max characters or holding control
// characters (a line break in a display name would travel into e-mail headers and logs).
func checkText(field, value string, max int) error {
	if !utf8.ValidString(value) || utf8.RuneCountInString(value) > max || strings.IndexFunc(value, unicode.IsControl) >= 0 {
		return &RuleError{Code: wire.CodeBadRequest, Message: fmt.Sprintf("%s: at most %d characters, without line breaks or control characters", field, max)}
	}
	return nil
}

// CreateContract records a new contract and returns its ID (ten digits).
func (s *Service) CreateContract(ctx context.Context, a Actor, name string) (string, error) {
	if !a.Operator {
		return "", fmt.Errorf("create contract: %w", ErrForbidden)
	}
	if name == "" {
		return "", fmt.Errorf("create contract: name must not be empty: %w", ErrBadRequest)
	}
	if err := checkText("name", name, maxContractName); err != nil {
		return "", fmt.Errorf("create contract: %w", err)
	}
	n, err := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
	if err != nil {
		return "", fmt.Errorf("create contract: %w", err)
	}
	id := fmt.Sprintf("%010d", n.Int64()+1_000_000_000)
	now := s.now()
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateContract(store.Contract{ID: id, Name: name, CreatedAt: now}); err != nil {
			return err
		}
		return audit(tx, now, a, "contract.create", id, name)
	})
	if err != nil {
		return "", fmt.Errorf("create contract %q: %w", name, err)
	}
	return id, nil
}

// NewUser is what creating a user needs.
type NewUser struct {
	ContractID  string
	LoginID     string
	Role        wire.Role
	DisplayName string
	Email       string
	Password    string
	// IssueCertificate issues the new ID's certificate (opens its pickup window)
	// in the same transaction as the creation: both happen or neither.
	IssueCertificate bool
}

// CreateUser adds a login ID to a contract, and issues its certificate when
// nu.IssueCertificate says so. The operator may add any role; a contract's
// admin may add approver and general IDs to its own contract.
func (s *Service) CreateUser(ctx context.Context, a Actor, nu NewUser) error {
	err := s.createUser(ctx, a, nu)
	if errors.Is(err, ErrAlreadyExists) {
		err = errors.Join(err, s.auditTakenID(ctx, a, nu.LoginID))
	}
	if err != nil {
		return fmt.Errorf("create user %s: %w", LogID(nu.LoginID), err)
	}
	return nil
}

func (s *Service) createUser(ctx context.Context, a Actor, nu NewUser) error {
	if !a.Operator {
		if a.Role != wire.RoleAdmin {
			return ErrForbidden
		}
		if nu.Role == wire.RoleAdmin {
			return fmt.Errorf("only the bank creates admin IDs: %w", ErrForbidden)
		}
		nu.ContractID = a.ContractID
	}
	if !loginIDPattern.MatchString(nu.LoginID) || len(nu.LoginID) > wire.MaxLoginIDInCertificate {
		// The certificate's CN is "<loginID>+<bankCode>", at most 64 characters.
		return fmt.Errorf("login ID must be 1-%d letters, digits, '.', '_' or '-': %w", wire.MaxLoginIDInCertificate, ErrBadRequest)
	}
	if re, err := wire.LoginIDMatcher(s.Policy.LoginIDPattern); err != nil {
		return err
	} else if re != nil && !re.MatchString(nu.LoginID) {
		return fmt.Errorf("login ID %q does not have the form this bank issues (policy.login_id_pattern %q): %w", nu.LoginID, s.Policy.LoginIDPattern, ErrBadRequest)
	}
	if !nu.Role.Valid() {
		return fmt.Errorf("role %q is not admin, approver or general: %w", nu.Role, ErrBadRequest)
	}
	if err := checkText("display_name", nu.DisplayName, maxDisplayNameLength); err != nil {
		return err
	}
	if err := checkEmail(nu.Email); err != nil {
		return err
	}
	if err := CheckPasswordPolicy(nu.LoginID, nu.Password); err != nil {
		return err
	}
	hash, err := HashPassword(nu.Password, s.Policy.Argon2)
	if err != nil {
		return err
	}
	now := s.now()
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Contract(nu.ContractID); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no contract %q: %w", nu.ContractID, ErrNotFound)
		} else if err != nil {
			return err
		}
		u := store.User{LoginID: nu.LoginID, ContractID: nu.ContractID, Role: nu.Role,
			DisplayName: nu.DisplayName, Email: nu.Email, PasswordHash: hash, CreatedAt: now}
		err := tx.CreateUser(u)
		if errors.Is(err, store.ErrConflict) {
			return ErrAlreadyExists
		}
		if err != nil {
			return err
		}
		if err := audit(tx, now, a, "user.create", nu.LoginID, string(nu.Role)); err != nil {
			return err
		}
		if !nu.IssueCertificate {
			return nil
		}
		if err := s.openPickup(tx, u, now); err != nil {
			return fmt.Errorf("issue certificate: %w", err)
		}
		return audit(tx, now, a, "certificate.issue", nu.LoginID, "")
	})
}

// auditTakenID records that a was told loginID is taken (user.create.taken):
// the answer says the ID exists, possibly in another company's contract, so
// the bank must be able to see who asked. Its own transaction: the creation's
// was rolled back.
func (s *Service) auditTakenID(ctx context.Context, a Actor, loginID string) error {
	now := s.now()
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		return audit(tx, now, a, "user.create.taken", loginID, a.ContractID)
	})
	if err != nil {
		return fmt.Errorf("audit the taken login ID: %w", err)
	}
	return nil
}

// checkEmail accepts an empty address (no expiry e-mails) or a bare one such
// as taro@example.co.jp: no display name, no angle brackets, nothing around
// it, since it goes into the To: header of the expiry notices as it is.
func checkEmail(email string) error {
	if email == "" {
		return nil
	}
	if len(email) > maxEmailLength {
		return &RuleError{Code: wire.CodeBadRequest, Message: fmt.Sprintf("email: at most %d bytes", maxEmailLength)}
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return &RuleError{Code: wire.CodeBadRequest, Message: fmt.Sprintf("email: %q is not a bare e-mail address such as taro@example.co.jp", email)}
	}
	return nil
}

// target loads the user a's change is about and checks that a may touch it:
// the operator any ID; an admin the IDs of its own contract, and for certificate
// actions (adminOnly false) only approver and general IDs.
func target(tx store.Tx, a Actor, loginID string, allowAdminTarget bool) (store.User, error) {
	if !a.Operator && a.Role != wire.RoleAdmin {
		return store.User{}, ErrForbidden
	}
	u, err := tx.User(loginID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.Operator && u.ContractID != a.ContractID) {
		return store.User{}, ErrNotFound
	}
	if err != nil {
		return store.User{}, err
	}
	if !a.Operator && u.Role == wire.RoleAdmin && !allowAdminTarget {
		return store.User{}, fmt.Errorf("only the bank acts on an admin ID's certificate: %w", ErrForbidden)
	}
	return u, nil
}

// currentCert returns u's current certificate record, or nil.
func currentCert(tx store.Tx, u store.User) (*store.Certificate, error) {
	if u.CurrentCertID == nil {
		return nil, nil
	}
	c, err := tx.Certificate(*u.CurrentCertID)
	if err != nil {
		return nil, fmt.Errorf("load certificate %d: %w", *u.CurrentCertID, err)
	}
	return &c, nil
}

// withdraw ends c: revoked, or superseded by a newer issuance. A certificate
// that was picked up goes onto the CRL, so the CRL number grows in the same
// transaction.
func withdraw(tx store.Tx, c *store.Certificate, status store.CertStatus, now time.Time) error {
	if c == nil || (c.Status != store.CertAwaitingPickup && c.Status != store.CertActive) {
		return nil
	}
	c.Status, c.WithdrawnAt = status, &now
	if err := tx.UpdateCertificate(*c); err != nil {
		return err
	}
	if c.Serial != "" {
		if err := tx.BumpCRLNumber(); err != nil {
			return fmt.Errorf("bump the CRL number: %w", err)
		}
	}
	return nil
}

// openPickup records a new issuance for u with a fresh pickup window and makes it current.
func (s *Service) openPickup(tx store.Tx, u store.User, now time.Time) error {
	id, err := tx.InsertCertificate(store.Certificate{LoginID: u.LoginID, ContractID: u.ContractID,
		Status: store.CertAwaitingPickup, IssuedAt: now, PickupDeadline: now.Add(days(s.Policy.PickupWindowDays))})
	if err != nil {
		return err
	}
	u.CurrentCertID = &id
	return tx.UpdateUser(u)
}

// Issue opens an 80-day pickup window for loginID. One certificate per ID:
// whatever was there (waiting or picked up) is superseded.
func (s *Service) Issue(ctx context.Context, a Actor, loginID string) error {
	if err := s.openWindow(ctx, a, loginID, store.CertSuperseded, "certificate.issue"); err != nil {
		return fmt.Errorf("issue certificate for %s: %w", LogID(loginID), err)
	}
	return nil
}

// openWindow withdraws loginID's current certificate as withdrawAs and opens a
// new pickup window, in one transaction with an audit row named action. Issue and
// Reissue differ only in how the old certificate leaves: superseded or revoked.
func (s *Service) openWindow(ctx context.Context, a Actor, loginID string, withdrawAs store.CertStatus, action string) error {
	now := s.now()
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := target(tx, a, loginID, false)
		if err != nil {
			return err
		}
		cur, err := currentCert(tx, u)
		if err != nil {
			return err
		}
		if err := withdraw(tx, cur, withdrawAs, now); err != nil {
			return err
		}
		if err := s.openPickup(tx, u, now); err != nil {
			return err
		}
		return audit(tx, now, a, action, u.LoginID, "")
	})
}

// Revoke revokes loginID's current certificate, at once: waiting or picked up.
func (s *Service) Revoke(ctx context.Context, a Actor, loginID string) error {
	now := s.now()
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := target(tx, a, loginID, false)
		if err != nil {
			return err
		}
		cur, err := currentCert(tx, u)
		if err != nil {
			return err
		}
		if cur == nil || (cur.Status != store.CertActive && cur.Status != store.CertAwaitingPickup) {
			return ErrNoCertificate
		}
		if err := withdraw(tx, cur, store.CertRevoked, now); err != nil {
			return err
		}
		return audit(tx, now, a, "certificate.revoke", u.LoginID, cur.Serial)
	})
	if err != nil {
		return fmt.Errorf("revoke certificate of %s: %w", LogID(loginID), err)
	}
	return nil
}

// Reissue (再発行) revokes what loginID has and opens a new pickup window. For an
// admin ID only the operator may reissue; doing so unblocks the contract.
func (s *Service) Reissue(ctx context.Context, a Actor, loginID string) error {
	if err := s.openWindow(ctx, a, loginID, store.CertRevoked, "certificate.reissue"); err != nil {
		return fmt.Errorf("reissue certificate for %s: %w", LogID(loginID), err)
	}
	return nil
}

// DeleteUser removes loginID and revokes its certificate. An admin may delete
// the approver and general IDs of its contract; only the operator an admin ID.
func (s *Service) DeleteUser(ctx context.Context, a Actor, loginID string) error {
	now := s.now()
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := target(tx, a, loginID, false)
		if err != nil {
			return err
		}
		cur, err := currentCert(tx, u)
		if err != nil {
			return err
		}
		if err := withdraw(tx, cur, store.CertRevoked, now); err != nil {
			return err
		}
		if err := tx.DeleteUser(u.LoginID); err != nil {
			return err
		}
		return audit(tx, now, a, "user.delete", u.LoginID, "")
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", LogID(loginID), err)
	}
	return nil
}

// Unlock clears loginID's lock and wrong-password count. The operator unlocks
// any ID; a contract's admin the approver and general IDs of its contract (an
// admin ID is the bank's to unlock).
func (s *Service) Unlock(ctx context.Context, a Actor, loginID string) error {
	now := s.now()
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := target(tx, a, loginID, true)
		if err != nil {
			return err
		}
		if !a.Operator && u.Role == wire.RoleAdmin {
			return ErrAdminUnlockByBank
		}
		u.Locked, u.FailedLogins = false, 0
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		return audit(tx, now, a, "user.unlock", u.LoginID, "")
	})
	if err != nil {
		return fmt.Errorf("unlock %s: %w", LogID(loginID), err)
	}
	return nil
}

// SetPassword replaces loginID's password and unlocks it (パスワード再設定). Its
// sessions end: whoever opened them with the old password must log in again.
// The operator sets any ID's password; a contract's admin those of the approver
// and general IDs of its contract (an admin ID's, its own included, is the
// bank's to reset: ErrAdminPasswordByBank). The audit row says whether the
// change also lifted a lock.
func (s *Service) SetPassword(ctx context.Context, a Actor, loginID, password string) error {
	if err := CheckPasswordPolicy(loginID, password); err != nil {
		return fmt.Errorf("set password of %s: %w", LogID(loginID), err)
	}
	hash, err := HashPassword(password, s.Policy.Argon2)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := target(tx, a, loginID, true)
		if err != nil {
			return err
		}
		if !a.Operator && u.Role == wire.RoleAdmin {
			return ErrAdminPasswordByBank
		}
		detail := ""
		if u.Locked {
			detail = "unlocked"
		}
		u.PasswordHash, u.Locked, u.FailedLogins = hash, false, 0
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		if err := tx.DeleteSessionsOf(u.LoginID); err != nil {
			return err
		}
		return audit(tx, now, a, "user.set_password", u.LoginID, detail)
	})
	if err != nil {
		return fmt.Errorf("set password of %s: %w", LogID(loginID), err)
	}
	return nil
}

// contractBlocked reports whether contractID is blocked: its admin's pickup
// window lapsed, so no ID of the contract may do anything until the bank
// reissues (or issues) the admin certificate.
func (s *Service) contractBlocked(tx store.Tx, contractID string, now time.Time) (bool, error) {
	certs, err := tx.AdminCurrentCertificates(contractID)
	if err != nil {
		return false, fmt.Errorf("load the admin certificates of contract %s: %w", contractID, err)
	}
	for i := range certs {
		if lapsedUnused(&certs[i], now) {
			return true, nil
		}
	}
	return false, nil
}

// lapsedUnused reports whether c is a pickup window that passed without a
// pickup: still waiting after its deadline, or revoked only after it. Revoking
// a lapsed admin window does not unblock the contract; only a new window does.
func lapsedUnused(c *store.Certificate, now time.Time) bool {
	if c == nil || c.Serial != "" {
		return false
	}
	switch c.Status {
	case store.CertAwaitingPickup:
		return now.After(c.PickupDeadline)
	case store.CertRevoked:
		return c.WithdrawnAt != nil && c.WithdrawnAt.After(c.PickupDeadline)
	}
	return false
}

// checkNotBlocked refuses u when its own pickup window lapsed (pickup_lapsed) or
// when its contract is blocked by a lapsed admin window (contract_blocked).
func (s *Service) checkNotBlocked(tx store.Tx, u store.User, cur *store.Certificate, now time.Time) error {
	if cur != nil && cur.Status == store.CertAwaitingPickup && now.After(cur.PickupDeadline) {
		return ErrPickupLapsed
	}
	blocked, err := s.contractBlocked(tx, u.ContractID, now)
	if err != nil {
		return err
	}
	if blocked {
		return ErrContractBlocked
	}
	return nil
}

// presentedIsStored reports whether the presented certificate is, byte for
// byte, the one this server issued under its serial. A serial and a signature
// are not enough: whoever copied the online issuing key off the server's disk
// could sign a certificate with a victim's serial and subject for a key of
// their own; it would check against the CA and name the victim's record, but
// it is not the certificate that record holds.
func presentedIsStored(cert *x509.Certificate, rec store.Certificate) bool {
	if len(rec.DER) == 0 {
		return false
	}
	stored, presented := sha256.Sum256(rec.DER), sha256.Sum256(cert.Raw)
	return subtle.ConstantTimeCompare(stored[:], presented[:]) == 1
}

// identify finds the record of a presented client certificate and checks it is
// this bank's, the very certificate issued under its serial (presentedIsStored),
// the current certificate of its ID and not revoked. Every use of a client
// certificate (login, the session it binds, renewal) goes through here.
// Validity dates are left to the caller: renewal accepts an expired certificate.
//
// A certificate that is, byte for byte, the one a record holds was signed by
// this CA (the records hold nothing else), so its signature is not checked
// again: only its issuer's standing (CA.CheckStored). Any other certificate is
// refused with the answer it always had: CA.CheckIssued's when that fails (not
// this bank's, or of a revoked issuing CA), else unknown.
func (s *Service) identify(tx store.Tx, cert *x509.Certificate) (store.User, store.Certificate, error) {
	if cert == nil {
		return store.User{}, store.Certificate{}, ErrClientCertRequired
	}
	rec, err := s.storedRecord(tx, cert)
	if errors.Is(err, ErrUnknownIssuer) {
		if ierr := s.checkIssued(cert); ierr != nil {
			return store.User{}, store.Certificate{}, ierr
		}
	}
	if err != nil {
		return store.User{}, store.Certificate{}, err
	}
	if err := issuerVerdict(s.CA.CheckStored(cert)); err != nil {
		return store.User{}, store.Certificate{}, err
	}
	return s.recordOwner(tx, rec)
}

// checkIssued is CA.CheckIssued as the rules answer it (issuerVerdict).
func (s *Service) checkIssued(cert *x509.Certificate) error {
	return issuerVerdict(s.CA.CheckIssued(cert))
}

// issuerVerdict is an answer of CA.CheckIssued or CA.CheckStored as the rules
// give it: a certificate of an issuing CA revoked in the root CRL is revoked
// (its user needs a reissue), any other failure is an unknown issuer.
func issuerVerdict(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ca.ErrIssuerRevoked):
		return fmt.Errorf("%w: %w", ErrRevoked, err)
	}
	return ErrUnknownIssuer
}

// identifyStored is identify after the caller checked cert's signature with
// CA.CheckIssued: the record lookup and state checks alone.
func (s *Service) identifyStored(tx store.Tx, cert *x509.Certificate) (store.User, store.Certificate, error) {
	rec, err := s.storedRecord(tx, cert)
	if err != nil {
		return store.User{}, store.Certificate{}, err
	}
	return s.recordOwner(tx, rec)
}

// storedRecord is the record of cert's serial, if it holds cert byte for byte
// (presentedIsStored); else ErrUnknownIssuer.
func (s *Service) storedRecord(tx store.Tx, cert *x509.Certificate) (store.Certificate, error) {
	rec, err := tx.CertificateBySerial(ca.SerialHex(cert.SerialNumber))
	if errors.Is(err, store.ErrNotFound) {
		return store.Certificate{}, ErrUnknownIssuer
	}
	if err != nil {
		return store.Certificate{}, err
	}
	if !presentedIsStored(cert, rec) {
		return store.Certificate{}, fmt.Errorf("serial %s: the presented certificate is not the one issued under it: %w", rec.Serial, ErrUnknownIssuer)
	}
	return rec, nil
}

// recordOwner checks the state of rec, a presented certificate's record, and
// returns its ID: a revoked or superseded certificate, or one that is no longer
// its ID's current one, is refused (the record comes back with the error).
func (s *Service) recordOwner(tx store.Tx, rec store.Certificate) (store.User, store.Certificate, error) {
	switch rec.Status {
	case store.CertRevoked:
		return store.User{}, rec, ErrRevoked
	case store.CertSuperseded:
		return store.User{}, rec, ErrSuperseded
	}
	u, err := tx.User(rec.LoginID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, rec, ErrRevoked
	}
	if err != nil {
		return store.User{}, rec, err
	}
	if u.CurrentCertID == nil || *u.CurrentCertID != rec.ID {
		return store.User{}, rec, ErrSuperseded
	}
	return u, rec, nil
}
