// Package pkcs12 reads and writes PKCS#12 (RFC 7292) files that hold several
// identities: private keys, each with its certificate and the issuing CAs.
//
// go-pkcs12 writes one private key per file, so [Encode] builds the PFX itself:
// one encrypted SafeContents with every certificate, one plain SafeContents with
// every key in a PKCS8ShroudedKeyBag, a MAC over both. That is the layout OpenSSL,
// Windows and macOS write, so each of them reads ours. Each leaf certificate and
// its key share a localKeyId and carry the identity's label as friendlyName.
//
// [Decode] walks the file itself, so that it can read what real tools write:
// bag attributes it does not know (Windows' 1.3.6.1.4.1.311.17.* key-set and CSP
// attributes, Java's trusted-certificate attribute) are ignored, and bag types it
// has no use for (CRLs, secrets) are skipped. It verifies the MAC (SHA-1 or
// SHA-2) and decrypts PBES2 (PBKDF2 with AES or 3DES) and the PKCS#12 3DES
// scheme. Only the RC2-40 scheme, which OpenSSL 1.x and its -legacy option use
// for certificates, is handed to go-pkcs12, whose RC2 is not exported.
//
// The package imports nothing of Inkan, so its tests and its fuzz target
// (FuzzDecode, seeded with files openssl wrote, under testdata/) stand alone.
package pkcs12

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
)

// Item is one identity inside a PKCS#12 file.
type Item struct {
	Key          crypto.Signer
	Chain        []*x509.Certificate // leaf first, then its issuers found in the file
	FriendlyName string              // the leaf's friendlyName, else the key's; may be empty
}

// Encoding chooses the encryption of a written file.
type Encoding int

// Encodings.
const (
	// Modern is PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) with a SHA-256 MAC.
	Modern Encoding = iota
	// Legacy is pbeWithSHAAnd3-KeyTripleDES-CBC with a SHA-1 MAC, for Windows
	// Server 2016 and older, older macOS and Java 8 before 8u301.
	Legacy
)

// Errors callers test with errors.Is.
var (
	// ErrWrongPassword means the MAC does not verify under the password (or, in
	// a file without a MAC, that the contents do not decrypt).
	ErrWrongPassword = errors.New("wrong password for the PKCS#12 file")
	// ErrDamaged means the file does not parse, uses a scheme this package does
	// not read, or holds a key without its certificate.
	ErrDamaged = errors.New("the PKCS#12 file is damaged or not a PKCS#12 file")
	// ErrKeyMismatch means a certificate's public key is not the private key's.
	ErrKeyMismatch = errors.New("the certificate does not belong to the private key")
)

// CheckKeyMatches reports ErrKeyMismatch unless cert's public key is key's.
func CheckKeyMatches(key crypto.PrivateKey, cert *x509.Certificate) error {
	var pub crypto.PublicKey
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case ed25519.PrivateKey:
		pub = k.Public()
	case crypto.Signer:
		pub = k.Public()
	default:
		return fmt.Errorf("unsupported private key type %T", key)
	}
	return CheckPublicKeyMatches(pub, cert)
}

// CheckPublicKeyMatches reports ErrKeyMismatch unless cert's public key is pub.
func CheckPublicKeyMatches(pub crypto.PublicKey, cert *x509.Certificate) error {
	eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !eq.Equal(cert.PublicKey) {
		return fmt.Errorf("certificate %s (%s): %w", cert.Subject.CommonName, hex.EncodeToString(cert.SerialNumber.Bytes()), ErrKeyMismatch)
	}
	return nil
}
