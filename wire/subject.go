package wire

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"strings"
)

// Subject is what the server writes into the subject of every certificate it
// issues, and what the agent reads back to label and describe it.
//
// The distinguished name is laid out as:
//
//	CN = login ID
//	OU = role (admin, approver, general)
//	O  = contract name
//	serialNumber (2.5.4.5) = contract ID
//	organizationIdentifier (2.5.4.97) = "BANKJP-" + bank code
//	C  = JP
type Subject struct {
	LoginID      string
	Role         Role
	ContractID   string
	ContractName string
	BankCode     string
}

// oidOrganizationIdentifier is organizationIdentifier from X.520.
var oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

const bankCodePrefix = "BANKJP-"

// Name returns the subject as a pkix.Name for a certificate template.
func (s Subject) Name() pkix.Name {
	return pkix.Name{
		Country:            []string{"JP"},
		Organization:       []string{s.ContractName},
		OrganizationalUnit: []string{string(s.Role)},
		CommonName:         s.LoginID,
		SerialNumber:       s.ContractID,
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: oidOrganizationIdentifier, Value: bankCodePrefix + s.BankCode},
		},
	}
}

// Label is the name the seeds show for a certificate: "<loginID>+<bankCode>".
func (s Subject) Label() string {
	return s.LoginID + "+" + s.BankCode
}

// SubjectOf reads the Inkan subject of cert. It fails when cert was not issued in
// this layout (for example a certificate from another CA).
func SubjectOf(cert *x509.Certificate) (Subject, error) {
	n := cert.Subject
	s := Subject{LoginID: n.CommonName, ContractID: n.SerialNumber}
	if len(n.Organization) > 0 {
		s.ContractName = n.Organization[0]
	}
	if len(n.OrganizationalUnit) > 0 {
		s.Role = Role(n.OrganizationalUnit[0])
	}
	for _, atv := range n.Names {
		if atv.Type.Equal(oidOrganizationIdentifier) {
			if v, ok := atv.Value.(string); ok && strings.HasPrefix(v, bankCodePrefix) {
				s.BankCode = strings.TrimPrefix(v, bankCodePrefix)
			}
		}
	}
	switch {
	case s.LoginID == "":
		return Subject{}, fmt.Errorf("certificate %q has no login ID (CN)", n.String())
	case s.BankCode == "":
		return Subject{}, fmt.Errorf("certificate %q has no bank code (organizationIdentifier)", n.String())
	case !s.Role.Valid():
		return Subject{}, fmt.Errorf("certificate %q has no known role (OU)", n.String())
	}
	return s, nil
}
