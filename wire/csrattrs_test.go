package wire

import (
	"encoding/asn1"
	"errors"
	"slices"
	"testing"
)

func TestCSRAttrsRoundTripEveryKeyType(t *testing.T) {
	for _, kt := range KeyTypes {
		in := CSRAttrs{KeyType: kt, BackupRoles: []Role{RoleAdmin, RoleApprover}, Role: RoleGeneral}
		der, err := MarshalCSRAttrs(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := ParseCSRAttrs(der)
		if err != nil {
			t.Fatalf("%s: %v", kt, err)
		}
		if out.KeyType != kt || !slices.Equal(out.BackupRoles, in.BackupRoles) || out.Role != RoleGeneral {
			t.Fatalf("%s: got %+v", kt, out)
		}
		if out.MayBackUp(RoleGeneral) || !out.MayBackUp(RoleAdmin) {
			t.Fatalf("%s: MayBackUp wrong for %+v", kt, out)
		}
	}
}

// RFC 7030 §4.5.2's own example: a challenge password, an ECDSA P-384 key,
// an extension request and SHA-384 signatures. What Inkan does not know is
// skipped; the key type is read.
func TestCSRAttrsReadTheRFCExample(t *testing.T) {
	type attr struct {
		Type   asn1.ObjectIdentifier
		Values []asn1.RawValue `asn1:"set"`
	}
	mustMarshal := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	der, err := asn1.Marshal([]asn1.RawValue{
		mustMarshal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 7}),
		mustMarshal(attr{Type: oidECPublicKey, Values: []asn1.RawValue{mustMarshal(oidP384)}}),
		mustMarshal(attr{Type: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 14}, Values: []asn1.RawValue{mustMarshal(asn1.ObjectIdentifier{1, 3, 6, 1, 1, 1, 1, 22})}}),
		mustMarshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}),
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseCSRAttrs(der)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyType != KeyECDSAP384 || len(a.BackupRoles) != 0 || a.Role != "" {
		t.Fatalf("got %+v", a)
	}
}

func TestCSRAttrsWithoutAKnownKeyTypeAreRefused(t *testing.T) {
	der, err := asn1.Marshal([]asn1.ObjectIdentifier{oidSHA256WithRSA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCSRAttrs(der); !errors.Is(err, ErrNoKeyType) {
		t.Fatalf("err = %v, want ErrNoKeyType", err)
	}
	if _, err := ParseCSRAttrs([]byte("not DER")); err == nil {
		t.Fatal("garbage parsed")
	}
	if _, err := MarshalCSRAttrs(CSRAttrs{KeyType: "dsa-1024"}); err == nil {
		t.Fatal("unknown key type encoded")
	}
}
