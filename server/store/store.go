// Package store is the storage the Inkan server keeps its records in: contracts,
// users, certificates, sessions, sent e-mail and the audit trail.
//
// It is only storage. It knows no rule of the certificate life cycle (those are in
// package lifecycle) and holds no key material beyond certificates, which are public.
// The interface is deliberately narrow: every method is a plain read or write of
// one kind of record, so that a PostgreSQL implementation can sit beside
// store/sqlite without the rules changing.
//
// # Transactions
//
// Every life-cycle change runs in one [Store.Update] call, so that its record
// changes and its audit row commit together or not at all. [Store.View] is for
// reads that change nothing.
//
// # Several writers
//
// A store may be shared by several server processes (PostgreSQL). Every
// implementation must then give Update the outcome of running the
// transactions one after another, as SQLite's single writer does: inside
// Update, reading a user or a certificate takes that ID's row lock until the
// transaction ends, so that a read-modify-write of an ID's records cannot
// interleave with another's. Update may run fn again when the database
// aborted it for a conflict with a concurrent transaction (a deadlock, a
// serialization failure); fn must have no effect outside tx other than
// setting its results, which a later run overwrites. An implementation may
// also refuse, with ErrConflict, a second waiting or active certificate for
// one login ID, which the rules never make.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/inkan-dev/inkan/wire"
)

// ErrNotFound is returned when the record asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a record with the same key already exists.
var ErrConflict = errors.New("already exists")

// Store opens transactions over the server's records.
type Store interface {
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committed when fn returns nil.
	Update(ctx context.Context, fn func(Tx) error) error
	// Exclusive runs fn unless another process or goroutine sharing the store
	// is running an Exclusive of the same name: then it returns false at once
	// without running fn. It is for periodic jobs with effects outside the
	// store, such as the expiry e-mail sweep, that several servers must not
	// run at the same time. The claim ends when fn returns or the process dies.
	Exclusive(ctx context.Context, name string, fn func(context.Context) error) (ran bool, err error)
	// Close releases the storage.
	Close() error
}

// Tx is the set of reads and writes available inside a transaction.
type Tx interface {
	CreateContract(c Contract) error
	Contract(id string) (Contract, error)
	Contracts() ([]Contract, error)
	UpdateContract(c Contract) error

	// CreateUser stores u; ErrConflict when an ID equal to u.LoginID but for
	// case exists (login IDs are unique without regard to case).
	CreateUser(u User) error
	// User finds the ID equal to loginID without regard to case; the record
	// carries the ID as it was created.
	User(loginID string) (User, error)
	Users(contractID string) ([]User, error)
	// AdminCurrentCertificates lists the current certificate of every admin ID
	// of contractID (admin IDs without one are left out), without reading the
	// contract's other users: the contract-blocked check of every pickup,
	// renewal and login needs only these.
	AdminCurrentCertificates(contractID string) ([]Certificate, error)
	UpdateUser(u User) error
	DeleteUser(loginID string) error

	// InsertCertificate stores c and returns its ID.
	InsertCertificate(c Certificate) (int64, error)
	Certificate(id int64) (Certificate, error)
	CertificateBySerial(serial string) (Certificate, error)
	UpdateCertificate(c Certificate) error
	// Certificates lists the certificates of loginID (without regard to case), or of every ID when loginID is empty, newest first.
	Certificates(loginID string) ([]Certificate, error)
	// WithdrawnCertificates lists every picked-up certificate that was revoked or superseded, oldest first.
	WithdrawnCertificates() ([]Certificate, error)
	// CRLNumber is the number of the current CRL; NextCRLNumber increments it
	// and returns the new number. The number only ever grows.
	CRLNumber() (int64, error)
	NextCRLNumber() (int64, error)
	// BumpCRLNumber increments the CRL number by the time the transaction
	// commits, for a change to the CRL that needs no number of its own; an
	// implementation may wait until commit, so that concurrent changes hold
	// the counter only for their commit.
	BumpCRLNumber() error
	// CRLChanges counts the changes to what CRLs list so far: every
	// BumpCRLNumber, and every increment of the number not taken by
	// NextCRLNumber. A stored CRL signed at the same count lists them all.
	// Inside Update it takes the CRL counter until the transaction ends (as
	// NextCRLNumber does), so that of several servers one at a time decides
	// to sign a new CRL.
	CRLChanges() (int64, error)
	// SignedCRLInfo is the CRL of issuer that PutSignedCRL stored last,
	// without its DER; SignedCRL is the same with it. ErrNotFound when none.
	SignedCRLInfo(issuer string) (SignedCRL, error)
	SignedCRL(issuer string) (SignedCRL, error)
	// PutSignedCRL stores c as issuer's CRL in place of the one before, which
	// must have had a lower number (else ErrConflict).
	PutSignedCRL(c SignedCRL) error
	// ActiveCertificatesExpiringBy lists the active certificates whose NotAfter is at or before t.
	ActiveCertificatesExpiringBy(t time.Time) ([]Certificate, error)

	CreateSession(s Session) error
	Session(tokenHash string) (Session, error)
	DeleteSession(tokenHash string) error
	// DeleteSessionsOf ends every session of loginID (none is not an error).
	DeleteSessionsOf(loginID string) error
	// DeleteExpiredSessions removes every session whose ExpiresAt is before
	// t and returns how many it removed.
	DeleteExpiredSessions(t time.Time) (int64, error)

	// MailSent reports whether the notice for threshold days was sent for certificate certID.
	MailSent(certID int64, days int) (bool, error)
	RecordMail(certID int64, days int, at time.Time) error

	AppendAudit(e AuditEntry) error
	Audit(limit int) ([]AuditEntry, error)
}

// Contract is one company's agreement with the bank.
type Contract struct {
	ID        string
	Name      string
	CreatedAt time.Time
	// CertificateModeAt is when the contract's admin first picked up a certificate;
	// from then on every ID of the contract logs in with a certificate only.
	CertificateModeAt *time.Time
}

// User is one login ID.
type User struct {
	LoginID       string
	ContractID    string
	Role          wire.Role
	DisplayName   string
	Email         string
	PasswordHash  string
	FailedLogins  int
	Locked        bool
	LastLoginAt   *time.Time
	CreatedAt     time.Time
	CurrentCertID *int64 // the ID's current certificate, nil when none was issued
}

// CertStatus is where a certificate record stands. Lapse and expiry are not
// statuses: they follow from the clock.
type CertStatus string

// Certificate record statuses.
const (
	CertAwaitingPickup CertStatus = "awaiting_pickup" // issued: the pickup window is open or lapsed
	CertActive         CertStatus = "active"          // picked up: an X.509 certificate exists
	CertRevoked        CertStatus = "revoked"         // revoked (before or after pickup)
	CertSuperseded     CertStatus = "superseded"      // replaced by a renewal or a new issue
)

// Certificate is one issuance to a login ID: first a pickup window, then, once
// picked up, an X.509 certificate.
type Certificate struct {
	ID             int64
	LoginID        string
	ContractID     string
	Status         CertStatus
	IssuedAt       time.Time
	PickupDeadline time.Time
	// The fields below are set at pickup.
	Serial    string // lower-case hex
	DER       []byte
	NotBefore *time.Time
	NotAfter  *time.Time
	// WithdrawnAt is when the certificate was revoked or superseded.
	WithdrawnAt *time.Time
	// RenewalOf is, for an issuance made by a renewal, the ID of the certificate
	// it replaced; nil for an issuance opened by an issue or reissue. Set on insert.
	RenewalOf *int64
}

// SignedCRL is a CRL that one server signed and every server sharing the
// database serves, so that relying parties see one CRL per number whichever
// server they ask.
type SignedCRL struct {
	Issuer string // the issuing CA's ID
	Number int64
	// Changes is what CRLChanges said when the CRL was signed.
	Changes    int64
	ThisUpdate time.Time
	DER        []byte
}

// Session is a logged-in user.
type Session struct {
	TokenHash string
	LoginID   string
	// CertSerial is the certificate the session was opened with, empty for a
	// password-only login. The session lives only as long as that certificate is current.
	CertSerial string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	// PreviousLoginAt is when the ID had last logged in before this session
	// was opened, nil the first time: the ログイン中 page shows it on every
	// server that serves the session, and after a restart.
	PreviousLoginAt *time.Time
}

// AuditEntry records one life-cycle change.
type AuditEntry struct {
	At         time.Time
	Actor      string // a login ID, or "operator:<OS user>" for the bank (never a login ID)
	Action     string
	Target     string
	RemoteAddr string
	Detail     string
}
