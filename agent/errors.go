package agent

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// Error is a refusal from the bank's server: the [wire.Code] it answered with, the
// HTTP status, and the server's own message (English, for logs).
type Error struct {
	Code    wire.Code
	Status  int
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("server refused the request (%d %s)", e.Status, e.Code)
	}
	return fmt.Sprintf("server refused the request (%d %s): %s", e.Status, e.Code, e.Message)
}

// Code returns the [wire.Code] of the server refusal in err's chain, or "" when err
// is not a refusal from the server (a network, store or configuration error).
func Code(err error) wire.Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// codeForStatus names an answer that came without a code (a proxy in the way, or a
// server that does not speak Inkan's wire protocol).
func codeForStatus(status int) wire.Code {
	switch status {
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return wire.CodeUnavailable
	case http.StatusTooManyRequests:
		return wire.CodeRateLimited
	case http.StatusUnauthorized:
		return wire.CodeUnauthenticated
	case http.StatusForbidden:
		return wire.CodeForbidden
	case http.StatusNotFound:
		return wire.CodeNotFound
	case http.StatusUnsupportedMediaType:
		return wire.CodeUnsupportedMedia
	case http.StatusRequestEntityTooLarge:
		return wire.CodeTooLarge
	}
	if status >= 400 && status < 500 {
		return wire.CodeBadRequest
	}
	return wire.CodeInternal
}

// Local errors callers act on.
var (
	// ErrPasswordMismatch means a new password and its confirmation differ.
	ErrPasswordMismatch = errors.New("the password and its confirmation differ")
	// ErrNotFromBank means a certificate was not issued by this bank's CA, or does
	// not carry this bank's code.
	ErrNotFromBank = errors.New("the certificate was not issued by this bank")
	// ErrCAMismatch means the CA the server offers does not match the fingerprint in
	// the bank's configuration.
	ErrCAMismatch = errors.New("the bank's CA does not match the configured fingerprint")
	// ErrNoIdentity means a certificate with the given fingerprint is not on this PC
	// (or not from this bank).
	ErrNoIdentity = errors.New("no such certificate on this PC")
	// ErrKeyUnusable means the store lists the certificate but cannot open its
	// key ([StateUnusable]): it can only be deleted.
	ErrKeyUnusable = errors.New("the certificate's key on this PC cannot be used")
	// ErrNoSession means an operation needs a session and got none.
	ErrNoSession = errors.New("not logged in")
	// ErrWrongPassword means a backup file's password is wrong. It is the store's
	// own error, named here so a caller of the agent needs no store package.
	ErrWrongPassword = certstore.ErrWrongPassword
)

// WeakPasswordError says why a backup password was refused.
type WeakPasswordError struct {
	// Reason is "short" (fewer than [MinBackupPasswordLength] characters) or
	// "one_class" (only one kind of character: lower case, upper case, digits, or symbols).
	Reason string
}

// Error implements error.
func (e *WeakPasswordError) Error() string {
	switch e.Reason {
	case "short":
		return fmt.Sprintf("the backup password is shorter than %d characters", MinBackupPasswordLength)
	default:
		return "the backup password uses only one kind of character"
	}
}

// ConfigError names a field of the configuration that is missing or wrong, and
// what to do about it.
type ConfigError struct {
	Field   string // the JSON field, e.g. "server_url"; empty for the file as a whole
	Problem string // what is wrong
	Fix     string // what to do
}

// Error implements error.
func (e *ConfigError) Error() string {
	s := "configuration"
	if e.Field != "" {
		s += ": " + e.Field
	}
	s += ": " + e.Problem
	if e.Fix != "" {
		s += " (" + e.Fix + ")"
	}
	return s
}

// NotExportableError says a backup was refused because the identity's key was
// made non-exportable: the bank's policy lets only BackupRoles back up.
type NotExportableError struct {
	Label       string
	BackupRoles []wire.Role
}

// Error implements error.
func (e *NotExportableError) Error() string {
	return fmt.Sprintf("%s: the private key is not exportable (the bank lets these roles back up: %v)", e.Label, e.BackupRoles)
}

// Unwrap makes errors.Is(err, certstore.ErrKeyNotExportable) hold.
func (e *NotExportableError) Unwrap() error { return certstore.ErrKeyNotExportable }
