package certstore

import (
	"crypto/x509"

	"github.com/inkan-dev/inkan/certstore/internal/pkcs12"
)

// buildChain returns leaf followed by its issuers found among certs, nearest first.
func buildChain(leaf *x509.Certificate, certs []*x509.Certificate) []*x509.Certificate {
	return pkcs12.BuildChain(leaf, certs)
}
