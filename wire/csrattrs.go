package wire

// The CSR attributes answer (RFC 7030 §4.5): how the bank tells a PC which key
// to generate, and whether that key may be backed up.

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
)

// KeyType is the kind of key pair the bank's policy asks every PC to generate.
type KeyType string

// The key types a bank may choose.
const (
	KeyECDSAP256 KeyType = "ecdsa-p256" // the default
	KeyECDSAP384 KeyType = "ecdsa-p384"
	KeyRSA2048   KeyType = "rsa-2048"
	KeyRSA3072   KeyType = "rsa-3072"
)

// KeyTypes lists the key types a bank may choose, the default first.
var KeyTypes = []KeyType{KeyECDSAP256, KeyECDSAP384, KeyRSA2048, KeyRSA3072}

// Valid reports whether k is one of [KeyTypes].
func (k KeyType) Valid() bool { return slices.Contains(KeyTypes, k) }

// CSRAttrs is what the server's csrattrs answer says.
type CSRAttrs struct {
	// KeyType is the key the bank wants in every CSR.
	KeyType KeyType
	// BackupRoles are the roles whose keys may be backed up (exportable keys).
	BackupRoles []Role
	// Role is the role of the ID whose login ID and password came with the
	// request (pickup asks with them, RFC 7030 §4.5 lets the answer depend on
	// the client); empty in an anonymous answer.
	Role Role
}

// MayBackUp reports whether keys of role may be backed up.
func (a CSRAttrs) MayBackUp(role Role) bool { return slices.Contains(a.BackupRoles, role) }

// Object identifiers of the attributes (RFC 5480, RFC 8017, RFC 7030 §4.5.2).
var (
	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256            = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384            = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
)

// Inkan's own attributes live under 2.25.<UUID> (ITU-T X.667), an arc that
// needs no registration: d0ef7c8b-4b5b-436b-9e19-3c31c508a54c, then .1 for the
// roles that may back up (SET OF UTF8String) and .2 for the authenticated
// requester's role (UTF8String). encoding/asn1 cannot hold a 128-bit arc, so
// these are x509.OIDs, compared on their DER.
var (
	oidInkanBackupRoles   = mustOID("2.25.277722908127279474027020134602039141708.1")
	oidInkanRequesterRole = mustOID("2.25.277722908127279474027020134602039141708.2")
)

func mustOID(s string) []byte {
	oid, err := x509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	b, err := oid.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return b
}

// inkanAttribute is an attribute whose type is one of Inkan's OIDs.
type inkanAttribute struct {
	Type   asn1.RawValue
	Values []asn1.RawValue `asn1:"set"`
}

func oidValue(content []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagOID, Bytes: content}
}

// attribute is Attribute from RFC 2986 as CsrAttrs carries it.
type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

// MarshalCSRAttrs encodes a as the DER CsrAttrs of RFC 7030 §4.5.2: for ECDSA
// the id-ecPublicKey attribute naming the curve, for RSA the rsaEncryption
// attribute with the modulus size as an INTEGER (the convention of RFC 9908),
// the signature algorithm the server expects, and Inkan's own attributes.
func MarshalCSRAttrs(a CSRAttrs) ([]byte, error) {
	var keyAttr attribute
	var sigAlg asn1.ObjectIdentifier
	var err error
	val := func(v any) asn1.RawValue {
		b, e := asn1.Marshal(v)
		if e != nil {
			err = e
		}
		return asn1.RawValue{FullBytes: b}
	}
	switch a.KeyType {
	case KeyECDSAP256:
		keyAttr, sigAlg = attribute{Type: oidECPublicKey, Values: []asn1.RawValue{val(oidP256)}}, oidECDSAWithSHA256
	case KeyECDSAP384:
		keyAttr, sigAlg = attribute{Type: oidECPublicKey, Values: []asn1.RawValue{val(oidP384)}}, oidECDSAWithSHA384
	case KeyRSA2048:
		keyAttr, sigAlg = attribute{Type: oidRSAEncryption, Values: []asn1.RawValue{val(2048)}}, oidSHA256WithRSA
	case KeyRSA3072:
		keyAttr, sigAlg = attribute{Type: oidRSAEncryption, Values: []asn1.RawValue{val(3072)}}, oidSHA256WithRSA
	default:
		return nil, fmt.Errorf("encode CSR attributes: unknown key type %q", a.KeyType)
	}
	roles := inkanAttribute{Type: oidValue(oidInkanBackupRoles)}
	for _, r := range a.BackupRoles {
		roles.Values = append(roles.Values, val(asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(r)}))
	}
	items := []asn1.RawValue{val(keyAttr), val(sigAlg), val(roles)}
	if a.Role != "" {
		items = append(items, val(inkanAttribute{Type: oidValue(oidInkanRequesterRole), Values: []asn1.RawValue{val(asn1.RawValue{Tag: asn1.TagUTF8String, Bytes: []byte(a.Role)})}}))
	}
	if err != nil {
		return nil, fmt.Errorf("encode CSR attributes: %w", err)
	}
	der, err := asn1.Marshal(items)
	if err != nil {
		return nil, fmt.Errorf("encode CSR attributes: %w", err)
	}
	return der, nil
}

// ErrNoKeyType means a CsrAttrs answer names no key type this agent knows: the
// server is not an Inkan server, or asks for a key outside [KeyTypes].
var ErrNoKeyType = errors.New("the CSR attributes name no key type Inkan can generate")

// ParseCSRAttrs reads a DER CsrAttrs (RFC 7030 §4.5.2). Items it does not know
// are skipped, as the RFC asks of clients; a key type it does not know is
// [ErrNoKeyType].
func ParseCSRAttrs(der []byte) (CSRAttrs, error) {
	var items []asn1.RawValue
	rest, err := asn1.Unmarshal(der, &items)
	if err != nil || len(rest) != 0 {
		return CSRAttrs{}, fmt.Errorf("read CSR attributes: not a DER SEQUENCE of attributes (%v)", err)
	}
	var a CSRAttrs
	for _, item := range items {
		if item.Tag != asn1.TagSequence {
			continue // a bare OID (AttrOrOID's oid): a signature algorithm or a hint
		}
		var raw inkanAttribute
		if rest, err := asn1.Unmarshal(item.FullBytes, &raw); err != nil || len(rest) != 0 || len(raw.Values) == 0 || raw.Type.Tag != asn1.TagOID {
			return CSRAttrs{}, fmt.Errorf("read CSR attributes: a malformed attribute (%v)", err)
		}
		attr := attribute{Values: raw.Values}
		// An arc too large for encoding/asn1 (Inkan's own) leaves attr.Type empty.
		_, _ = asn1.Unmarshal(raw.Type.FullBytes, &attr.Type)
		switch {
		case bytes.Equal(raw.Type.Bytes, oidInkanBackupRoles):
			for _, v := range attr.Values {
				r, err := utf8Value(v)
				if err != nil {
					return CSRAttrs{}, fmt.Errorf("read CSR attributes: backup roles: %w", err)
				}
				if r.Valid() {
					a.BackupRoles = append(a.BackupRoles, r)
				}
			}
		case bytes.Equal(raw.Type.Bytes, oidInkanRequesterRole):
			r, err := utf8Value(attr.Values[0])
			if err != nil || !r.Valid() {
				return CSRAttrs{}, fmt.Errorf("read CSR attributes: the requester's role %q is not a role (%v)", r, err)
			}
			a.Role = r
		case attr.Type.Equal(oidECPublicKey):
			var curve asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(attr.Values[0].FullBytes, &curve); err != nil {
				return CSRAttrs{}, fmt.Errorf("read CSR attributes: the curve: %w", err)
			}
			switch {
			case curve.Equal(oidP256):
				a.KeyType = KeyECDSAP256
			case curve.Equal(oidP384):
				a.KeyType = KeyECDSAP384
			default:
				return CSRAttrs{}, fmt.Errorf("%w: ECDSA on curve %s", ErrNoKeyType, curve)
			}
		case attr.Type.Equal(oidRSAEncryption):
			var bits int
			if _, err := asn1.Unmarshal(attr.Values[0].FullBytes, &bits); err != nil {
				return CSRAttrs{}, fmt.Errorf("read CSR attributes: the RSA key size: %w", err)
			}
			switch bits {
			case 2048:
				a.KeyType = KeyRSA2048
			case 3072:
				a.KeyType = KeyRSA3072
			default:
				return CSRAttrs{}, fmt.Errorf("%w: RSA of %d bits", ErrNoKeyType, bits)
			}
		}
	}
	if a.KeyType == "" {
		return CSRAttrs{}, ErrNoKeyType
	}
	return a, nil
}

func utf8Value(v asn1.RawValue) (Role, error) {
	var s asn1.RawValue
	if _, err := asn1.Unmarshal(v.FullBytes, &s); err != nil {
		return "", err
	}
	if s.Tag != asn1.TagUTF8String {
		return "", fmt.Errorf("tag %d, want UTF8String", s.Tag)
	}
	return Role(s.Bytes), nil
}
