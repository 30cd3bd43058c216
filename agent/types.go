package agent

import (
	"crypto/x509"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// Config is what the agent runs with: the bank's shipped configuration plus the
// user's own choices.
type Config struct {
	wire.BankConfig
	Store    string `json:"store,omitempty"`    // certstore kind ("windows", "keyring", "dir:PATH", "memory"); empty means the OS default
	Language string `json:"language,omitempty"` // "ja" (default) or "en"
	// BrowserCopy keeps a copy of every certificate in the browser's store (the
	// NSS database on Linux); nil means on for the keyring store on Linux. 設定
	// and `inkanctl --browser-copy=false` switch it off.
	BrowserCopy *bool `json:"browser_copy,omitempty"`
	// TrustBankRoot, which the user must agree to, also trusts the bank's root
	// CA for TLS servers in the browser's copy (for a bank server whose TLS
	// certificate that root issued). Off by default.
	TrustBankRoot bool `json:"trust_bank_root,omitempty"`
}

// Step is a stage of a pickup or a renewal, reported to the GUI as it happens.
type Step int

// The stages, named as the bank's pickup screens name them.
const (
	StepPrepare     Step = iota // 電子証明書取得前処理中: checking the ID with the server
	StepGenerateKey             // generating the key pair on this PC; not reported when a kept key is used again (see NotSavedError)
	StepIssue                   // 電子証明書発行処理中: the server issues the certificate
	StepInstall                 // installing the certificate into the store
	StepDone                    // インストール完了
)

// ProgressFunc receives each step as it starts. It is called on the caller's
// goroutine; a GUI hands the update to its own thread.
type ProgressFunc func(Step)

// State is where a certificate on this PC stands, as the chooser shows it.
type State string

// States, from the local certificate and what the server said last.
const (
	StateValid            State = "valid"             // more than 30 days left
	StateExpiring         State = "expiring"          // 30 days or fewer left, renewal not yet open
	StateRenewable        State = "renewable"         // within validity (notAfter included) and inside the renewal window
	StateExpiredRenewable State = "expired_renewable" // past notAfter, still inside the renewal window: 電子証明書再取得・更新
	StateExpired          State = "expired"           // past the renewal window: ask for 再発行
	StateRevoked          State = "revoked"           // the server refused it as revoked when last used
	StateNotYetValid      State = "not_yet_valid"     // notBefore is in the future (clock skew)
	StateUnusable         State = "unusable"          // the store cannot open its key (Identity.Problem says why): delete it, ask for 再発行
)

// Usable reports whether a certificate in state s can log in.
func (s State) Usable() bool {
	return s == StateValid || s == StateExpiring || s == StateRenewable
}

// Fingerprint names one certificate on this PC: the SHA-256 of its DER, in lower-case
// hex (what Windows calls the 拇印, in SHA-256). It is the agent's own type, so a GUI
// needs no store package to name a certificate.
type Fingerprint string

// inStore is fp as the certificate store names it.
func (fp Fingerprint) inStore() certstore.Fingerprint { return certstore.Fingerprint(fp) }

// otherCertificate describes a stored certificate that is not this bank's.
func otherCertificate(sid *certstore.Identity) *OtherCertificate {
	o := &OtherCertificate{Fingerprint: Fingerprint(sid.Fingerprint), Label: sid.Label, Certificate: sid.Certificate}
	if o.Label == "" && o.Certificate != nil {
		o.Label = o.Certificate.Subject.CommonName
	}
	return o
}

// Identity is one certificate on this PC from this bank, as the chooser shows it.
type Identity struct {
	Fingerprint Fingerprint
	Label       string       // "<loginID>+<bankCode>"
	BankName    string       // the bank's name, from its configuration: one chooser may list several banks
	Subject     wire.Subject // login ID, role, contract, bank code
	Certificate *x509.Certificate
	NotBefore   time.Time
	NotAfter    time.Time
	State       State
	DaysLeft    int       // whole 24-hour periods until NotAfter; 0 at NotAfter, negative once past it
	RenewFrom   time.Time // the renewal window, from the bank's policy, both ends included
	RenewUntil  time.Time
	LastUsed    time.Time // zero if never used to log in from this PC
	Exportable  bool      // may be written into a backup
	Store       string    // the certstore kind that holds it
	// Problem, for StateUnusable, is the store's reason the key cannot be used:
	// the OS call and status that failed.
	Problem string
}

// Session is a logged-in user.
type Session struct {
	Token     string
	ExpiresAt time.Time
	User      wire.User
	Notices   []wire.Notice
	Identity  *Identity // nil for an ID・パスワード方式 login
	// CertificateMode is true once the contract logs in with certificates only.
	CertificateMode bool

	// client carries the session's TLS identity: the server requires admin calls of
	// a certificate session to present the same client certificate.
	client *resty.Client
}

// Level is how urgent an expiry warning is.
type Level int

// Warning levels: at 30 and 10 days before expiry, and at expiry.
const (
	LevelNone    Level = iota
	LevelDays30        // 30 days or fewer left
	LevelDays10        // 10 days or fewer left
	LevelExpired       // past NotAfter
)

// Warning is an expiry warning for one identity, merged from the local certificate
// and the server's notices.
type Warning struct {
	Identity *Identity
	Level    Level
	DaysLeft int
	// Renewable says whether 更新 is possible now (inside the renewal window).
	Renewable bool
	// Notice is the server's notice this warning was merged with, if any.
	Notice *wire.Notice
}

// RestoreResult says what a restore did.
type RestoreResult struct {
	Added          []*Identity // this bank's, new on this PC
	AlreadyPresent []*Identity // this bank's, here already, left unchanged
	// Other holds the backup's certificates that are not this bank's (another
	// CA, or another bank code). They are the user's, so they are restored all
	// the same (or left as they were, when already here), but the chooser never
	// offers them: say so, e.g. "restored, but not from this bank".
	Other []*OtherCertificate
	// Revoked holds those of Added and AlreadyPresent that the bank's server
	// answered are revoked: they cannot log in; say so ([RestoredRevokedNote]).
	Revoked []*Identity
	// CheckErr, when not nil, says the server could not be asked whether some
	// of them are revoked; the restore itself succeeded.
	CheckErr error
}

// OtherCertificate is a certificate from a backup that is not this bank's.
type OtherCertificate struct {
	Fingerprint Fingerprint
	// Label is the friendly name stored with it, or else its subject's common name.
	Label       string
	Certificate *x509.Certificate
}
