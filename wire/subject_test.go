package wire

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

// certWith signs a throwaway certificate with subject name.
func certWith(t *testing.T, name pkix.Name) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: name, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1e9, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestSubjectCommonNameIsTheChooserLabelWithoutOrganizationIdentifier(t *testing.T) {
	s := Subject{LoginID: "kanri01", Role: RoleAdmin, ContractID: "1000000001", ContractName: "佐藤商事株式会社", BankCode: "1376"}
	cert := certWith(t, s.Name())
	if cert.Subject.CommonName != "kanri01+1376" {
		t.Fatalf("CN %q, want the label kanri01+1376", cert.Subject.CommonName)
	}
	for _, atv := range cert.Subject.Names {
		if atv.Type.Equal(oidOrganizationIdentifier) {
			t.Fatalf("a new certificate still carries organizationIdentifier %v", atv.Value)
		}
	}
	got, err := SubjectOf(cert)
	if err != nil || got != s {
		t.Fatalf("SubjectOf = %+v, %v; want %+v", got, err, s)
	}
}

func TestSubjectOfReadsCertificatesOfOlderServers(t *testing.T) {
	// The layout servers wrote before the label moved into the CN.
	old := pkix.Name{
		Country: []string{"JP"}, Organization: []string{"山田商事株式会社"}, OrganizationalUnit: []string{"general"},
		CommonName: "suzuki", SerialNumber: "C-0001",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidOrganizationIdentifier, Value: "BANKJP-1376"}},
	}
	got, err := SubjectOf(certWith(t, old))
	want := Subject{LoginID: "suzuki", Role: RoleGeneral, ContractID: "C-0001", ContractName: "山田商事株式会社", BankCode: "1376"}
	if err != nil || got != want {
		t.Fatalf("SubjectOf(legacy) = %+v, %v; want %+v", got, err, want)
	}
	if got.Label() != "suzuki+1376" {
		t.Fatalf("legacy label %q", got.Label())
	}
}

func TestSubjectOfRefusesOtherCertificates(t *testing.T) {
	for what, name := range map[string]pkix.Name{
		"no bank code":           {CommonName: "kanri01", OrganizationalUnit: []string{"admin"}},
		"bank code not 4 digits": {CommonName: "kanri01+137", OrganizationalUnit: []string{"admin"}},
		"bank code only":         {CommonName: "+1376", OrganizationalUnit: []string{"admin"}},
		"unknown role":           {CommonName: "kanri01+1376", OrganizationalUnit: []string{"boss"}},
		"another CA's":           {CommonName: "www.example.jp", Organization: []string{"Example"}},
		"foreign organizationIdentifier": {CommonName: "kanri01", OrganizationalUnit: []string{"admin"},
			ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidOrganizationIdentifier, Value: "NTRJP-1234567890123"}}},
	} {
		if s, err := SubjectOf(certWith(t, name)); err == nil {
			t.Errorf("%s: SubjectOf accepted %+v", what, s)
		}
	}
}

func TestLongestLoginIDFitsTheCommonName(t *testing.T) {
	s := Subject{LoginID: strings.Repeat("a", MaxLoginIDInCertificate), Role: RoleGeneral, BankCode: "1376"}
	if n := len(s.Name().CommonName); n != 64 {
		t.Fatalf("the longest login ID gives a %d-character CN, want 64", n)
	}
}
