package certstore

import (
	"errors"
	"fmt"

	"github.com/inkan-dev/inkan/certstore/internal/pkcs12"
)

// Sentinel errors callers test with errors.Is.
var (
	// ErrKeyNotExportable means a key may not leave its store (a CNG key made
	// without the export flag, or a TPM key).
	ErrKeyNotExportable = errors.New("the private key is not exportable")
	// ErrWrongPassword means a PKCS#12 file's password is wrong.
	ErrWrongPassword = pkcs12.ErrWrongPassword
	// ErrDamagedFile means a PKCS#12 file does not parse or fails its integrity check.
	ErrDamagedFile = pkcs12.ErrDamaged
	// ErrKeyMismatch means a certificate's public key is not the private key's, so
	// the two cannot form an identity.
	ErrKeyMismatch = pkcs12.ErrKeyMismatch
)

// SystemError is a call into the operating system's key or certificate store
// that failed (a CNG or crypt32 call on Windows): the store itself refused,
// not the caller's input. Callers show it as a store failure with Call and
// Code, which is what a help desk needs.
type SystemError struct {
	Call string // the OS function, e.g. "NCryptFinalizeKey"
	Code uint32 // its SECURITY_STATUS or GetLastError code
	Name string // the code's name, e.g. "NTE_NOT_SUPPORTED", when known
}

// Error implements error, as "NCryptFinalizeKey returned 0x80090029 (NTE_NOT_SUPPORTED)".
func (e *SystemError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("%s returned 0x%08X (%s)", e.Call, e.Code, e.Name)
	}
	return fmt.Sprintf("%s returned 0x%08X", e.Call, e.Code)
}

// UnsupportedKeyError says a store cannot make keys of this algorithm (Wine's
// CNG has no ECDSA keys, for example).
type UnsupportedKeyError struct {
	Kind      string
	Algorithm Algorithm
	Err       error
}

// Error implements error.
func (e *UnsupportedKeyError) Error() string {
	return fmt.Sprintf("certificate store %q cannot make %s keys: %v", e.Kind, e.Algorithm, e.Err)
}

// Unwrap returns the underlying error.
func (e *UnsupportedKeyError) Unwrap() error { return e.Err }

// NotFoundError says an identity is not in the store.
type NotFoundError struct {
	What string // what was looked for, e.g. a fingerprint or login ID
}

// Error implements error.
func (e *NotFoundError) Error() string {
	return fmt.Sprintf("not found in the certificate store: %s", e.What)
}

// AlreadyExistsError says an identity is in the store already.
type AlreadyExistsError struct {
	Fingerprint Fingerprint
}

// Error implements error.
func (e *AlreadyExistsError) Error() string {
	return fmt.Sprintf("already in the certificate store: %s", e.Fingerprint)
}

// UnavailableError says a store cannot be used on this machine now, and why
// (for example no Secret Service is running, or the OS is not Windows).
type UnavailableError struct {
	Kind   string
	Reason string
	Err    error
}

// Error implements error.
func (e *UnavailableError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("certificate store %q is unavailable: %s: %v", e.Kind, e.Reason, e.Err)
	}
	return fmt.Sprintf("certificate store %q is unavailable: %s", e.Kind, e.Reason)
}

// Unwrap returns the underlying error.
func (e *UnavailableError) Unwrap() error { return e.Err }
