// Package wire holds what the Inkan server and the Inkan agent agree on over HTTP:
// the JSON bodies of /api/v1, the error codes every non-2xx answer carries, and the
// layout of the subject the server writes into each certificate it issues.
//
// It is the only package the agent side and the server side share. It has no
// behaviour beyond encoding: no rules, no storage, no HTTP client or server.
//
// # Error codes
//
// Every JSON answer with a status of 400 or above has the body [Error]. Callers act
// on [Error.Code], never on the message, which is English text for operators' logs;
// the agent maps each code to its own Japanese and English message. The table of
// codes, their statuses and their meaning is [Codes].
//
// EST answers (RFC 7030) are not JSON. When an EST request is refused, the body is
// text/plain and the response carries the code in the [CodeHeader] header, so an
// ordinary EST client shows a readable message and the agent still gets the code.
package wire

import (
	"fmt"
	"regexp"
	"time"
)

// CodeHeader is the response header that carries the error code of a refused EST request.
const CodeHeader = "Inkan-Error-Code"

// Role is the kind of ID a user has within a contract.
type Role string

// The roles of the seeds: 管理者ID, 承認者ID, 一般者ID.
const (
	RoleAdmin    Role = "admin"    // 管理者ID: the contract's administrator, issued by the bank
	RoleApprover Role = "approver" // 承認者ID: approves transfers, issued by the admin
	RoleGeneral  Role = "general"  // 一般者ID: everyday user, issued by the admin
)

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleApprover || r == RoleGeneral
}

// CertState is where an ID's current certificate stands in its life cycle.
type CertState string

// Certificate states as the server reports them.
const (
	CertNone           CertState = "none"            // never issued, or the ID's certificate was deleted
	CertAwaitingPickup CertState = "awaiting_pickup" // issued; the pickup window is open
	CertPickupLapsed   CertState = "pickup_lapsed"   // issued; the pickup window passed
	CertActive         CertState = "active"          // picked up and within validity
	CertExpired        CertState = "expired"         // past notAfter (may still be renewable)
	CertRevoked        CertState = "revoked"         // revoked by an admin or the operator
	CertSuperseded     CertState = "superseded"      // replaced by a renewal or a new issue; only in the operator's history, never an ID's current state
)

// Certificate describes an ID's current certificate as the server records it.
type Certificate struct {
	State          CertState  `json:"state"`
	Serial         string     `json:"serial,omitempty"` // lower-case hex
	IssuedAt       *time.Time `json:"issued_at,omitempty"`
	PickupDeadline *time.Time `json:"pickup_deadline,omitempty"`
	NotBefore      *time.Time `json:"not_before,omitempty"`
	NotAfter       *time.Time `json:"not_after,omitempty"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
	// RenewFrom and RenewUntil bound the renewal window of a picked-up certificate.
	RenewFrom  *time.Time `json:"renew_from,omitempty"`
	RenewUntil *time.Time `json:"renew_until,omitempty"`
	// Renewable is true while the renewal window is open, as of the answer:
	// an active certificate in its last days, or an expired one that may
	// still be renewed. An expired one without it needs a reissue (再発行).
	Renewable bool `json:"renewable,omitempty"`
}

// User is one login ID of a contract.
type User struct {
	LoginID      string `json:"login_id"`
	DisplayName  string `json:"display_name,omitempty"`
	Email        string `json:"email,omitempty"` // where the expiry notices go
	Role         Role   `json:"role"`
	ContractID   string `json:"contract_id"`
	ContractName string `json:"contract_name"`
	Locked       bool   `json:"locked"`
	// LastLoginAt is the ID's latest login; in a [LoginResponse], the one before
	// the login just made (absent on a first login), which the user checks as
	// 前回ログイン日時.
	LastLoginAt *time.Time  `json:"last_login_at,omitempty"`
	Certificate Certificate `json:"certificate"`
}

// NoticeKind says what a notice is about, so the agent can act on it.
type NoticeKind string

// Notice kinds.
const (
	// NoticeRenewalDue is the 重要なお知らせ shown from 30 days before expiry: the
	// certificate used to log in should be renewed. Its Action is ActionRenew.
	NoticeRenewalDue NoticeKind = "renewal_due"
	// NoticeInfo is free text from the bank.
	NoticeInfo NoticeKind = "info"
)

// Action is what a notice invites the user to do.
type Action string

// Actions.
const (
	ActionNone  Action = ""
	ActionRenew Action = "renew" // 電子証明書の更新はこちら
)

// Policy is GET /api/v1/policy: what the bank allows the agent to do by itself.
// It needs no authentication and holds nothing secret.
type Policy struct {
	// AutoRenew: the agent renews each certificate, with a new key and no user
	// action, once, from the day its renewal window opens.
	AutoRenew       bool `json:"auto_renew"`
	RenewBeforeDays int  `json:"renew_before_days"`
	RenewAfterDays  int  `json:"renew_after_days"`
}

// Notice is a message shown after login.
type Notice struct {
	Kind NoticeKind `json:"kind"`
	// Title and Body are Japanese text from the server; the agent may replace them
	// with its own localised text for the kinds it knows.
	Title    string     `json:"title"`
	Body     string     `json:"body"`
	Action   Action     `json:"action,omitempty"`
	NotAfter *time.Time `json:"not_after,omitempty"` // for NoticeRenewalDue: the certificate's expiry
	DaysLeft int        `json:"days_left,omitempty"` // for NoticeRenewalDue: whole days until NotAfter (negative once expired)
}

// LoginRequest is the body of POST /api/v1/login. With a TLS client certificate the
// login ID is taken from the certificate and LoginID must be empty or equal to it;
// without one, LoginID is required and the login succeeds only while the contract is
// not yet in certificate mode.
type LoginRequest struct {
	LoginID  string `json:"login_id,omitempty"`
	Password string `json:"password"`
}

// LoginResponse is the answer to a successful login.
type LoginResponse struct {
	Token     string    `json:"token"` // send as "Authorization: Bearer <token>"
	ExpiresAt time.Time `json:"expires_at"`
	User      User      `json:"user"`
	Notices   []Notice  `json:"notices"`
	// CertificateMode is true once the contract's admin has picked up a certificate.
	CertificateMode bool `json:"certificate_mode"`
}

// CreateUserRequest is the body of POST /api/v1/users.
type CreateUserRequest struct {
	LoginID     string `json:"login_id"`
	DisplayName string `json:"display_name,omitempty"`
	Email       string `json:"email,omitempty"` // where the expiry notices go
	Role        Role   `json:"role"`            // approver or general; an admin cannot create another admin
	Password    string `json:"password"`
	// IssueCertificate issues the new user's certificate at once (opens the pickup window).
	IssueCertificate bool `json:"issue_certificate,omitempty"`
}

// SetPasswordRequest is the body of POST /api/v1/users/{loginID}/password: an
// admin gives an approver or general ID of its contract a new login password
// (パスワード再設定), under the same password policy as a new ID's. The ID is
// unlocked and its sessions end; the answer is the [User] as it then is.
type SetPasswordRequest struct {
	Password string `json:"password"`
}

// ChangePasswordRequest is the body of POST /api/v1/password: the logged-in
// user changes its own login password (パスワード変更), under the same password
// policy as a new ID's. The current password is checked like a login's; every
// session of the ID ends, the caller's too, and the answer is 204.
type ChangePasswordRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// UserList is the answer to GET /api/v1/users.
type UserList struct {
	Users []User `json:"users"`
}

// Error is the body of every JSON answer with a status of 400 or above.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	return string(e.Code) + ": " + e.Message
}

// BankConfig is the configuration file the bank ships to its customers' PCs
// (`inkan-server agent-config` writes it): where the server is, which CA to trust,
// and the bank's code and name. The agent trusts only this CA, never the system roots.
type BankConfig struct {
	ServerURL string `json:"server_url"` // https://host:port, no path
	BankCode  string `json:"bank_code"`  // four digits, e.g. "1376"
	BankName  string `json:"bank_name"`
	// CACertPEM is the bank's root CA certificate. When it is empty, CAFingerprint
	// must be set, and the agent fetches the CA from /.well-known/est/cacerts and
	// accepts it only if its SHA-256 fingerprint matches.
	CACertPEM     string `json:"ca_cert_pem,omitempty"`
	CAFingerprint string `json:"ca_fingerprint,omitempty"` // SHA-256 of the root CA's DER, hex
	// RenewBeforeDays and RenewAfterDays bound the renewal window around expiry
	// (policy; 30 and 90 by default). The agent uses them to label certificates.
	RenewBeforeDays int `json:"renew_before_days,omitempty"`
	RenewAfterDays  int `json:"renew_after_days,omitempty"`
	// LoginIDPattern is the form of every login ID the bank issues: a regular
	// expression (RE2 syntax, see [LoginIDMatcher]) that the whole ID matches,
	// e.g. "[0-9]{10}" for ten-digit お客様ID. The server refuses to create an ID
	// of another form; an agent serving several banks picks, at pickup, the one
	// bank whose form fits the ID typed, so the password goes to that bank
	// only. Empty: any ID (the agent asks which bank).
	LoginIDPattern string `json:"login_id_pattern,omitempty"`
}

// MaxLoginIDPattern bounds the length of [BankConfig.LoginIDPattern].
const MaxLoginIDPattern = 256

// LoginIDMatcher compiles a login-ID pattern so that it matches whole IDs
// only, as both the server and the agent apply it; nil for the empty pattern,
// which allows any ID.
func LoginIDMatcher(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, nil
	}
	if len(pattern) > MaxLoginIDPattern {
		return nil, fmt.Errorf("login_id_pattern: %d characters, more than %d", len(pattern), MaxLoginIDPattern)
	}
	// Alone first: a pattern that compiles by itself has balanced groups, so
	// the anchors below hold for the whole of it.
	if _, err := regexp.Compile(pattern); err != nil {
		return nil, fmt.Errorf("login_id_pattern %q is not a regular expression: %w", pattern, err)
	}
	return regexp.MustCompile(`^(?:` + pattern + `)$`), nil
}
