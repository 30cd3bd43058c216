package pkcs12

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"unicode/utf16"
)

// Iteration counts. Modern files follow OWASP's advice for PBKDF2-HMAC-SHA256 at a
// cost a restore can bear; legacy files keep OpenSSL's historic count, which is
// what the old readers they exist for expect.
const (
	modernIterations = 100_000
	legacyIterations = 2048
)

var (
	oidDataContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedDataContentType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidCertBag                  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	oidPKCS8ShroudedKeyBag      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidX509Certificate          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
	oidFriendlyName             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 20}
	oidLocalKeyID               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 21}
	oidPBEWithSHAAnd3KeyTDES    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	oidPBES2                    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2                   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA256           = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC                = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidSHA1                     = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256                   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
)

type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue // [0] EXPLICIT, built by explicit0
}

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations int
}

type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

type encryptedData struct {
	Version              int
	EncryptedContentInfo encryptedContentInfo
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           []byte `asn1:"tag:0,optional"`
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue     // [0] EXPLICIT, built by explicit0
	Attributes []pkcs12Attribute `asn1:"set,optional"`
}

type pkcs12Attribute struct {
	ID     asn1.ObjectIdentifier
	Values asn1.RawValue // SET OF, built by setOf
}

type certBag struct {
	ID   asn1.ObjectIdentifier
	Data asn1.RawValue // [0] EXPLICIT OCTET STRING
}

type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbeParams struct {
	Salt       []byte
	Iterations int
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	PRF        pkix.AlgorithmIdentifier
}

// Encode writes items into one password-protected PKCS#12 file.
func Encode(items []Item, password string, enc Encoding) ([]byte, error) {
	if enc != Modern && enc != Legacy {
		return nil, fmt.Errorf("encode PKCS#12: unknown encoding %d", enc)
	}
	if password == "" {
		return nil, errors.New("encode PKCS#12: a backup needs a password")
	}
	if len(items) == 0 {
		return nil, errors.New("encode PKCS#12: no identity to write")
	}

	var certBags, keyBags []safeBag
	seen := map[string]bool{}
	for i, item := range items {
		if len(item.Chain) == 0 {
			return nil, fmt.Errorf("encode PKCS#12: identity %d has no certificate", i)
		}
		leaf := item.Chain[0]
		if err := CheckKeyMatches(item.Key, leaf); err != nil {
			return nil, fmt.Errorf("encode PKCS#12: identity %q: %w", item.FriendlyName, err)
		}
		// OpenSSL's convention: the localKeyId is the SHA-1 of the leaf's DER.
		keyID := sha1.Sum(leaf.Raw)
		attrs, err := bagAttributes(keyID[:], item.FriendlyName)
		if err != nil {
			return nil, fmt.Errorf("encode PKCS#12: %w", err)
		}
		bag, err := makeCertBag(leaf.Raw, attrs)
		if err != nil {
			return nil, fmt.Errorf("encode PKCS#12: %w", err)
		}
		certBags = append(certBags, bag)
		seen[string(leaf.Raw)] = true
		for _, ca := range item.Chain[1:] {
			if seen[string(ca.Raw)] {
				continue
			}
			seen[string(ca.Raw)] = true
			bag, err := makeCertBag(ca.Raw, nil)
			if err != nil {
				return nil, fmt.Errorf("encode PKCS#12: %w", err)
			}
			certBags = append(certBags, bag)
		}

		keyBag, err := makeShroudedKeyBag(item.Key, password, enc, attrs)
		if err != nil {
			return nil, fmt.Errorf("encode PKCS#12: identity %q: %w", item.FriendlyName, err)
		}
		keyBags = append(keyBags, keyBag)
	}

	certSafe, err := asn1.Marshal(certBags)
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#12 certificates: %w", err)
	}
	alg, ciphertext, err := pbEncrypt(certSafe, password, enc)
	if err != nil {
		return nil, fmt.Errorf("encrypt PKCS#12 certificates: %w", err)
	}
	encCerts, err := asn1.Marshal(encryptedData{
		EncryptedContentInfo: encryptedContentInfo{
			ContentType:                oidDataContentType,
			ContentEncryptionAlgorithm: alg,
			EncryptedContent:           ciphertext,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#12 certificates: %w", err)
	}
	keySafe, err := asn1.Marshal(keyBags)
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#12 keys: %w", err)
	}
	keySafeData, err := asn1.Marshal(keySafe)
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#12 keys: %w", err)
	}
	authSafe, err := asn1.Marshal([]contentInfo{
		{ContentType: oidEncryptedDataContentType, Content: explicit0(encCerts)},
		{ContentType: oidDataContentType, Content: explicit0(keySafeData)},
	})
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#12: %w", err)
	}

	mac, err := computeMAC(authSafe, password, enc)
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#12 MAC: %w", err)
	}
	authSafeData, err := asn1.Marshal(authSafe)
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#12: %w", err)
	}
	pfx, err := asn1.Marshal(pfxPDU{
		Version:  3,
		AuthSafe: contentInfo{ContentType: oidDataContentType, Content: explicit0(authSafeData)},
		MacData:  mac,
	})
	if err != nil {
		return nil, fmt.Errorf("encode PKCS#12: %w", err)
	}
	return pfx, nil
}

// explicit0 wraps DER in a [0] EXPLICIT tag, as ContentInfo and SafeBag want.
func explicit0(der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: der}
}

// setOf wraps DER values in a SET OF.
func setOf(ders ...[]byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: bytes.Join(ders, nil)}
}

func bagAttributes(localKeyID []byte, friendlyName string) ([]pkcs12Attribute, error) {
	id, err := asn1.Marshal(localKeyID)
	if err != nil {
		return nil, err
	}
	attrs := []pkcs12Attribute{{ID: oidLocalKeyID, Values: setOf(id)}}
	if friendlyName != "" {
		name, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagBMPString, Bytes: bmpString(friendlyName)})
		if err != nil {
			return nil, err
		}
		attrs = append(attrs, pkcs12Attribute{ID: oidFriendlyName, Values: setOf(name)})
	}
	return attrs, nil
}

func makeCertBag(der []byte, attrs []pkcs12Attribute) (safeBag, error) {
	octets, err := asn1.Marshal(der)
	if err != nil {
		return safeBag{}, err
	}
	value, err := asn1.Marshal(certBag{ID: oidX509Certificate, Data: explicit0(octets)})
	if err != nil {
		return safeBag{}, err
	}
	return safeBag{ID: oidCertBag, Value: explicit0(value), Attributes: attrs}, nil
}

func makeShroudedKeyBag(key crypto.Signer, password string, enc Encoding, attrs []pkcs12Attribute) (safeBag, error) {
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return safeBag{}, fmt.Errorf("marshal private key: %w", err)
	}
	alg, ciphertext, err := pbEncrypt(pkcs8, password, enc)
	if err != nil {
		return safeBag{}, fmt.Errorf("encrypt private key: %w", err)
	}
	value, err := asn1.Marshal(encryptedPrivateKeyInfo{Algorithm: alg, EncryptedData: ciphertext})
	if err != nil {
		return safeBag{}, err
	}
	return safeBag{ID: oidPKCS8ShroudedKeyBag, Value: explicit0(value), Attributes: attrs}, nil
}

// pbEncrypt encrypts with a fresh salt: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)
// for modern files, pbeWithSHAAnd3-KeyTripleDES-CBC for legacy ones.
func pbEncrypt(plaintext []byte, password string, enc Encoding) (pkix.AlgorithmIdentifier, []byte, error) {
	var (
		alg   pkix.AlgorithmIdentifier
		block cipher.Block
		iv    []byte
	)
	switch enc {
	case Modern:
		salt, iv16 := make([]byte, 16), make([]byte, aes.BlockSize)
		rand.Read(salt)
		rand.Read(iv16)
		key, err := pbkdf2.Key(sha256.New, password, salt, modernIterations, 32)
		if err != nil {
			return alg, nil, err
		}
		if block, err = aes.NewCipher(key); err != nil {
			return alg, nil, err
		}
		iv = iv16
		kdfParams, err := asn1.Marshal(pbkdf2Params{
			Salt:       salt,
			Iterations: modernIterations,
			PRF:        pkix.AlgorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1.NullRawValue},
		})
		if err != nil {
			return alg, nil, err
		}
		ivDER, err := asn1.Marshal(iv)
		if err != nil {
			return alg, nil, err
		}
		params, err := asn1.Marshal(pbes2Params{
			KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
			EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
		})
		if err != nil {
			return alg, nil, err
		}
		alg = pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}}
	case Legacy:
		salt := make([]byte, 8)
		rand.Read(salt)
		pw := bmpPassword(password)
		key := pkcs12KDF(sha1.New, pw, salt, legacyIterations, 1, 24)
		iv = pkcs12KDF(sha1.New, pw, salt, legacyIterations, 2, des.BlockSize)
		var err error
		if block, err = des.NewTripleDESCipher(key); err != nil {
			return alg, nil, err
		}
		params, err := asn1.Marshal(pbeParams{Salt: salt, Iterations: legacyIterations})
		if err != nil {
			return alg, nil, err
		}
		alg = pkix.AlgorithmIdentifier{Algorithm: oidPBEWithSHAAnd3KeyTDES, Parameters: asn1.RawValue{FullBytes: params}}
	default:
		return alg, nil, fmt.Errorf("unknown encoding %d", enc)
	}

	pad := block.BlockSize() - len(plaintext)%block.BlockSize()
	padded := append(bytes.Clone(plaintext), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(padded, padded)
	return alg, padded, nil
}

// computeMAC returns the MacData over the authenticated safe: HMAC with a key from
// the PKCS#12 KDF (RFC 7292 appendix B), SHA-256 for modern files, SHA-1 for legacy.
func computeMAC(authSafe []byte, password string, enc Encoding) (macData, error) {
	newHash, oid, iterations := sha256.New, oidSHA256, modernIterations
	if enc == Legacy {
		newHash, oid, iterations = sha1.New, oidSHA1, legacyIterations
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	key := pkcs12KDF(newHash, bmpPassword(password), salt, iterations, 3, newHash().Size())
	mac := hmac.New(newHash, key)
	mac.Write(authSafe)
	return macData{
		Mac: digestInfo{
			Algorithm: pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.NullRawValue},
			Digest:    mac.Sum(nil),
		},
		MacSalt:    salt,
		Iterations: iterations,
	}, nil
}

// pkcs12KDF is the key derivation of RFC 7292 appendix B.2. id is 1 for a cipher
// key, 2 for an IV, 3 for a MAC key.
func pkcs12KDF(newHash func() hash.Hash, password, salt []byte, iterations int, id byte, size int) []byte {
	h := newHash()
	u, v := h.Size(), h.BlockSize()

	d := bytes.Repeat([]byte{id}, v)
	i := append(fillBlocks(salt, v), fillBlocks(password, v)...)

	out := make([]byte, 0, size+u)
	for len(out) < size {
		h.Reset()
		h.Write(d)
		h.Write(i)
		a := h.Sum(nil)
		for range iterations - 1 {
			h.Reset()
			h.Write(a)
			a = h.Sum(a[:0])
		}
		out = append(out, a...)

		// I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block of I, where B
		// repeats A to v bytes.
		b := fillBlocks(a, v)[:v]
		for j := 0; j < len(i); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				sum := int(i[j+k]) + int(b[k]) + carry
				i[j+k] = byte(sum)
				carry = sum >> 8
			}
		}
	}
	return out[:size]
}

// fillBlocks repeats p to fill whole v-byte blocks (empty stays empty).
func fillBlocks(p []byte, v int) []byte {
	if len(p) == 0 {
		return nil
	}
	n := v * ((len(p) + v - 1) / v)
	out := make([]byte, n)
	for i := range out {
		out[i] = p[i%len(p)]
	}
	return out
}

// bmpString is s in UTF-16 big-endian, as BMPString wants.
func bmpString(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}

// bmpPassword is the password as the PKCS#12 KDF takes it: a BMPString with its
// two-byte terminator.
func bmpPassword(password string) []byte {
	return append(bmpString(password), 0, 0)
}
