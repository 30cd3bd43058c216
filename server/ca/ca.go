// Package ca is the bank's certificate authority as the Inkan server runs it: a
// root CA, an issuing CA below it that signs the users' client certificates, the
// CRLs and the OCSP responses, and the server's own TLS certificate (signed by the
// root).
//
// # Keys online and offline
//
// The server holds the issuing CA's key, so the issuing CA is constrained to what
// it is for: its certificate carries the extended key usage clientAuth only, and
// verifiers that nest EKUs down the chain (Go, Windows CryptoAPI) refuse anything
// it signs for another purpose, a TLS server certificate in particular. It signs
// its own CRLs and OCSP responses as the CA itself (RFC 6960 §4.2.2.2), so it
// needs no id-kp-OCSPSigning. The root key signs only issuing CAs, the TLS
// certificate and the root CRL; it is written under offline/ for the bank to move
// to offline storage, the server never loads it, and [RenewTLS], [Rollover] and
// [SignRootCRL] take it from wherever the bank keeps it.
//
// It signs what it is told to sign. Who may get a certificate, with which subject
// and for how long is decided by package lifecycle; ca only lays out the
// certificate (extensions, serial, distribution points) and keeps the keys.
//
// # Where relying parties find revocation
//
// Every URL written into a certificate starts with the revocation base URL (a
// plain http:// one, as RFC 5280 §4.2.1.13 and relying parties expect): a leaf
// points at /ocsp, at /ca/ID.crt (its issuing CA) and at /crl/ID.crl (that
// issuing CA's CRL), where ID is the issuing CA's subject key identifier in hex;
// the issuing CA points at /ca/root.crt and /crl/root.crl, the CRL the offline
// root key signs, which lists the issuing CAs revoked with [RevokeIssuer].
//
// # Files
//
// [Create] writes, into one directory, root-ca.crt, root.crl, issuing-ca.crt/.key,
// tls.pem (the TLS key and certificate in one file) and offline/root-ca.key:
// certificates in PEM, private keys in PKCS#8 PEM (encrypted with a passphrase
// when one is given) with mode 0600, the offline directory 0700. [Rollover]
// moves an issuing CA it replaces into retired/.
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// File names inside the CA directory.
const (
	RootCertFile    = "root-ca.crt"
	RootKeyFile     = "root-ca.key"
	RootCRLFile     = "root.crl"
	IssuingCertFile = "issuing-ca.crt"
	IssuingKeyFile  = "issuing-ca.key"
	// TLSFile holds the TLS key and certificate together, so that renewing them is
	// one rename.
	TLSFile = "tls.pem"
	// TLSCertFile and TLSKeyFile are the separate files of data directories made
	// before TLSFile; [LoadTLS] still reads them.
	TLSCertFile = "tls.crt"
	TLSKeyFile  = "tls.key"
	// OfflineDir is where Create leaves the root key, for the bank to move away.
	OfflineDir = "offline"
	// RetiredDir holds the issuing CAs that [Rollover] replaced, as ID.crt and
	// ID.key, so their certificates keep their CRL and OCSP until they expire.
	RetiredDir = "retired"
)

// Validities of what the CA makes.
const (
	// TLSValidity is the lifetime of the server's TLS certificate; [RenewTLS] makes a new one.
	TLSValidity = 2 * 365 * 24 * time.Hour
	// RootValidity and IssuingValidity are the lifetimes of the CA certificates.
	RootValidity    = 20 * 365 * 24 * time.Hour
	IssuingValidity = 10 * 365 * 24 * time.Hour
	// RootCRLValidity is the default lifetime of a root CRL: the root key is
	// offline, so the bank signs one a year (see [SignRootCRL]); a year is also
	// the most the CA/Browser Forum's BR §7.2.2 allow a CRL of CA certificates.
	RootCRLValidity = 365 * 24 * time.Hour
)

// RootKeyPath is where [Create] writes the root key inside dir.
func RootKeyPath(dir string) string { return filepath.Join(dir, OfflineDir, RootKeyFile) }

// KeyAlgorithm names the kind of key the CA and TLS keys are.
type KeyAlgorithm string

// Supported CA key algorithms.
const (
	ECDSAP256 KeyAlgorithm = "ecdsa-p256" // the default
	ECDSAP384 KeyAlgorithm = "ecdsa-p384"
	RSA3072   KeyAlgorithm = "rsa-3072"
)

// CreateOptions says what [Create] makes.
type CreateOptions struct {
	BankCode string
	BankName string
	// Hosts are extra DNS names or IP addresses for the TLS certificate, beside
	// localhost and 127.0.0.1.
	Hosts     []string
	Algorithm KeyAlgorithm // empty means ECDSAP256
	// BaseURL is the revocation base URL (http://host[:port]) written into the
	// issuing CA's CRL distribution point and AIA.
	BaseURL string
	// PolicyOID is the bank's certificate policy, written into the issuing CA.
	PolicyOID string
	// Passphrase encrypts the CA keys (issuing and root); nil writes them in clear.
	Passphrase []byte
	// IssuingSigner, when set, is the issuing CA's key, made elsewhere (an HSM):
	// Create writes no issuing key file then.
	IssuingSigner crypto.Signer
	Now           time.Time
}

// Exists reports whether dir already holds a CA.
func Exists(dir string) bool {
	for _, f := range []string{RootCertFile, RootKeyFile, IssuingCertFile, IssuingKeyFile, filepath.Join(OfflineDir, RootKeyFile)} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// CheckBaseURL reports whether u can be the revocation base URL: http://host[:port]
// with an optional path prefix, no query.
func CheckBaseURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "http" || p.Host == "" || p.RawQuery != "" || p.Fragment != "" || p.User != nil {
		return fmt.Errorf("%q is not an http://host[:port] URL: CRLs and OCSP are fetched over plain HTTP (RFC 5280 §4.2.1.13, RFC 6960 appendix A)", u)
	}
	return nil
}

// IsLoopback reports whether the host of URL u is localhost or a loopback address.
func IsLoopback(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	h := p.Hostname()
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback() || ip.IsUnspecified()
	}
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// ParsePolicyOID reads a dotted certificate policy OID.
func ParsePolicyOID(s string) (x509.OID, error) {
	oid, err := x509.ParseOID(s)
	if err != nil || strings.Count(s, ".") < 2 {
		return x509.OID{}, fmt.Errorf("%q is not a dotted OID of at least three arcs, such as 1.2.392.200000.1.1", s)
	}
	return oid, nil
}

// Create makes a root CA, an issuing CA, a first root CRL and a TLS server
// certificate in dir. It refuses to run when dir already holds a CA.
func Create(dir string, opts CreateOptions) error {
	if Exists(dir) {
		return fmt.Errorf("%s already holds a CA: refusing to overwrite it", dir)
	}
	if err := CheckBaseURL(opts.BaseURL); err != nil {
		return fmt.Errorf("revocation base URL: %w", err)
	}
	policy, err := ParsePolicyOID(opts.PolicyOID)
	if err != nil {
		return fmt.Errorf("certificate policy: %w", err)
	}
	if opts.Algorithm == "" {
		opts.Algorithm = ECDSAP256
	}
	now := opts.Now.Add(-time.Minute) // tolerate small clock skew between server and PCs
	rootKey, err := newKey(opts.Algorithm)
	if err != nil {
		return err
	}
	root := &x509.Certificate{
		Subject:               pkix.Name{Country: []string{"JP"}, Organization: []string{opts.BankName}, CommonName: opts.BankName + " Inkan Root CA " + opts.BankCode},
		NotBefore:             now,
		NotAfter:              now.Add(RootValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SubjectKeyId:          keyID(rootKey.Public()),
		// The root CRL covers the root itself too, and verifiers that check every
		// link (openssl verify -crl_check_all) fetch it from here.
		CRLDistributionPoints: []string{strings.TrimRight(opts.BaseURL, "/") + "/crl/root.crl"},
	}
	rootDER, rootCert, err := sign(root, root, rootKey.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("create root CA: %w", err)
	}
	issKey := opts.IssuingSigner
	if issKey == nil {
		if issKey, err = newKey(opts.Algorithm); err != nil {
			return err
		}
	}
	issDER, _, err := sign(issuingTemplate(rootCert, opts.BaseURL, policy, issKey.Public(), now), rootCert, issKey.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("create issuing CA: %w", err)
	}
	tlsKey, err := newKey(opts.Algorithm)
	if err != nil {
		return err
	}
	tlsDER, _, err := sign(tlsTemplate(opts.BankName, opts.Hosts, now), rootCert, tlsKey.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("create TLS certificate: %w", err)
	}
	crlDER, err := rootCRL(rootCert, rootKey, nil, 1, opts.Now, RootCRLValidity)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, OfflineDir), 0o700); err != nil {
		return fmt.Errorf("create CA directory: %w", err)
	}
	for _, f := range []struct {
		name string
		der  []byte
	}{{RootCertFile, rootDER}, {IssuingCertFile, issDER}} {
		if err := writePEM(filepath.Join(dir, f.name), "CERTIFICATE", f.der, 0o644); err != nil {
			return err
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, RootCRLFile), crlDER, 0o644); err != nil {
		return err
	}
	if err := writeTLS(filepath.Join(dir, TLSFile), tlsKey, tlsDER); err != nil {
		return err
	}
	if opts.IssuingSigner == nil {
		if err := WriteKey(filepath.Join(dir, IssuingKeyFile), issKey, opts.Passphrase); err != nil {
			return err
		}
	}
	return WriteKey(RootKeyPath(dir), rootKey, opts.Passphrase)
}

// issuingTemplate is an issuing CA below root: clientAuth only, path length 0,
// the bank's policy, and where to find the root's certificate and CRL.
func issuingTemplate(root *x509.Certificate, baseURL string, policy x509.OID, pub crypto.PublicKey, now time.Time) *x509.Certificate {
	bank := firstOr(root.Subject.Organization, "Inkan")
	code := root.Subject.CommonName[strings.LastIndexByte(root.Subject.CommonName, ' ')+1:]
	notAfter := now.Add(IssuingValidity)
	if notAfter.After(root.NotAfter) {
		notAfter = root.NotAfter
	}
	return &x509.Certificate{
		Subject:               pkix.Name{Country: []string{"JP"}, Organization: []string{bank}, CommonName: bank + " Inkan Issuing CA " + code + " " + now.UTC().Format("2006")},
		NotBefore:             now,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          keyID(pub),
		Policies:              []x509.OID{policy},
		IssuingCertificateURL: []string{strings.TrimRight(baseURL, "/") + "/ca/root.crt"},
		CRLDistributionPoints: []string{strings.TrimRight(baseURL, "/") + "/crl/root.crl"},
	}
}

// tlsTemplate is the server's TLS certificate: serverAuth for localhost, the
// loopback addresses and hosts (DNS names or IP addresses).
func tlsTemplate(bankName string, hosts []string, now time.Time) *x509.Certificate {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{Organization: []string{bankName}, CommonName: "Inkan server"},
		NotBefore:   now,
		NotAfter:    now.Add(TLSValidity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return tmpl
}

// loadRoot reads dir's root certificate and the root key at rootKeyPath, and
// checks that they belong together.
func loadRoot(dir, rootKeyPath string, passphrase Passphrase) (*x509.Certificate, crypto.Signer, error) {
	root, err := readCert(filepath.Join(dir, RootCertFile))
	if err != nil {
		return nil, nil, err
	}
	rootKey, err := ReadKey(rootKeyPath, passphrase)
	if err != nil {
		return nil, nil, fmt.Errorf("read the root key: %w", err)
	}
	if !samePublicKey(rootKey.Public(), root.PublicKey) {
		return nil, nil, fmt.Errorf("%s is not the key of the root CA in %s", rootKeyPath, dir)
	}
	return root, rootKey, nil
}

// RenewTLS replaces the TLS certificate and key in dir with new ones signed by
// the root key at rootKeyPath, valid from now for [TLSValidity]. The new
// certificate keeps the names of the current one and adds hosts. The root key
// must belong to dir's root certificate. Key and certificate are one file,
// replaced by one rename: a crash leaves the old pair or the new one.
func RenewTLS(dir, rootKeyPath string, passphrase Passphrase, hosts []string, now time.Time) (*x509.Certificate, error) {
	root, rootKey, err := loadRoot(dir, rootKeyPath, passphrase)
	if err != nil {
		return nil, err
	}
	current, err := LoadTLS(dir)
	if err != nil {
		return nil, err
	}
	names := slices.Clone(current.Leaf.DNSNames)
	for _, ip := range current.Leaf.IPAddresses {
		names = append(names, ip.String())
	}
	tmpl := tlsTemplate(firstOr(root.Subject.Organization, "Inkan"), append(names, hosts...), now.Add(-time.Minute))
	key, err := newKey(algorithmOf(current.Leaf.PublicKey))
	if err != nil {
		return nil, err
	}
	der, cert, err := sign(tmpl, root, key.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("sign the TLS certificate: %w", err)
	}
	if err := writeTLS(filepath.Join(dir, TLSFile), key, der); err != nil {
		return nil, err
	}
	// The separate files of an older data directory would otherwise shadow nothing
	// but confuse the operator: the one file is what LoadTLS reads from now on.
	for _, f := range []string{TLSCertFile, TLSKeyFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("remove the old %s: %w", f, err)
		}
	}
	return cert, nil
}

func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

func firstOr(values []string, fallback string) string {
	if len(values) == 0 {
		return fallback
	}
	return values[0]
}

// algorithmOf names the kind of pub, so a renewed key is of the same kind.
func algorithmOf(pub crypto.PublicKey) KeyAlgorithm {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P384() {
			return ECDSAP384
		}
	case *rsa.PublicKey:
		return RSA3072
	}
	return ECDSAP256
}

func newKey(alg KeyAlgorithm) (crypto.Signer, error) {
	switch alg {
	case ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, fmt.Errorf("unknown key algorithm %q (want %s, %s or %s)", alg, ECDSAP256, ECDSAP384, RSA3072)
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) ([]byte, *x509.Certificate, error) {
	serial, err := NewSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return der, cert, err
}

// keyID is the subject key identifier of pub: the SHA-1 of its subjectPublicKey
// bits (RFC 5280 §4.2.1.2, method 1).
func keyID(pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:]
}

// spkiKeyID is keyID of the public key in spki, a DER SubjectPublicKeyInfo
// (a CSR's RawSubjectPublicKeyInfo), read in place rather than re-encoded from
// the parsed key; nil if spki is not one.
func spkiKeyID(spki []byte) []byte {
	in := cryptobyte.String(spki)
	var seq, bits cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.SkipASN1(cbasn1.SEQUENCE) ||
		!seq.ReadASN1(&bits, cbasn1.BIT_STRING) || !seq.Empty() || len(bits) < 2 || bits[0] != 0 {
		return nil
	}
	sum := sha1.Sum(bits[1:]) // after the count of unused bits, 0 for a key
	return sum[:]
}

// NewSerial returns a random 128-bit certificate serial number.
func NewSerial() (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate serial: %w", err)
	}
	b[0] |= 0x40 // never zero, and always 32 hex digits
	return new(big.Int).SetBytes(b), nil
}

// SerialHex is how serials are written in records and on the wire: lower-case hex.
func SerialHex(n *big.Int) string { return n.Text(16) }

func writePEM(path, blockType string, der []byte, mode os.FileMode) error {
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), mode)
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and one rename, so a reader sees the old file or the new one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing left to remove
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync() // best effort: the rename reaches the disk with the directory
		d.Close()
	}
	return nil
}

func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return cert, nil
}

// Fingerprint is the SHA-256 of cert's DER, lower-case hex.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}
