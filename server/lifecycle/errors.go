package lifecycle

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"

	"github.com/inkan-dev/inkan/wire"
)

// RuleError is a refusal by a life-cycle rule. Code is what the caller is told;
// Message is English text for the caller that says what to do. Callers compare
// with errors.Is against the sentinels below, or read the code with errors.As.
type RuleError struct {
	Code    wire.Code
	Message string
}

func (e *RuleError) Error() string { return e.Message }

// Is makes refusals with the same code match, so that a refusal with a more
// specific message is still, say, ErrForbidden to errors.Is.
func (e *RuleError) Is(target error) bool {
	t, ok := target.(*RuleError)
	return ok && t.Code == e.Code
}

func rule(code wire.Code, msg string) *RuleError { return &RuleError{Code: code, Message: msg} }

// The refusals. Each is wrapped with context (which ID, which action) when returned.
var (
	ErrBadRequest          = rule(wire.CodeBadRequest, "the request is malformed")
	ErrBadCSR              = rule(wire.CodeBadCSR, "the CSR is not a valid PKCS#10 request with a correct self-signature: generate it again")
	ErrKeyNotAllowed       = rule(wire.CodeKeyNotAllowed, "the CSR's key must be ECDSA P-256/P-384 or RSA 2048-4096 bits: generate a new key of an allowed kind")
	ErrInvalidCredentials  = rule(wire.CodeInvalidCredentials, "unknown login ID or wrong password: check both and try again")
	ErrLocked              = rule(wire.CodeLocked, "this ID is locked after too many wrong passwords: ask your administrator or the bank to unlock it")
	ErrUnauthenticated     = rule(wire.CodeUnauthenticated, "no valid session: log in again")
	ErrCertificateRequired = rule(wire.CodeCertificateRequired, "this contract logs in with certificates: log in with your certificate and password")
	ErrClientCertRequired  = rule(wire.CodeClientCertRequired, "present your TLS client certificate with this request")
	ErrUnknownIssuer       = rule(wire.CodeUnknownIssuer, "the client certificate was not issued by this bank: use the certificate you picked up from this bank")
	ErrRevoked             = rule(wire.CodeCertificateRevoked, "the certificate was revoked: ask your administrator (or the bank, for an admin ID) for a reissue")
	ErrExpired             = rule(wire.CodeCertificateExpired, "the certificate expired: renew it, or ask for a reissue if renewal has closed")
	ErrSuperseded          = rule(wire.CodeCertificateReplaced, "the certificate was replaced by a newer one: use the newer certificate")
	ErrNoPickupOpen        = rule(wire.CodeNoPickupOpen, "no certificate is waiting to be picked up for this ID: ask your administrator to issue one")
	ErrNoCertificate       = rule(wire.CodeNoCertificate, "the ID has no issued or active certificate to act on")
	ErrPickupLapsed        = rule(wire.CodePickupLapsed, "the pickup window passed: ask your administrator (or the bank, for an admin ID) for a reissue")
	ErrContractBlocked     = rule(wire.CodeContractBlocked, "the contract's admin certificate was not picked up in time: the bank must reissue the admin certificate")
	ErrNotRenewableYet     = rule(wire.CodeNotRenewableYet, "renewal is not open yet: it opens shortly before expiry (30 days by default); try again then")
	ErrRenewalWindowClosed = rule(wire.CodeRenewalWindowClosed, "the renewal window closed: ask for a reissue")
	ErrRenewalNeedsNewKey  = rule(wire.CodeRenewalNeedsNewKey, "renewal needs a new key pair: generate a new key and CSR")
	ErrForbidden           = rule(wire.CodeForbidden, "your role may not do this")
	ErrNotFound            = rule(wire.CodeNotFound, "no such user in your contract")
	ErrAlreadyExists       = rule(wire.CodeAlreadyExists, "the login ID is taken: choose another")
	ErrWeakPassword        = rule(wire.CodeWeakPassword, "the password must be 8 to 128 characters and mix at least two of upper case, lower case, digits and symbols; the login ID itself and common passwords are refused")
	ErrAdminUnlockByBank   = rule(wire.CodeForbidden, "an admin ID is unlocked by the bank: ask the bank to unlock it")
	ErrAdminPasswordByBank = rule(wire.CodeForbidden, "an admin ID's password is reset by the bank: ask the bank to reset it")
	ErrBusy                = rule(wire.CodeUnavailable, "the server is busy checking other passwords: try again in a moment")
)

// logKey keys the hashes of LogID. It is made afresh by each process: the
// same text hashes alike within one run of the server (so that its log lines
// can be followed) and no table of common passwords can be matched against
// the log.
var logKey = func() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}()

// LogID is how a login ID given by a caller appears in errors and the log: as
// it is when it has the syntax of a login ID, otherwise as "id-hmac:" and a
// keyed hash. People type their password into the login-ID field; a log line
// must never carry it.
func LogID(id string) string {
	if loginIDPattern.MatchString(id) {
		return id
	}
	m := hmac.New(sha256.New, logKey)
	m.Write([]byte(id))
	return "id-hmac:" + hex.EncodeToString(m.Sum(nil)[:8])
}
