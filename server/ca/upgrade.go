package ca

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// What a data directory made by an older version lacks, on the CA's side; the
// server's upgrade (package server) puts it right, or tells the operator how.

// ReadIssuingCert reads the current issuing CA's certificate in dir.
func ReadIssuingCert(dir string) (*x509.Certificate, error) {
	return readCert(filepath.Join(dir, IssuingCertFile))
}

// ReadCertificate reads the PEM certificate at path, such as retired/ID.crt.
func ReadCertificate(path string) (*x509.Certificate, error) { return readCert(path) }

// Shortfall is one thing an issuing CA certificate of an older version
// lacks, in Japanese and English.
type Shortfall struct{ Ja, En string }

// IssuingShortfalls says what the issuing CA certificate cert lacks against
// what [Create] and [Rollover] make now: a CRL distribution point for the root
// CRL (without it openssl verify -crl_check_all cannot check the issuing CA's
// link), no id-kp-OCSPSigning (zlint e_ocsp_cert_invalid_ku), the bank's
// certificate policy and the caIssuers URL of the root. None means it is as
// new. Only a new issuing CA ([Rollover]) can mend these.
func IssuingShortfalls(cert *x509.Certificate) []Shortfall {
	var out []Shortfall
	if !slices.ContainsFunc(cert.CRLDistributionPoints, func(u string) bool { return strings.HasSuffix(u, "/crl/"+RootCRLFile) }) {
		out = append(out, Shortfall{"ルートCRLの配布点がない（openssl verify -crl_check_all が発行CAを確認できない）", "no CRL distribution point for the root CRL (openssl verify -crl_check_all cannot check the issuing CA)"})
	}
	if slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		out = append(out, Shortfall{"拡張鍵用途に id-kp-OCSPSigning がある", "id-kp-OCSPSigning in its extended key usage"})
	}
	if len(cert.Policies) == 0 && len(cert.PolicyIdentifiers) == 0 {
		out = append(out, Shortfall{"証明書ポリシー（certificatePolicies）がない", "no certificatePolicies (the bank's policy OID)"})
	}
	if len(cert.IssuingCertificateURL) == 0 {
		out = append(out, Shortfall{"ルート証明書の caIssuers URL がない", "no caIssuers URL of the root certificate"})
	}
	return out
}

// HasSeparateTLSFiles reports whether dir keeps its TLS key and certificate in
// the two files of older versions (tls.crt, tls.key) and no tls.pem.
func HasSeparateTLSFiles(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, TLSFile)); err == nil {
		return false
	}
	_, err := os.Stat(filepath.Join(dir, TLSCertFile))
	return err == nil
}

// JoinTLSFiles moves the separate tls.crt and tls.key of an older data
// directory into one tls.pem (what [RenewTLS] swaps by one rename), after
// checking that they are a pair, and removes them. It does nothing when dir
// already has tls.pem.
func JoinTLSFiles(dir string) error {
	if !HasSeparateTLSFiles(dir) {
		return nil
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, TLSCertFile))
	if err != nil {
		return fmt.Errorf("read the TLS certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, TLSKeyFile))
	if err != nil {
		return fmt.Errorf("read the TLS key: %w", err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return fmt.Errorf("%s and %s are not a key pair: %w", TLSCertFile, TLSKeyFile, err)
	}
	if err := writeFileAtomic(filepath.Join(dir, TLSFile), append(keyPEM, certPEM...), 0o600); err != nil {
		return err
	}
	for _, f := range []string{TLSCertFile, TLSKeyFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the old %s (tls.pem holds it now): %w", f, err)
		}
	}
	return nil
}
