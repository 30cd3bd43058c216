package ca

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// An issuing CA whose key is compromised, or that the bank stops, is revoked
// in the root CRL: [RevokeIssuer] records it as retired/ID.revoked beside its
// retired certificate and signs a root CRL listing it, so relying parties that
// check every link (openssl verify -crl_check_all, Windows CryptoAPI's chain
// revocation check) refuse every certificate it signed. [Load] still loads it
// so that its CRL and OCSP keep answering, but [CA.CheckIssued] refuses its
// certificates (login, renewal) with [ErrIssuerRevoked], and its OCSP answers
// say revoked for every certificate it issued.

// IssuerRevokedSuffix names the record of a revoked issuing CA: retired/ID.revoked.
const IssuerRevokedSuffix = ".revoked"

// ErrIssuerRevoked is returned by [CA.CheckIssued] for a certificate signed by
// an issuing CA revoked in the root CRL.
var ErrIssuerRevoked = errors.New("the issuing CA that signed the certificate is revoked")

// ErrRevokeCurrent is returned by [RevokeIssuer] for the current issuing CA:
// the server would have nothing left to sign with.
var ErrRevokeCurrent = errors.New("the current issuing CA cannot be revoked: make a new one first with inkan-server ca rollover, then revoke the old one (現在の発行CAは失効できません。先に ca rollover で新しい発行CAを作ってください)")

// ErrIssuerAlreadyRevoked is returned by [RevokeIssuer] for an issuing CA the
// root CRL lists already.
var ErrIssuerAlreadyRevoked = errors.New("the issuing CA is already revoked in the root CRL")

// CRLReason codes of RFC 5280 §5.3.1 that fit an issuing CA.
const (
	ReasonKeyCompromise        = 1
	ReasonCACompromise         = 2
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
)

// IssuerRevocationReasons are the reasons an operator may give for revoking an
// issuing CA, by the names the CLI takes.
var IssuerRevocationReasons = map[string]int{
	"key-compromise":         ReasonKeyCompromise,
	"ca-compromise":          ReasonCACompromise,
	"superseded":             ReasonSuperseded,
	"cessation-of-operation": ReasonCessationOfOperation,
}

// IssuerRevocation records one revoked issuing CA.
type IssuerRevocation struct {
	ID        string    `json:"id"`     // subject key identifier, hex
	Serial    string    `json:"serial"` // certificate serial, lower-case hex
	Subject   string    `json:"subject"`
	RevokedAt time.Time `json:"revoked_at"`
	Reason    string    `json:"reason"` // a key of IssuerRevocationReasons
}

// ReasonCode is r's CRLReason.
func (r IssuerRevocation) ReasonCode() int { return IssuerRevocationReasons[r.Reason] }

func (r IssuerRevocation) serial() *big.Int {
	n, _ := new(big.Int).SetString(r.Serial, 16)
	return n
}

func (r IssuerRevocation) entry() x509.RevocationListEntry {
	return x509.RevocationListEntry{SerialNumber: r.serial(), RevocationTime: r.RevokedAt, ReasonCode: r.ReasonCode()}
}

// IssuerRevocations reads the records of the revoked issuing CAs in dir,
// oldest first.
func IssuerRevocations(dir string) ([]IssuerRevocation, error) {
	paths, err := filepath.Glob(filepath.Join(dir, RetiredDir, "*"+IssuerRevokedSuffix))
	if err != nil {
		return nil, fmt.Errorf("list revoked issuing CAs: %w", err)
	}
	var out []IssuerRevocation
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read revoked issuing CA: %w", err)
		}
		var r IssuerRevocation
		if err := json.Unmarshal(data, &r); err != nil || r.serial() == nil || r.RevokedAt.IsZero() {
			return nil, fmt.Errorf("%s is not a record of a revoked issuing CA (%v): restore it from the backup of the data directory", p, err)
		}
		if _, ok := IssuerRevocationReasons[r.Reason]; !ok {
			return nil, fmt.Errorf("%s: unknown reason %q", p, r.Reason)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RevokedAt.Before(out[j].RevokedAt) })
	return out, nil
}

// RevokeIssuer revokes the retired issuing CA id (its subject key identifier
// in hex, as in retired/ID.crt and its URLs) for reason, a key of
// [IssuerRevocationReasons]: it records the revocation in retired/ID.revoked
// and signs, with the root key at rootKeyPath, a new root CRL valid for
// validity that lists it. The current issuing CA is refused
// ([ErrRevokeCurrent]). Running it again for an issuer already on the root CRL
// fails with [ErrIssuerAlreadyRevoked] (and the issuer's certificate); after a
// crash between the record and the CRL it signs the CRL.
func RevokeIssuer(dir, rootKeyPath string, passphrase Passphrase, id, reason string, validity time.Duration, now time.Time) (*x509.RevocationList, *x509.Certificate, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if _, ok := IssuerRevocationReasons[reason]; !ok {
		return nil, nil, fmt.Errorf("reason %q: give one of %s", reason, strings.Join(reasonNames(), ", "))
	}
	if err := checkRootCRLValidity(validity, now); err != nil {
		return nil, nil, err
	}
	current, err := readCert(filepath.Join(dir, IssuingCertFile))
	if err != nil {
		return nil, nil, err
	}
	if hex.EncodeToString(current.SubjectKeyId) == id {
		return nil, nil, ErrRevokeCurrent
	}
	if _, err := hex.DecodeString(id); err != nil || id == "" {
		return nil, nil, fmt.Errorf("%q is not an issuing CA ID (the hex subject key identifier, as inkan-server status lists it)", id)
	}
	certPath := filepath.Join(dir, RetiredDir, id+".crt")
	cert, err := readCert(certPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("no retired issuing CA %s in %s (inkan-server status lists them): %w", id, filepath.Join(dir, RetiredDir), err)
	}
	if err != nil {
		return nil, nil, err
	}
	root, key, err := loadRoot(dir, rootKeyPath, passphrase)
	if err != nil {
		return nil, nil, err
	}
	if err := cert.CheckSignatureFrom(root); err != nil {
		return nil, nil, fmt.Errorf("%s is not signed by this root CA: %w", certPath, err)
	}
	if cur, err := ReadRootCRL(dir); err == nil && slices.ContainsFunc(cur.RevokedCertificateEntries, func(e x509.RevocationListEntry) bool {
		return e.SerialNumber.Cmp(cert.SerialNumber) == 0
	}) {
		return nil, cert, fmt.Errorf("issuing CA %s: %w (number %s)", id, ErrIssuerAlreadyRevoked, cur.Number)
	}
	recPath := filepath.Join(dir, RetiredDir, id+IssuerRevokedSuffix)
	if _, err := os.Stat(recPath); errors.Is(err, os.ErrNotExist) {
		rec := IssuerRevocation{ID: id, Serial: SerialHex(cert.SerialNumber), Subject: cert.Subject.String(), RevokedAt: now.UTC().Truncate(time.Second), Reason: reason}
		data, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			return nil, nil, err
		}
		if err := writeFileAtomic(recPath, append(data, '\n'), 0o644); err != nil {
			return nil, nil, fmt.Errorf("record the revocation: %w", err)
		}
	}
	crl, err := signRootCRL(dir, root, key, validity, now)
	if err != nil {
		return nil, nil, err
	}
	return crl, cert, nil
}

func reasonNames() []string {
	var names []string
	for n := range IssuerRevocationReasons {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// markRevoked sets Revoked on the issuers that dir's records or its root CRL
// list as revoked. The current issuing CA among them is an error: nothing
// must be signed with it.
func (c *CA) markRevoked(dir string) error {
	records, err := IssuerRevocations(dir)
	if err != nil {
		return err
	}
	var listed []x509.RevocationListEntry
	if crl, err := ReadRootCRL(dir); err == nil {
		listed = crl.RevokedCertificateEntries
	}
	for _, iss := range c.Issuers {
		for _, r := range records {
			if r.serial().Cmp(iss.Cert.SerialNumber) == 0 {
				iss.Revoked = &r
			}
		}
		for _, e := range listed {
			if iss.Revoked == nil && e.SerialNumber.Cmp(iss.Cert.SerialNumber) == 0 {
				iss.Revoked = &IssuerRevocation{ID: iss.ID(), Serial: SerialHex(e.SerialNumber), Subject: iss.Cert.Subject.String(), RevokedAt: e.RevocationTime, Reason: reasonName(e.ReasonCode)}
			}
		}
	}
	if r := c.Issuers[0].Revoked; r != nil {
		return fmt.Errorf("the current issuing CA %s is revoked in the root CRL since %s: make a new one with inkan-server ca rollover (現在の発行CAは失効しています。ca rollover で新しい発行CAを作ってください)", r.ID, r.RevokedAt.Format(time.RFC3339))
	}
	return nil
}

func reasonName(code int) string {
	for n, c := range IssuerRevocationReasons {
		if c == code {
			return n
		}
	}
	return "key-compromise" // an unknown or absent reason: treat it as the worst
}
