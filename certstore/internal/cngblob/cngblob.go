// Package cngblob reads and writes the key blobs of Windows CNG (bcrypt.h):
// BCRYPT_RSAPUBLIC_BLOB, BCRYPT_RSAFULLPRIVATE_BLOB, BCRYPT_ECCPUBLIC_BLOB and
// BCRYPT_ECCPRIVATE_BLOB, the fixed layouts NCryptExportKey and NCryptImportKey
// speak.
//
// It is plain Go with no Windows calls, so it builds, is tested and is fuzzed
// on every OS; the Windows certificate store (certstore/store_windows.go) is its
// only user. Every blob a parser accepts has been checked against its header's
// sizes, and a private key against its own public half, so a provider that hands
// back nonsense is an error here, never a panic or a wrong key.
//
// # What it is not
//
// It does not speak the legacy CryptoAPI PRIVATEKEYBLOB, nor PKCS#8 (the
// Windows store's named import hands CNG Go's own PKCS#8 encoding; Wine, which
// has no PKCS#8 import, gets these blobs).
package cngblob

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
)

// Blob types, the pszBlobType strings NCryptExportKey and NCryptImportKey take (bcrypt.h).
const (
	RSAPublic      = "RSAPUBLICBLOB"      // BCRYPT_RSAPUBLIC_BLOB: BCRYPT_RSAKEY_BLOB, e, n
	RSAFullPrivate = "RSAFULLPRIVATEBLOB" // BCRYPT_RSAFULLPRIVATE_BLOB: ... p, q, dp, dq, qinv, d
	ECCPublic      = "ECCPUBLICBLOB"      // BCRYPT_ECCPUBLIC_BLOB: BCRYPT_ECCKEY_BLOB, X, Y
	ECCPrivate     = "ECCPRIVATEBLOB"     // BCRYPT_ECCPRIVATE_BLOB: BCRYPT_ECCKEY_BLOB, X, Y, d
)

// Magic numbers that open the blobs (bcrypt.h).
const (
	magicRSAPublic        = 0x31415352 // BCRYPT_RSAPUBLIC_MAGIC, "RSA1"
	magicRSAFullPrivate   = 0x33415352 // BCRYPT_RSAFULLPRIVATE_MAGIC, "RSA3"
	magicECDSAPublicP256  = 0x31534345 // BCRYPT_ECDSA_PUBLIC_P256_MAGIC, "ECS1"
	magicECDSAPrivateP256 = 0x32534345 // BCRYPT_ECDSA_PRIVATE_P256_MAGIC, "ECS2"
	magicECDSAPublicP384  = 0x33534345 // BCRYPT_ECDSA_PUBLIC_P384_MAGIC, "ECS3"
	magicECDSAPrivateP384 = 0x34534345 // BCRYPT_ECDSA_PRIVATE_P384_MAGIC, "ECS4"
	// A key CNG files under "ECDH" (as it may an EC key imported from PKCS#8)
	// exports with the ECDH magics; Windows signs with such keys all the same.
	magicECDHPublicP256  = 0x314B4345 // BCRYPT_ECDH_PUBLIC_P256_MAGIC, "ECK1"
	magicECDHPrivateP256 = 0x324B4345 // BCRYPT_ECDH_PRIVATE_P256_MAGIC, "ECK2"
	magicECDHPublicP384  = 0x334B4345 // BCRYPT_ECDH_PUBLIC_P384_MAGIC, "ECK3"
	magicECDHPrivateP384 = 0x344B4345 // BCRYPT_ECDH_PRIVATE_P384_MAGIC, "ECK4"
)

// Limits that keep a hostile header from asking for huge allocations or slow
// arithmetic: CNG's RSA keys are at most 16384 bits, and public exponents fit
// in a few bytes.
const (
	maxRSABits     = 16384
	maxExponentLen = 8
	rsaHeaderLen   = 24 // BCRYPT_RSAKEY_BLOB: Magic, BitLength, cbPublicExp, cbModulus, cbPrime1, cbPrime2
	eccHeaderLen   = 8  // BCRYPT_ECCKEY_BLOB: Magic, cbKey
)

// ErrMalformed is wrapped by every parse error: the bytes are not a blob of a
// supported kind, or their sizes do not add up.
var ErrMalformed = errors.New("malformed CNG key blob")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// IsECC reports whether an NCRYPT_ALGORITHM_GROUP_PROPERTY names an
// elliptic-curve key: "ECDSA", or "ECDH", under which CNG files some EC keys it
// imports (as .NET's ECDsaCng notes, Windows signs with those too).
func IsECC(group string) bool { return group == "ECDSA" || group == "ECDH" }

// PublicBlobType names the blob NCryptExportKey should be asked for to read the
// public key of a key in algorithm group group ("RSA", "ECDSA" or "ECDH", as
// NCRYPT_ALGORITHM_GROUP_PROPERTY says).
func PublicBlobType(group string) string {
	if IsECC(group) {
		return ECCPublic
	}
	return RSAPublic
}

// PrivateBlobType is PublicBlobType for the private blob.
func PrivateBlobType(group string) string {
	if IsECC(group) {
		return ECCPrivate
	}
	return RSAFullPrivate
}

// ParsePublic reads a BCRYPT_RSAPUBLIC_BLOB or a BCRYPT_ECCPUBLIC_BLOB of a
// P-256 or P-384 key.
func ParsePublic(b []byte) (crypto.PublicKey, error) {
	if len(b) < eccHeaderLen {
		return nil, malformed("public key blob of %d bytes is too short", len(b))
	}
	switch magic := binary.LittleEndian.Uint32(b); magic {
	case magicRSAPublic:
		h, err := parseRSAHeader(b)
		if err != nil {
			return nil, err
		}
		fields, err := h.fields(b, h.expLen, h.modLen)
		if err != nil {
			return nil, err
		}
		pub := &rsa.PublicKey{N: fields[1], E: int(fields[0].Int64())}
		if err := checkRSAPublic(pub, h.bits); err != nil {
			return nil, err
		}
		return pub, nil
	case magicECDSAPublicP256, magicECDSAPublicP384, magicECDHPublicP256, magicECDHPublicP384:
		curve, size, err := eccHeader(b, magic == magicECDSAPublicP384 || magic == magicECDHPublicP384)
		if err != nil {
			return nil, err
		}
		if len(b) != eccHeaderLen+2*size {
			return nil, malformed("ECDSA public key blob is %d bytes, want %d", len(b), eccHeaderLen+2*size)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append([]byte{4}, b[eccHeaderLen:]...))
		if err != nil {
			return nil, malformed("ECDSA public key blob: %v", err)
		}
		return pub, nil
	default:
		return nil, malformed("unknown public key blob magic 0x%08x", magic)
	}
}

// ParsePrivate reads a BCRYPT_RSAFULLPRIVATE_BLOB or a BCRYPT_ECCPRIVATE_BLOB
// of a P-256 or P-384 key, and checks that its parts form one key.
func ParsePrivate(b []byte) (crypto.Signer, error) {
	if len(b) < eccHeaderLen {
		return nil, malformed("private key blob of %d bytes is too short", len(b))
	}
	switch magic := binary.LittleEndian.Uint32(b); magic {
	case magicRSAFullPrivate:
		h, err := parseRSAHeader(b)
		if err != nil {
			return nil, err
		}
		if h.p1Len == 0 || h.p2Len == 0 || h.p1Len > h.modLen || h.p2Len > h.modLen {
			return nil, malformed("RSA private key blob has primes of %d and %d bytes for a %d-byte modulus", h.p1Len, h.p2Len, h.modLen)
		}
		// e, n, p, q, dp, dq, qinv, d.
		fields, err := h.fields(b, h.expLen, h.modLen, h.p1Len, h.p2Len, h.p1Len, h.p2Len, h.p1Len, h.modLen)
		if err != nil {
			return nil, err
		}
		pub := rsa.PublicKey{N: fields[1], E: int(fields[0].Int64())}
		if err := checkRSAPublic(&pub, h.bits); err != nil {
			return nil, err
		}
		key := &rsa.PrivateKey{PublicKey: pub, D: fields[7], Primes: []*big.Int{fields[2], fields[3]}}
		if err := key.Validate(); err != nil {
			return nil, malformed("RSA private key blob: %v", err)
		}
		key.Precompute()
		return key, nil
	case magicECDSAPrivateP256, magicECDSAPrivateP384, magicECDHPrivateP256, magicECDHPrivateP384:
		curve, size, err := eccHeader(b, magic == magicECDSAPrivateP384 || magic == magicECDHPrivateP384)
		if err != nil {
			return nil, err
		}
		if len(b) != eccHeaderLen+3*size {
			return nil, malformed("ECDSA private key blob is %d bytes, want %d", len(b), eccHeaderLen+3*size)
		}
		key, err := ecdsa.ParseRawPrivateKey(curve, b[eccHeaderLen+2*size:])
		if err != nil {
			return nil, malformed("ECDSA private key blob: %v", err)
		}
		// The blob carries the public point too; it must be d's.
		want, err := key.PublicKey.Bytes()
		if err != nil {
			return nil, malformed("ECDSA private key blob: %v", err)
		}
		if string(want[1:]) != string(b[eccHeaderLen:eccHeaderLen+2*size]) {
			return nil, malformed("ECDSA private key blob: the public point is not the private key's")
		}
		return key, nil
	default:
		return nil, malformed("unknown private key blob magic 0x%08x", magic)
	}
}

// rsaHeader is BCRYPT_RSAKEY_BLOB.
type rsaHeader struct {
	bits                         int
	expLen, modLen, p1Len, p2Len int
}

func parseRSAHeader(b []byte) (rsaHeader, error) {
	if len(b) < rsaHeaderLen {
		return rsaHeader{}, malformed("RSA key blob of %d bytes is shorter than its header", len(b))
	}
	u := func(off int) int { return int(binary.LittleEndian.Uint32(b[off:])) }
	h := rsaHeader{bits: u(4), expLen: u(8), modLen: u(12), p1Len: u(16), p2Len: u(20)}
	switch {
	case h.bits <= 0 || h.bits > maxRSABits:
		return h, malformed("RSA key blob of %d bits (want 1 to %d)", h.bits, maxRSABits)
	case h.expLen == 0 || h.expLen > maxExponentLen:
		return h, malformed("RSA key blob with a %d-byte public exponent", h.expLen)
	case h.modLen != (h.bits+7)/8:
		return h, malformed("RSA key blob with a %d-byte modulus for %d bits", h.modLen, h.bits)
	}
	return h, nil
}

// fields cuts the big-endian integers of these sizes that follow the header;
// they must fill the blob exactly.
func (h rsaHeader) fields(b []byte, sizes ...int) ([]*big.Int, error) {
	off := rsaHeaderLen
	out := make([]*big.Int, len(sizes))
	for i, n := range sizes {
		if len(b)-off < n {
			return nil, malformed("RSA key blob is truncated at %d of %d bytes", len(b), off+n)
		}
		out[i] = new(big.Int).SetBytes(b[off : off+n])
		off += n
	}
	if off != len(b) {
		return nil, malformed("RSA key blob has %d bytes after its last field", len(b)-off)
	}
	return out, nil
}

func checkRSAPublic(pub *rsa.PublicKey, bits int) error {
	if pub.N.BitLen() != bits {
		return malformed("RSA key blob says %d bits, its modulus has %d", bits, pub.N.BitLen())
	}
	if pub.E < 3 || pub.E&1 == 0 {
		return malformed("RSA key blob has public exponent %d", pub.E)
	}
	return nil
}

func eccHeader(b []byte, p384 bool) (elliptic.Curve, int, error) {
	curve, want := elliptic.P256(), 32
	if p384 {
		curve, want = elliptic.P384(), 48
	}
	if size := int(binary.LittleEndian.Uint32(b[4:])); size != want {
		return nil, 0, malformed("ECDSA %s key blob with cbKey %d (want %d)", curve.Params().Name, size, want)
	}
	return curve, want, nil
}

// EncodePrivate writes key as the blob NCryptImportKey takes and names its
// type: BCRYPT_RSAFULLPRIVATE_BLOB for a two-prime RSA key,
// BCRYPT_ECCPRIVATE_BLOB for ECDSA P-256 or P-384.
func EncodePrivate(key crypto.PrivateKey) (string, []byte, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if len(k.Primes) != 2 {
			return "", nil, fmt.Errorf("RSA key with %d primes: CNG takes two", len(k.Primes))
		}
		k.Precompute()
		p, q := k.Primes[0], k.Primes[1]
		pLen, qLen := (p.BitLen()+7)/8, (q.BitLen()+7)/8
		b := rsaHeaderBytes(magicRSAFullPrivate, &k.PublicKey, pLen, qLen)
		modLen := (k.N.BitLen() + 7) / 8
		b = append(b, p.FillBytes(make([]byte, pLen))...)
		b = append(b, q.FillBytes(make([]byte, qLen))...)
		b = append(b, k.Precomputed.Dp.FillBytes(make([]byte, pLen))...)
		b = append(b, k.Precomputed.Dq.FillBytes(make([]byte, qLen))...)
		b = append(b, k.Precomputed.Qinv.FillBytes(make([]byte, pLen))...)
		b = append(b, k.D.FillBytes(make([]byte, modLen))...)
		return RSAFullPrivate, b, nil
	case *ecdsa.PrivateKey:
		magic, err := eccMagic(k.Curve, magicECDSAPrivateP256, magicECDSAPrivateP384)
		if err != nil {
			return "", nil, err
		}
		point, err := k.PublicKey.Bytes()
		if err != nil {
			return "", nil, fmt.Errorf("encode ECDSA public key: %w", err)
		}
		d, err := k.Bytes()
		if err != nil {
			return "", nil, fmt.Errorf("encode ECDSA private key: %w", err)
		}
		b := binary.LittleEndian.AppendUint32(nil, magic)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(d)))
		b = append(b, point[1:]...) // X and Y, without the 0x04 prefix
		b = append(b, d...)
		return ECCPrivate, b, nil
	default:
		return "", nil, fmt.Errorf("unsupported private key type %T (CNG blobs here are RSA or ECDSA P-256/P-384)", key)
	}
}

// EncodePublic writes pub as BCRYPT_RSAPUBLIC_BLOB or BCRYPT_ECCPUBLIC_BLOB and
// names its type.
func EncodePublic(pub crypto.PublicKey) (string, []byte, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return RSAPublic, rsaHeaderBytes(magicRSAPublic, k, 0, 0), nil
	case *ecdsa.PublicKey:
		magic, err := eccMagic(k.Curve, magicECDSAPublicP256, magicECDSAPublicP384)
		if err != nil {
			return "", nil, err
		}
		point, err := k.Bytes()
		if err != nil {
			return "", nil, fmt.Errorf("encode ECDSA public key: %w", err)
		}
		b := binary.LittleEndian.AppendUint32(nil, magic)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(point)/2))
		return ECCPublic, append(b, point[1:]...), nil
	default:
		return "", nil, fmt.Errorf("unsupported public key type %T (CNG blobs here are RSA or ECDSA P-256/P-384)", pub)
	}
}

// rsaHeaderBytes writes BCRYPT_RSAKEY_BLOB followed by e and n.
func rsaHeaderBytes(magic uint32, pub *rsa.PublicKey, pLen, qLen int) []byte {
	e := big.NewInt(int64(pub.E)).Bytes()
	modLen := (pub.N.BitLen() + 7) / 8
	b := binary.LittleEndian.AppendUint32(nil, magic)
	b = binary.LittleEndian.AppendUint32(b, uint32(pub.N.BitLen()))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(e)))
	b = binary.LittleEndian.AppendUint32(b, uint32(modLen))
	b = binary.LittleEndian.AppendUint32(b, uint32(pLen))
	b = binary.LittleEndian.AppendUint32(b, uint32(qLen))
	b = append(b, e...)
	return append(b, pub.N.FillBytes(make([]byte, modLen))...)
}

func eccMagic(curve elliptic.Curve, p256, p384 uint32) (uint32, error) {
	switch curve {
	case elliptic.P256():
		return p256, nil
	case elliptic.P384():
		return p384, nil
	default:
		return 0, fmt.Errorf("ECDSA key on %s: CNG ECDSA keys here are P-256 or P-384", curve.Params().Name)
	}
}
