// Package ca is the bank's certificate authority as the Inkan server runs it: a
// root CA, an issuing CA below it that signs the users' client certificates, the
// CRL and the OCSP responses, and the server's own TLS certificate (signed by the
// root).
//
// # Keys online and offline
//
// The server holds the issuing CA's key, so the issuing CA is constrained to what
// it is for: its certificate carries the extended key usages clientAuth and
// OCSPSigning, and verifiers that nest EKUs down the chain (Go, Windows CryptoAPI)
// refuse anything it signs for another purpose, a TLS server certificate in
// particular. The root key signs only the issuing CA and the TLS certificate; it
// is written under offline/ for the bank to move to offline storage, the server
// never loads it, and [RenewTLS] takes it from wherever the bank keeps it.
//
// It signs what it is told to sign. Who may get a certificate, with which subject
// and for how long is decided by package lifecycle; ca only lays out the
// certificate (extensions, serial, distribution points) and keeps the keys.
//
// # Files
//
// [Create] writes, into one directory, root-ca.crt, issuing-ca.crt/.key,
// tls.crt/.key and offline/root-ca.key: certificates in PEM, private keys in
// PKCS#8 PEM with mode 0600 (the offline directory 0700).
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// File names inside the CA directory.
const (
	RootCertFile    = "root-ca.crt"
	RootKeyFile     = "root-ca.key"
	IssuingCertFile = "issuing-ca.crt"
	IssuingKeyFile  = "issuing-ca.key"
	TLSCertFile     = "tls.crt"
	TLSKeyFile      = "tls.key"
	// OfflineDir is where Create leaves the root key, for the bank to move away.
	OfflineDir = "offline"
)

// TLSValidity is the lifetime of the server's TLS certificate; [RenewTLS] makes a new one.
const TLSValidity = 2 * 365 * 24 * time.Hour

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
	Now       time.Time
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

// Create makes a root CA, an issuing CA and a TLS server certificate in dir. It
// refuses to run when dir already holds a CA.
func Create(dir string, opts CreateOptions) error {
	if Exists(dir) {
		return fmt.Errorf("%s already holds a CA: refusing to overwrite it", dir)
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
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	rootDER, rootCert, err := sign(root, root, rootKey.Public(), rootKey)
	if err != nil {
		return fmt.Errorf("create root CA: %w", err)
	}
	issKey, err := newKey(opts.Algorithm)
	if err != nil {
		return err
	}
	iss := &x509.Certificate{
		Subject:               pkix.Name{Country: []string{"JP"}, Organization: []string{opts.BankName}, CommonName: opts.BankName + " Inkan Issuing CA " + opts.BankCode},
		NotBefore:             now,
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageOCSPSigning},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	issDER, _, err := sign(iss, rootCert, issKey.Public(), rootKey)
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
	if err := os.MkdirAll(filepath.Join(dir, OfflineDir), 0o700); err != nil {
		return fmt.Errorf("create CA directory: %w", err)
	}
	for _, f := range []struct {
		name string
		der  []byte
	}{{RootCertFile, rootDER}, {IssuingCertFile, issDER}, {TLSCertFile, tlsDER}} {
		if err := writePEM(filepath.Join(dir, f.name), "CERTIFICATE", f.der, 0o644); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		name string
		key  crypto.Signer
	}{{filepath.Join(OfflineDir, RootKeyFile), rootKey}, {IssuingKeyFile, issKey}, {TLSKeyFile, tlsKey}} {
		if err := writeKey(filepath.Join(dir, f.name), f.key); err != nil {
			return err
		}
	}
	return nil
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

// RenewTLS replaces the TLS certificate and key in dir with new ones signed by
// the root key at rootKeyPath, valid from now for [TLSValidity]. The new
// certificate keeps the names of the current one and adds hosts. The root key
// must belong to dir's root certificate.
func RenewTLS(dir, rootKeyPath string, hosts []string, now time.Time) (*x509.Certificate, error) {
	root, err := readCert(filepath.Join(dir, RootCertFile))
	if err != nil {
		return nil, err
	}
	rootKey, err := readKey(rootKeyPath)
	if err != nil {
		return nil, fmt.Errorf("read the root key: %w", err)
	}
	if !samePublicKey(rootKey.Public(), root.PublicKey) {
		return nil, fmt.Errorf("%s is not the key of the root CA in %s", rootKeyPath, dir)
	}
	current, err := readCert(filepath.Join(dir, TLSCertFile))
	if err != nil {
		return nil, err
	}
	names := slices.Clone(current.DNSNames)
	for _, ip := range current.IPAddresses {
		names = append(names, ip.String())
	}
	tmpl := tlsTemplate(firstOr(root.Subject.Organization, "Inkan"), append(names, hosts...), now.Add(-time.Minute))
	key, err := newKey(algorithmOf(current.PublicKey))
	if err != nil {
		return nil, err
	}
	der, cert, err := sign(tmpl, root, key.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("sign the TLS certificate: %w", err)
	}
	// Write the new pair beside the old one, then move it in: a server reading the
	// files meanwhile sees the old pair or the new one, never one of each.
	certTmp, keyTmp := filepath.Join(dir, TLSCertFile+".new"), filepath.Join(dir, TLSKeyFile+".new")
	if err := writePEM(certTmp, "CERTIFICATE", der, 0o644); err != nil {
		return nil, err
	}
	if err := writeKey(keyTmp, key); err != nil {
		return nil, err
	}
	if err := os.Rename(keyTmp, filepath.Join(dir, TLSKeyFile)); err != nil {
		return nil, fmt.Errorf("install the TLS key: %w", err)
	}
	if err := os.Rename(certTmp, filepath.Join(dir, TLSCertFile)); err != nil {
		return nil, fmt.Errorf("install the TLS certificate: %w", err)
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

// algorithmOf names the kind of pub, so a renewed TLS key is of the same kind.
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

func writeKey(path string, key crypto.Signer) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600)
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
	data := pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Chmod(path, mode)
}

// CA is a loaded certificate authority: the root and issuing certificates and the
// issuing key.
type CA struct {
	Root    *x509.Certificate
	Issuing *x509.Certificate
	key     crypto.Signer
	// BaseURL is this server's address (https://host:port), used for the AIA and
	// CRL distribution point extensions of the certificates it issues.
	BaseURL string
}

// Load reads the CA in dir.
func Load(dir, baseURL string) (*CA, error) {
	root, err := readCert(filepath.Join(dir, RootCertFile))
	if err != nil {
		return nil, err
	}
	iss, err := readCert(filepath.Join(dir, IssuingCertFile))
	if err != nil {
		return nil, err
	}
	key, err := readKey(filepath.Join(dir, IssuingKeyFile))
	if err != nil {
		return nil, err
	}
	if err := iss.CheckSignatureFrom(root); err != nil {
		return nil, fmt.Errorf("issuing CA is not signed by the root CA: %w", err)
	}
	return &CA{Root: root, Issuing: iss, key: key, BaseURL: baseURL}, nil
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

func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM key", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s is not a signing key", path)
	}
	return signer, nil
}

// Fingerprint is the SHA-256 of cert's DER, lower-case hex.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// CRLURL, OCSPURL and IssuerURL are where this server publishes verification data.
func (c *CA) CRLURL() string    { return c.BaseURL + "/crl" }
func (c *CA) OCSPURL() string   { return c.BaseURL + "/ocsp" }
func (c *CA) IssuerURL() string { return c.BaseURL + "/ca/issuing.crt" }

// Issue signs a client certificate for the key of csr, with subject name, valid
// from notBefore to notAfter. csr must have been checked by the caller.
func (c *CA) Issue(csr *x509.CertificateRequest, name pkix.Name, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	serial, err := NewSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		OCSPServer:            []string{c.OCSPURL()},
		IssuingCertificateURL: []string{c.IssuerURL()},
		CRLDistributionPoints: []string{c.CRLURL()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.Issuing, csr.PublicKey, c.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// ErrNotIssuedHere is returned by [CA.CheckIssued] for a certificate this CA did not sign.
var ErrNotIssuedHere = errors.New("the certificate was not issued by this CA")

// CheckIssued reports whether cert was signed by the issuing CA. It deliberately
// ignores validity dates: an expired certificate may still renew.
func (c *CA) CheckIssued(cert *x509.Certificate) error {
	if err := cert.CheckSignatureFrom(c.Issuing); err != nil {
		return fmt.Errorf("%w: %v", ErrNotIssuedHere, err)
	}
	return nil
}
