package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	_ "crypto/sha1" // OCSP requests name issuers by SHA-1 hashes
	_ "crypto/sha256"
	_ "crypto/sha512"
)

// OCSPValidity is how long an OCSP answer stays current (its nextUpdate), and
// so how long an HTTP cache may keep it.
const OCSPValidity = time.Hour

// MaxNonceLen is the longest nonce an OCSP request may carry (RFC 8954 §2.1).
const MaxNonceLen = 32

var (
	oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	hashByOID    = map[string]crypto.Hash{
		"1.3.14.3.2.26":          crypto.SHA1,
		"2.16.840.1.101.3.4.2.1": crypto.SHA256,
		"2.16.840.1.101.3.4.2.2": crypto.SHA384,
		"2.16.840.1.101.3.4.2.3": crypto.SHA512,
	}
)

// ErrBadNonce is returned by [ParseOCSPRequest] for a nonce RFC 8954 forbids:
// empty or longer than [MaxNonceLen] bytes.
var ErrBadNonce = errors.New("the OCSP nonce is empty or longer than 32 bytes")

// OCSPRequest is the one certificate an OCSP request asks about (RFC 6960 §4.1),
// and its nonce.
type OCSPRequest struct {
	HashAlgorithm  crypto.Hash
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	SerialNumber   *big.Int
	// Nonce is the requestExtensions' nonce extension (RFC 8954), nil when the
	// client asked for none; the answer carries the same extension.
	Nonce    []byte
	nonceExt []byte
	certID   []byte // the DER CertID, echoed in the answer
}

type ocspCertID struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	NameHash      []byte
	KeyHash       []byte
	Serial        *big.Int
}

type ocspSingleRequest struct {
	CertID     asn1.RawValue
	Extensions []pkix.Extension `asn1:"explicit,tag:0,optional"`
}

type ocspTBSRequest struct {
	Version       int           `asn1:"explicit,tag:0,default:0,optional"`
	RequestorName asn1.RawValue `asn1:"explicit,tag:1,optional"`
	RequestList   []ocspSingleRequest
	Extensions    []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type ocspRequestASN1 struct {
	TBS       ocspTBSRequest
	Signature asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

// ParseOCSPRequest reads a DER OCSP request about one certificate.
func ParseOCSPRequest(der []byte) (*OCSPRequest, error) {
	var req ocspRequestASN1
	rest, err := asn1.Unmarshal(der, &req)
	if err != nil {
		return nil, fmt.Errorf("parse OCSP request: %w", err)
	}
	if len(rest) > 0 {
		return nil, errors.New("parse OCSP request: trailing data")
	}
	if len(req.TBS.RequestList) != 1 {
		return nil, fmt.Errorf("parse OCSP request: it asks about %d certificates, not one", len(req.TBS.RequestList))
	}
	var id ocspCertID
	if rest, err := asn1.Unmarshal(req.TBS.RequestList[0].CertID.FullBytes, &id); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("parse OCSP request: bad CertID: %v", err)
	}
	h, ok := hashByOID[id.HashAlgorithm.Algorithm.String()]
	if !ok || !h.Available() || id.Serial == nil {
		return nil, fmt.Errorf("parse OCSP request: unsupported hash algorithm %s", id.HashAlgorithm.Algorithm)
	}
	out := &OCSPRequest{HashAlgorithm: h, IssuerNameHash: id.NameHash, IssuerKeyHash: id.KeyHash, SerialNumber: id.Serial, certID: req.TBS.RequestList[0].CertID.FullBytes}
	for _, ext := range req.TBS.Extensions {
		if !ext.Id.Equal(oidOCSPNonce) {
			continue
		}
		nonce := ext.Value
		var inner []byte
		if rest, err := asn1.Unmarshal(ext.Value, &inner); err == nil && len(rest) == 0 {
			nonce = inner // Nonce ::= OCTET STRING, as RFC 8954 has it
		}
		if len(nonce) < 1 || len(nonce) > MaxNonceLen {
			return nil, ErrBadNonce
		}
		out.Nonce, out.nonceExt = nonce, ext.Value
	}
	return out, nil
}

// IssuerFor returns the issuing CA, current or retired, that req names, or nil.
func (c *CA) IssuerFor(req *OCSPRequest) *Issuer {
	for _, i := range c.Issuers {
		h := req.HashAlgorithm.New()
		h.Write(i.Cert.RawSubject)
		nameHash := h.Sum(nil)
		h = req.HashAlgorithm.New()
		h.Write(subjectPublicKeyBits(i.Cert.RawSubjectPublicKeyInfo))
		if bytes.Equal(nameHash, req.IssuerNameHash) && bytes.Equal(h.Sum(nil), req.IssuerKeyHash) {
			return i
		}
	}
	return nil
}

func subjectPublicKeyBits(spkiDER []byte) []byte {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(spkiDER, &spki); err != nil {
		return nil
	}
	return spki.PublicKey.RightAlign()
}

// OCSPStatus is what the records say about one serial.
type OCSPStatus struct {
	Status    int // ocsp.Good, ocsp.Revoked or ocsp.Unknown
	RevokedAt time.Time
	Reason    int
}

// OCSPResponse answers req (RFC 6960 §4.2), signed by issuer itself (no
// delegated responder): responder ID by key hash, producedAt and thisUpdate
// both now (to the second), nextUpdate [OCSPValidity] later, and the request's
// nonce when it carried one.
func (c *CA) OCSPResponse(issuer *Issuer, req *OCSPRequest, st OCSPStatus, now time.Time) ([]byte, error) {
	now = now.UTC().Truncate(time.Second)
	key, err := issuer.signer()
	if err != nil {
		return nil, fmt.Errorf("sign OCSP response: %w", err)
	}
	sigAlg, hash, err := signatureAlgorithm(key.Public())
	if err != nil {
		return nil, err
	}
	var tbs cryptobyte.Builder
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(keyID(issuer.Cert.PublicKey)) // byKey
		})
		b.AddASN1GeneralizedTime(now) // producedAt
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(req.certID)
				switch st.Status {
				case ocsp.Good:
					b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(*cryptobyte.Builder) {})
				case ocsp.Revoked:
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1GeneralizedTime(st.RevokedAt.UTC().Truncate(time.Second))
						if st.Reason != ocsp.Unspecified {
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddASN1Enum(int64(st.Reason))
							})
						}
					})
				default:
					b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(*cryptobyte.Builder) {})
				}
				b.AddASN1GeneralizedTime(now) // thisUpdate
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1GeneralizedTime(now.Add(OCSPValidity))
				})
			})
		})
		if req.nonceExt != nil {
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidOCSPNonce)
						b.AddASN1OctetString(req.nonceExt)
					})
				})
			})
		}
	})
	tbsDER, err := tbs.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode OCSP response: %w", err)
	}
	h := hash.New()
	h.Write(tbsDER)
	sig, err := key.Sign(rand.Reader, h.Sum(nil), hash)
	if err != nil {
		return nil, fmt.Errorf("sign OCSP response: %w", err)
	}
	var basic cryptobyte.Builder
	basic.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddBytes(sigAlg)
		b.AddASN1BitString(sig)
	})
	basicDER, err := basic.Bytes()
	if err != nil {
		return nil, fmt.Errorf("encode OCSP response: %w", err)
	}
	var resp cryptobyte.Builder
	resp.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(0) // successful
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1OctetString(basicDER)
			})
		})
	})
	return resp.Bytes()
}

// signatureAlgorithm is the DER AlgorithmIdentifier and hash the CA signs OCSP
// answers with for its key: ECDSA with SHA-256 (P-256) or SHA-384 (P-384), or
// RSA PKCS#1 v1.5 with SHA-256.
func signatureAlgorithm(pub crypto.PublicKey) ([]byte, crypto.Hash, error) {
	var b cryptobyte.Builder
	var hash crypto.Hash
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		oid, h := asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, crypto.SHA256
		if k.Curve == elliptic.P384() {
			oid, h = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, crypto.SHA384
		}
		hash = h
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
	case *rsa.PublicKey:
		hash = crypto.SHA256
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11})
			b.AddASN1NULL()
		})
	default:
		return nil, 0, fmt.Errorf("sign OCSP response: unsupported key type %T", pub)
	}
	der, err := b.Bytes()
	return der, hash, err
}
