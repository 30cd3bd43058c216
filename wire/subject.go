package wire

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"regexp"
	"strings"
)

// Subject is what the server writes into the subject of every certificate it
// issues, and what the agent reads back to label and describe it.
//
// The distinguished name is laid out as:
//
//	CN = login ID + "+" + bank code (the label, "kanri01+1376")
//	OU = role (admin, approver, general)
//	O  = contract name
//	serialNumber (2.5.4.5) = contract ID
//	C  = JP
//
// The common name is the label the seeds show in the browser's certificate
// chooser (「利用者ID+1376」): Chrome and Edge list a client certificate by
// its subject's CN, on Windows and on Linux alike (Chromium takes an NSS
// nickname only for a certificate without one), so the CN itself must read
// that way; and a certificate alone says which bank's ID it is, without the
// bank's configuration on the PC (a restored backup of another bank, for one).
//
// # Certificates of older servers
//
// Servers before this layout wrote CN = login ID and the bank code in
// organizationIdentifier (2.5.4.97) as "BANKJP-" + code. That is not the
// form ETSI EN 319 412-1 §5.1.4 gives the attribute (a registration scheme
// such as NTR or VAT, a country, '-', and an identifier of the subject, the
// customer's company), so it is no longer written; [SubjectOf] still reads
// such certificates until they expire.
type Subject struct {
	LoginID      string
	Role         Role
	ContractID   string
	ContractName string
	BankCode     string
}

// MaxLoginIDInCertificate is the longest login ID whose label, with "+" and a
// four-digit bank code, fits X.520's 64-character common name (RFC 5280
// appendix A, ub-common-name).
const MaxLoginIDInCertificate = 64 - len("+0000")

// oidOrganizationIdentifier is organizationIdentifier from X.520.
var oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

// legacyBankCodePrefix starts the organizationIdentifier of older servers' certificates.
const legacyBankCodePrefix = "BANKJP-"

// bankCodeSuffix is the "+" and four-digit bank code that end a label.
var bankCodeSuffix = regexp.MustCompile(`\+([0-9]{4})$`)

// Name returns the subject as a pkix.Name for a certificate template.
func (s Subject) Name() pkix.Name {
	return pkix.Name{
		Country:            []string{"JP"},
		Organization:       []string{s.ContractName},
		OrganizationalUnit: []string{string(s.Role)},
		CommonName:         s.Label(),
		SerialNumber:       s.ContractID,
	}
}

// Label is the name the seeds show for a certificate: "<loginID>+<bankCode>".
func (s Subject) Label() string {
	return s.LoginID + "+" + s.BankCode
}

// SubjectOf reads the Inkan subject of cert, in this layout or in that of
// older servers (see [Subject]). It fails when cert was not issued in either
// (for example a certificate from another CA).
func SubjectOf(cert *x509.Certificate) (Subject, error) {
	n := cert.Subject
	s := Subject{ContractID: n.SerialNumber}
	if len(n.Organization) > 0 {
		s.ContractName = n.Organization[0]
	}
	if len(n.OrganizationalUnit) > 0 {
		s.Role = Role(n.OrganizationalUnit[0])
	}
	legacy := false
	for _, atv := range n.Names {
		if atv.Type.Equal(oidOrganizationIdentifier) {
			if v, ok := atv.Value.(string); ok && strings.HasPrefix(v, legacyBankCodePrefix) {
				s.LoginID, s.BankCode, legacy = n.CommonName, strings.TrimPrefix(v, legacyBankCodePrefix), true
			}
		}
	}
	if m := bankCodeSuffix.FindStringSubmatchIndex(n.CommonName); !legacy && m != nil {
		s.LoginID, s.BankCode = n.CommonName[:m[0]], n.CommonName[m[2]:m[3]]
	}
	switch {
	case s.BankCode == "":
		return Subject{}, fmt.Errorf("certificate %q has no bank code (CN is not \"<login ID>+<bank code>\")", n.String())
	case s.LoginID == "":
		return Subject{}, fmt.Errorf("certificate %q has no login ID (CN)", n.String())
	case !s.Role.Valid():
		return Subject{}, fmt.Errorf("certificate %q has no known role (OU)", n.String())
	}
	return s, nil
}
