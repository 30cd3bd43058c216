package certstore

// The PKCS#12 codec lives in internal/pkcs12, on its own so that its tests and
// fuzz target stand alone; these are the names the backends use for it.

import (
	"crypto"
	"crypto/x509"
	"fmt"

	"github.com/inkan-dev/inkan/certstore/internal/pkcs12"
)

// pfxItem is one identity inside a PKCS#12 file.
type pfxItem = pkcs12.Item

// encodePFX writes items into one password-protected PKCS#12 file.
func encodePFX(items []pfxItem, password string, enc PKCS12Encoding) ([]byte, error) {
	var e pkcs12.Encoding
	switch enc {
	case "", PKCS12Modern:
		e = pkcs12.Modern
	case PKCS12Legacy:
		e = pkcs12.Legacy
	default:
		return nil, fmt.Errorf("encode PKCS#12: unknown encoding %q (want %q or %q)", enc, PKCS12Modern, PKCS12Legacy)
	}
	return pkcs12.Encode(items, password, e)
}

// decodePFX reads every identity of a PKCS#12 file, failing with
// ErrWrongPassword or ErrDamagedFile.
// (the package's own sentinels, re-exported in errors.go).
func decodePFX(data []byte, password string) ([]pfxItem, error) {
	return pkcs12.Decode(data, password)
}

// checkPublicKeyMatches reports ErrKeyMismatch unless cert's public key is pub.
func checkPublicKeyMatches(pub crypto.PublicKey, cert *x509.Certificate) error {
	return pkcs12.CheckPublicKeyMatches(pub, cert)
}
