// Package certstore keeps a PC's login certificates and their private keys in the
// places the operating system provides for them, behind one small interface.
//
// The agent touches keys only through this package: it asks a [Store] to generate
// a key pair, sends the public half to the bank as a CSR, and attaches the issued
// certificate chain to the key. The private key never leaves the store except in a
// password-protected PKCS#12 backup, and only where the key was made exportable.
//
// # Backends
//
// One file per backend, all implementing [Store]:
//
//   - store_windows.go: keys in CNG (Microsoft Software Key Storage Provider, or the
//     Platform Crypto Provider for TPM-bound keys), certificates in CurrentUser\MY
//     linked to their key, so browsers offer them too.
//   - store_keyring.go: certificates as files under the user's data directory,
//     private keys only in the OS secret store (Secret Service, Keychain,
//     Credential Manager).
//   - store_dir.go: certificates and 0600 PKCS#8 key files in a directory, for
//     servers and scripts.
//   - store_memory.go: in memory, for tests.
//
// [Open] chooses one by a short string ("windows", "keyring", "dir:PATH",
// "memory"); [DefaultKind] is the per-OS default.
//
// # Atomicity
//
// From the caller's view every operation happens whole or not at all: a failure
// between [Store.GenerateKey] and [Key.Attach], or halfway through [Store.Import],
// leaves no orphan key and no certificate without its key.
//
// # Backups
//
// [Store.Export] writes any number of identities into one PKCS#12 file, by
// default with AES-256-CBC, PBKDF2-HMAC-SHA256 and a SHA-256 MAC ([PKCS12Modern]),
// or with 3DES and SHA-1 for old readers ([PKCS12Legacy]). [Store.Import] reads
// both, and the files OpenSSL, Windows and macOS write. docs/certstore.md says
// where each backend keeps things and how the tests run.
//
// # What it is not
//
// It knows nothing of the bank's server, of the life-cycle rules or of the GUI.
package certstore

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"time"
)

// Store is one place that keeps identities: certificates with their private keys.
type Store interface {
	// Kind names the backend, as [Open] takes it ("windows", "keyring", "dir:PATH", "memory").
	Kind() string

	// GenerateKey creates a new key pair inside the store. The key is pending: it is
	// not listed until [Key.Attach] binds a certificate to it, and [Key.Discard]
	// removes it without trace.
	GenerateKey(ctx context.Context, opts KeyOptions) (Key, error)

	// List returns the identities in the store, filtered as opts says.
	List(ctx context.Context, opts ListOptions) ([]*Identity, error)

	// Delete removes the identity with this fingerprint, certificate and key.
	// It returns a *NotFoundError when there is none.
	Delete(ctx context.Context, fingerprint Fingerprint) error

	// Export writes the identities with these fingerprints into one
	// password-protected PKCS#12 file. It fails with ErrKeyNotExportable, naming
	// the identity, when a key may not leave the store.
	Export(ctx context.Context, fingerprints []Fingerprint, password string, opts ExportOptions) ([]byte, error)

	// Import adds every identity of a PKCS#12 file. A wrong password returns
	// ErrWrongPassword and a damaged file ErrDamagedFile; either way the store is
	// unchanged. Identities already in the store are left alone and reported in
	// [ImportResult.AlreadyPresent].
	Import(ctx context.Context, pfx []byte, password string, opts ImportOptions) (*ImportResult, error)
}

// BrowserCopier is an optional capability of a store whose keys are software
// keys of this user on this PC (keyring, dir, memory): it writes one identity
// into a PKCS#12 file for the user's browser store on the same PC (the NSS
// database on Linux). That copy is not a backup, so the backup policy
// ([Identity.Exportable]) does not apply; the file must not leave the PC.
type BrowserCopier interface {
	CopyForBrowser(ctx context.Context, fp Fingerprint, password string) ([]byte, error)
}

// Key is a key pair generated inside a store and not yet bound to a certificate.
type Key interface {
	// Signer signs with the private key, which stays inside the store.
	Signer() crypto.Signer
	// Attach binds the issued certificate chain (leaf first) to the key. The leaf's
	// public key must be this key's. After Attach the identity is listed and the Key
	// must not be used again.
	Attach(ctx context.Context, chain []*x509.Certificate, label string) (*Identity, error)
	// Discard deletes the pending key. It is safe to call after a failed Attach and
	// a no-op after a successful one.
	Discard(ctx context.Context) error
}

// Algorithm is the kind of key pair to generate.
type Algorithm string

// Algorithms.
const (
	ECDSAP256 Algorithm = "ecdsa-p256" // the default
	ECDSAP384 Algorithm = "ecdsa-p384"
	RSA2048   Algorithm = "rsa-2048"
	RSA3072   Algorithm = "rsa-3072"
)

// KeyOptions says what key to generate.
type KeyOptions struct {
	Algorithm Algorithm // empty means ECDSAP256
	// Exportable allows the key to be written into a PKCS#12 backup. Without it a
	// backend that can hold keys it will not release (CNG, TPM) marks it so.
	Exportable bool
	// Hardware asks for a key bound to the PC's TPM, where the backend has one
	// (Windows Platform Crypto Provider). Such keys are never exportable.
	Hardware bool
}

// DefaultKeyOptions returns the options the agent uses unless told otherwise:
// ECDSA P-256, exportable so that an admin can back it up.
func DefaultKeyOptions() KeyOptions {
	return KeyOptions{Algorithm: ECDSAP256, Exportable: true}
}

// Fingerprint is the SHA-256 of a certificate's DER, in lower-case hex. It names an
// identity in a store.
type Fingerprint string

// FingerprintOf returns cert's fingerprint.
func FingerprintOf(cert *x509.Certificate) Fingerprint {
	return fingerprintOf(cert.Raw)
}

// Identity is a certificate, its chain, and a handle on its private key.
type Identity struct {
	Label       string // "<loginID>+<bankCode>", the certificate's friendly name
	Fingerprint Fingerprint
	Certificate *x509.Certificate
	Chain       []*x509.Certificate // issuing CA certificates, nearest first; may be empty
	Signer      crypto.Signer       // the private key, inside the store
	Exportable  bool                // the key may be written into a PKCS#12 backup
	Hardware    bool                // the key is bound to the PC's TPM
	AddedAt     time.Time           // when the identity entered this store
	// Unusable, when set, says why the key cannot be used: the OS call and
	// status that failed (the Windows store lists a key NCryptOpenKey refuses
	// this way rather than failing the whole list). Signer is then nil; Delete
	// still removes the certificate and whatever of the key can be reached.
	Unusable string
}

// ListOptions filters [Store.List].
type ListOptions struct {
	// Issuer, when set, keeps only identities whose certificate was signed by it.
	Issuer *x509.Certificate
	// LoginID, when set, keeps only identities whose certificate's CN equals it.
	LoginID string
}

// PKCS12Encoding chooses the encryption of an exported PKCS#12 file.
type PKCS12Encoding string

// PKCS#12 encodings.
const (
	// PKCS12Modern is AES-256-CBC with PBKDF2-HMAC-SHA256 and a SHA-256 MAC.
	PKCS12Modern PKCS12Encoding = "modern"
	// PKCS12Legacy is 3DES with SHA-1 for Windows Server 2016 and older, and older macOS.
	PKCS12Legacy PKCS12Encoding = "legacy"
)

// ExportOptions tunes [Store.Export].
type ExportOptions struct {
	Encoding PKCS12Encoding // empty means PKCS12Modern
}

// ImportOptions tunes [Store.Import].
type ImportOptions struct {
	// Exportable marks imported keys as exportable again (backends that track it).
	Exportable bool
	// CACerts complete the chain of an identity whose file carries its leaf
	// alone, or part of its chain, as files exported without the CA do.
	CACerts []*x509.Certificate
	// Label, when set, names each identity from its leaf certificate whatever
	// friendlyName the file carries; an empty answer keeps the friendlyName.
	Label func(leaf *x509.Certificate) string
	// ExportableFor, when set, decides per identity instead of Exportable, from
	// its certificate (the agent: by the role the bank lets back up).
	ExportableFor func(leaf *x509.Certificate) bool
}

func (o ImportOptions) exportable(leaf *x509.Certificate) bool {
	if o.ExportableFor != nil {
		return o.ExportableFor(leaf)
	}
	return o.Exportable
}

// ImportResult says what [Store.Import] did.
type ImportResult struct {
	Added          []*Identity // identities new to the store
	AlreadyPresent []*Identity // identities the store had already, left unchanged
}

func fingerprintOf(der []byte) Fingerprint {
	sum := sha256.Sum256(der)
	return Fingerprint(hex.EncodeToString(sum[:]))
}
