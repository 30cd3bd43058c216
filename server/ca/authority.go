package ca

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Issuer is one issuing CA: the current one signs new certificates, a retired
// one still signs the CRL and OCSP answers for the certificates it issued.
type Issuer struct {
	Cert *x509.Certificate
	// Revoked is set for an issuing CA revoked in the root CRL (see [RevokeIssuer]).
	Revoked *IssuerRevocation

	mu  sync.Mutex
	key crypto.Signer
	// locked names the encrypted key file until it is decrypted, on first use
	// with passphrase: the operator's commands that never sign never ask for it.
	locked     string
	passphrase Passphrase
}

// signer is the issuer's key, decrypted on first use.
func (i *Issuer) signer() (crypto.Signer, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.key != nil {
		return i.key, nil
	}
	if i.passphrase == nil {
		return nil, fmt.Errorf("%s: %w: give it with --passphrase-file FILE, the INKAN_CA_PASSPHRASE environment variable, or on the terminal", i.locked, ErrNoPassphrase)
	}
	key, err := ReadKey(i.locked, i.passphrase)
	if err != nil {
		return nil, err
	}
	if !samePublicKey(key.Public(), i.Cert.PublicKey) {
		return nil, fmt.Errorf("the key %s does not belong to its issuing CA certificate", i.locked)
	}
	i.key = key
	return key, nil
}

// ID names the issuer in URLs: its subject key identifier in lower-case hex.
func (i *Issuer) ID() string { return hex.EncodeToString(i.Cert.SubjectKeyId) }

// Named reports whether cert names this issuer as its issuer, by authority key
// identifier (or, without one, by issuer name), without checking the signature:
// for certificates from the server's own records.
func (i *Issuer) Named(cert *x509.Certificate) bool {
	if len(cert.AuthorityKeyId) > 0 {
		return bytes.Equal(cert.AuthorityKeyId, i.Cert.SubjectKeyId)
	}
	return bytes.Equal(cert.RawIssuer, i.Cert.RawSubject)
}

// Signed reports whether cert names this issuer as its issuer (authority key
// identifier, or else the signature).
func (i *Issuer) Signed(cert *x509.Certificate) bool {
	if len(cert.AuthorityKeyId) > 0 && len(i.Cert.SubjectKeyId) > 0 {
		return bytes.Equal(cert.AuthorityKeyId, i.Cert.SubjectKeyId) && cert.CheckSignatureFrom(i.Cert) == nil
	}
	return cert.CheckSignatureFrom(i.Cert) == nil
}

// CA is a loaded certificate authority: the root certificate, the current
// issuing CA and the retired ones still within their validity.
type CA struct {
	Root *x509.Certificate
	// Issuing is the current issuing CA's certificate, Issuers[0].Cert.
	Issuing *x509.Certificate
	// Issuers are the current issuing CA and then the retired ones, newest first.
	Issuers []*Issuer
	// BaseURL is the revocation base URL written into the certificates issued.
	BaseURL string
	// Policy is the bank's certificate policy written into each certificate; the
	// zero OID writes none (a configuration made before the field existed).
	Policy x509.OID
}

// LoadOptions says how [Load] reads the CA.
type LoadOptions struct {
	// BaseURL is the revocation base URL (see the package doc).
	BaseURL string
	// PolicyOID is the bank's certificate policy; empty writes none.
	PolicyOID string
	// Passphrase decrypts encrypted issuing keys, when they first sign.
	Passphrase Passphrase
	// IssuingSigner, when set, is the current issuing CA's key (in an HSM);
	// issuing-ca.key is not read then.
	IssuingSigner crypto.Signer
	// RetiredSigner opens the key of a retired issuing CA that is in an HSM
	// (retired/ID.uri holds its pkcs11: URI); nil refuses such issuers.
	RetiredSigner func(uri string) (crypto.Signer, error)
	// Now drops retired issuers that have expired; zero means time.Now.
	Now time.Time
}

// Load reads the CA in dir: the root certificate, the current issuing CA with
// its key, and each retired issuing CA that has not expired.
func Load(dir string, opts LoadOptions) (*CA, error) {
	root, err := readCert(filepath.Join(dir, RootCertFile))
	if err != nil {
		return nil, err
	}
	c := &CA{Root: root, BaseURL: strings.TrimRight(opts.BaseURL, "/")}
	if opts.PolicyOID != "" {
		if c.Policy, err = ParsePolicyOID(opts.PolicyOID); err != nil {
			return nil, err
		}
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if opts.IssuingSigner == nil {
		if err := finishRollover(dir, opts.Passphrase); err != nil {
			return nil, err
		}
	} else if err := finishRolloverInHSM(dir, opts.IssuingSigner); err != nil {
		return nil, err
	}
	current, err := loadIssuer(root, filepath.Join(dir, IssuingCertFile), filepath.Join(dir, IssuingKeyFile), opts.IssuingSigner, opts.Passphrase)
	if err != nil {
		return nil, err
	}
	c.Issuers = []*Issuer{current}
	retired, err := filepath.Glob(filepath.Join(dir, RetiredDir, "*.crt"))
	if err != nil {
		return nil, fmt.Errorf("list retired issuing CAs: %w", err)
	}
	for _, crt := range retired {
		var signer crypto.Signer
		if uri, err := os.ReadFile(strings.TrimSuffix(crt, ".crt") + ".uri"); err == nil {
			if opts.RetiredSigner == nil {
				return nil, fmt.Errorf("retired issuing CA %s: its key is in an HSM (%s) and no PKCS#11 session was opened for it", crt, strings.TrimSpace(string(uri)))
			}
			if signer, err = opts.RetiredSigner(strings.TrimSpace(string(uri))); err != nil {
				return nil, fmt.Errorf("retired issuing CA %s: %w", crt, err)
			}
		}
		iss, err := loadIssuer(root, crt, strings.TrimSuffix(crt, ".crt")+".key", signer, opts.Passphrase)
		if err != nil {
			return nil, fmt.Errorf("retired issuing CA: %w", err)
		}
		if now.After(iss.Cert.NotAfter) || slices.ContainsFunc(c.Issuers, func(o *Issuer) bool { return o.ID() == iss.ID() }) {
			continue // expired, so are its certificates; or a rollover stopped before it removed nothing
		}
		c.Issuers = append(c.Issuers, iss)
	}
	slices.SortStableFunc(c.Issuers[1:], func(a, b *Issuer) int { return b.Cert.NotBefore.Compare(a.Cert.NotBefore) })
	c.Issuing = current.Cert
	if err := c.markRevoked(dir); err != nil {
		return nil, err
	}
	return c, nil
}

func loadIssuer(root *x509.Certificate, certPath, keyPath string, signer crypto.Signer, passphrase Passphrase) (*Issuer, error) {
	cert, err := readCert(certPath)
	if err != nil {
		return nil, err
	}
	if err := cert.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("%s is not signed by the root CA: %w", certPath, err)
	}
	if len(cert.SubjectKeyId) == 0 {
		return nil, fmt.Errorf("%s has no subject key identifier", certPath)
	}
	if signer == nil {
		if enc, err := KeyIsEncrypted(keyPath); err != nil {
			return nil, err
		} else if enc {
			return &Issuer{Cert: cert, locked: keyPath, passphrase: passphrase}, nil
		}
		if signer, err = ReadKey(keyPath, passphrase); err != nil {
			return nil, err
		}
	}
	if !samePublicKey(signer.Public(), cert.PublicKey) {
		return nil, fmt.Errorf("the key for %s does not belong to it", certPath)
	}
	return &Issuer{Cert: cert, key: signer}, nil
}

// Unlock decrypts every issuing key now, so that a wrong or missing passphrase
// shows at once rather than at the first signature.
func (c *CA) Unlock() error {
	for _, i := range c.Issuers {
		if _, err := i.signer(); err != nil {
			return err
		}
	}
	return nil
}

// Current is the issuing CA that signs new certificates.
func (c *CA) Current() *Issuer { return c.Issuers[0] }

// Issuer returns the issuer with the given ID, or nil.
func (c *CA) Issuer(id string) *Issuer {
	for _, i := range c.Issuers {
		if i.ID() == id {
			return i
		}
	}
	return nil
}

// IssuerOf returns the issuer, current or retired, that signed cert, or nil.
func (c *CA) IssuerOf(cert *x509.Certificate) *Issuer {
	for _, i := range c.Issuers {
		if i.Signed(cert) {
			return i
		}
	}
	return nil
}

// OCSPURL is where this server answers OCSP; CRLURL and IssuerURL are where it
// publishes the CRL and the certificate of issuer.
func (c *CA) OCSPURL() string              { return c.BaseURL + "/ocsp" }
func (c *CA) CRLURL(issuer *Issuer) string { return c.BaseURL + "/crl/" + issuer.ID() + ".crl" }
func (c *CA) IssuerURL(i *Issuer) string   { return c.BaseURL + "/ca/" + i.ID() + ".crt" }

// Issue signs a client certificate for the key of csr, with subject name, valid
// from notBefore to notAfter, or to the current issuing CA's notAfter if that
// comes first. csr must have been checked by the caller.
func (c *CA) Issue(csr *x509.CertificateRequest, name pkix.Name, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	iss := c.Current()
	serial, err := NewSerial()
	if err != nil {
		return nil, err
	}
	if notAfter.After(iss.Cert.NotAfter) {
		notAfter = iss.Cert.NotAfter
	}
	ski := spkiKeyID(csr.RawSubjectPublicKeyInfo)
	if ski == nil {
		ski = keyID(csr.PublicKey)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		SubjectKeyId:          ski,
		OCSPServer:            []string{c.OCSPURL()},
		IssuingCertificateURL: []string{c.IssuerURL(iss)},
		CRLDistributionPoints: []string{c.CRLURL(iss)},
	}
	if !c.Policy.Equal(x509.OID{}) {
		tmpl.Policies = []x509.OID{c.Policy}
	}
	key, err := iss.signer()
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, iss.Cert, csr.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// ErrNotIssuedHere is returned by [CA.CheckIssued] for a certificate this CA did not sign.
var ErrNotIssuedHere = errors.New("the certificate was not issued by this CA")

// CheckIssued reports whether cert was signed by one of the issuing CAs,
// current or retired and not revoked ([ErrIssuerRevoked]). It deliberately
// ignores validity dates: an expired certificate may still renew.
func (c *CA) CheckIssued(cert *x509.Certificate) error {
	return c.checkStanding(c.IssuerOf(cert))
}

// CheckStored is [CA.CheckIssued] for a certificate that is, byte for byte,
// one the server's records hold: those records hold only what this CA signed,
// so the issuer it names (authority key identifier) is the one that signed it,
// and its signature needs no check again. The issuer must still be loaded
// (current, or retired and not expired) and not revoked.
func (c *CA) CheckStored(cert *x509.Certificate) error {
	var named *Issuer
	for _, i := range c.Issuers {
		if i.Named(cert) {
			named = i
			break
		}
	}
	return c.checkStanding(named)
}

// checkStanding is the verdict on a certificate whose issuer is iss (nil: none of this CA's).
func (c *CA) checkStanding(iss *Issuer) error {
	if iss == nil {
		return fmt.Errorf("%w: no issuing CA of this bank signed it", ErrNotIssuedHere)
	}
	if iss.Revoked != nil {
		return fmt.Errorf("%w: %s, since %s (%s)", ErrIssuerRevoked, iss.Cert.Subject.CommonName, iss.Revoked.RevokedAt.Format(time.RFC3339), iss.Revoked.Reason)
	}
	return nil
}

// Rollover makes a new issuing CA in dir, signed with the root key at
// rootKeyPath, with a new key of the current one's kind, and retires the
// current one into retired/ID.crt and .key: the server keeps answering CRL and
// OCSP for its certificates until it expires. passphrase decrypts the root key
// and encrypts the new issuing key (none writes it in clear, as before).
func Rollover(dir, rootKeyPath string, passphrase Passphrase, baseURL, policyOID string, now time.Time) (*x509.Certificate, error) {
	return RolloverWith(dir, rootKeyPath, passphrase, baseURL, policyOID, now, RolloverOptions{})
}

// RolloverOptions says where the issuing keys of a rollover are when they are
// in an HSM rather than in files.
type RolloverOptions struct {
	// NewSigner, when set, is the new issuing key, made in an HSM: no key file
	// is written, and the current issuing-ca.key, if any, moves to retired/.
	NewSigner crypto.Signer
	// OldKeyURI, when set, is the pkcs11: URI of the current issuing key: the
	// retired issuer keeps it in retired/ID.uri instead of a key file.
	OldKeyURI string
	// Commit, when set, runs once the new certificate is written beside the
	// current one and before it replaces it: the caller records there where
	// the new key is (config.json's ca_key). [Load] given the new key finishes
	// a rollover stopped after Commit.
	Commit func() error
}

// RolloverWith is [Rollover] with the keys where opts says.
func RolloverWith(dir, rootKeyPath string, passphrase Passphrase, baseURL, policyOID string, now time.Time, opts RolloverOptions) (*x509.Certificate, error) {
	if opts.OldKeyURI != "" && opts.NewSigner == nil {
		return nil, errors.New("the issuing key is in an HSM: make the new one there too (ca rollover --kms pkcs11:…)")
	}
	if err := CheckBaseURL(baseURL); err != nil {
		return nil, fmt.Errorf("revocation base URL: %w", err)
	}
	policy, err := ParsePolicyOID(policyOID)
	if err != nil {
		return nil, fmt.Errorf("certificate policy: %w", err)
	}
	root, rootKey, err := loadRoot(dir, rootKeyPath, passphrase)
	if err != nil {
		return nil, err
	}
	oldCertPath, oldKeyPath := filepath.Join(dir, IssuingCertFile), filepath.Join(dir, IssuingKeyFile)
	old, err := readCert(oldCertPath)
	if err != nil {
		return nil, err
	}
	if len(old.SubjectKeyId) == 0 {
		return nil, fmt.Errorf("%s has no subject key identifier", oldCertPath)
	}
	encrypted := false
	if opts.OldKeyURI == "" {
		if encrypted, err = KeyIsEncrypted(oldKeyPath); err != nil {
			return nil, fmt.Errorf("the current issuing key: %w", err)
		}
	}
	var pass []byte
	if encrypted && opts.NewSigner == nil {
		if passphrase == nil {
			return nil, ErrNoPassphrase
		}
		if pass, err = passphrase(); err != nil {
			return nil, err
		}
	}
	var key crypto.Signer = opts.NewSigner
	if key == nil {
		if key, err = newKey(algorithmOf(old.PublicKey)); err != nil {
			return nil, err
		}
	}
	der, cert, err := sign(issuingTemplate(root, baseURL, policy, key.Public(), now.Add(-time.Minute)), root, key.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("sign the new issuing CA: %w", err)
	}
	// Retire the old pair first (copies), then replace the current files: a crash
	// in between leaves the old CA current and also retired, which Load ignores.
	id := hex.EncodeToString(old.SubjectKeyId)
	if err := os.MkdirAll(filepath.Join(dir, RetiredDir), 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", RetiredDir, err)
	}
	retire := []struct {
		from, to string
		mode     os.FileMode
	}{{oldKeyPath, id + ".key", 0o600}, {oldCertPath, id + ".crt", 0o644}}
	if opts.OldKeyURI != "" {
		if err := writeFileAtomic(filepath.Join(dir, RetiredDir, id+".uri"), []byte(opts.OldKeyURI+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("retire the old issuing CA: %w", err)
		}
		retire = retire[1:]
	}
	for _, f := range retire {
		data, err := os.ReadFile(f.from)
		if err != nil {
			return nil, fmt.Errorf("retire the old issuing CA: %w", err)
		}
		if err := writeFileAtomic(filepath.Join(dir, RetiredDir, f.to), data, f.mode); err != nil {
			return nil, fmt.Errorf("retire the old issuing CA: %w", err)
		}
	}
	if opts.NewSigner != nil {
		return cert, installInHSM(dir, der, opts)
	}
	// The new pair goes in by two renames, key first; Load finishes a rollover
	// stopped between them (see finishRollover).
	if err := WriteKey(oldKeyPath+nextSuffix, key, pass); err != nil {
		return nil, err
	}
	if err := writePEM(oldCertPath+nextSuffix, "CERTIFICATE", der, 0o644); err != nil {
		return nil, err
	}
	if err := os.Rename(oldKeyPath+nextSuffix, oldKeyPath); err != nil {
		return nil, fmt.Errorf("install the new issuing key: %w", err)
	}
	if err := os.Rename(oldCertPath+nextSuffix, oldCertPath); err != nil {
		return nil, fmt.Errorf("install the new issuing CA certificate: %w", err)
	}
	return cert, nil
}

// installInHSM moves in the certificate of a new issuing key that is in an
// HSM: written beside the current one, opts.Commit, then one rename; the
// current key file, retired already, is removed last.
func installInHSM(dir string, der []byte, opts RolloverOptions) error {
	certPath := filepath.Join(dir, IssuingCertFile)
	if err := writePEM(certPath+nextSuffix, "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	if opts.Commit != nil {
		if err := opts.Commit(); err != nil {
			return fmt.Errorf("record the new issuing key: %w", err)
		}
	}
	if err := os.Rename(certPath+nextSuffix, certPath); err != nil {
		return fmt.Errorf("install the new issuing CA certificate: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, IssuingKeyFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the old issuing key file (retired already): %w", err)
	}
	return nil
}

// finishRolloverInHSM completes a rollover to an HSM key that stopped after
// its Commit: the new certificate waits beside the current one and belongs to
// signer, the key config.json now names.
func finishRolloverInHSM(dir string, signer crypto.Signer) error {
	certPath := filepath.Join(dir, IssuingCertFile)
	next, err := readCert(certPath + nextSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !samePublicKey(signer.Public(), next.PublicKey) {
		return nil // stopped before Commit: the old pair is whole
	}
	if err := os.Rename(certPath+nextSuffix, certPath); err != nil {
		return fmt.Errorf("finish the interrupted rollover: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, IssuingKeyFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("finish the interrupted rollover: %w", err)
	}
	return nil
}

// nextSuffix marks the files of a rollover not yet moved in.
const nextSuffix = ".next"

// finishRollover completes a rollover that stopped after the new issuing key was
// moved in but before its certificate was: it moves the certificate in. A
// rollover stopped earlier left the old pair in place, and is simply done again.
func finishRollover(dir string, passphrase Passphrase) error {
	certPath := filepath.Join(dir, IssuingCertFile)
	next, err := readCert(certPath + nextSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, IssuingKeyFile) + nextSuffix); err == nil {
		return nil // the key was not moved in yet: the old pair is whole
	}
	key, err := ReadKey(filepath.Join(dir, IssuingKeyFile), passphrase)
	if err != nil {
		return err
	}
	if !samePublicKey(key.Public(), next.PublicKey) {
		return nil
	}
	if err := os.Rename(certPath+nextSuffix, certPath); err != nil {
		return fmt.Errorf("finish the interrupted rollover: %w", err)
	}
	return nil
}
