package certstore

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
)

// pending is the life of a Key between GenerateKey and Attach or Discard, the
// same in every backend: a key is attached at most once, and never after it was
// discarded.
type pending struct {
	mu        sync.Mutex
	attached  bool
	discarded bool
}

// checkAttach checks, with p.mu held, what every backend checks before binding
// chain to the key whose public half is pub, and returns the leaf's fingerprint.
func (p *pending) checkAttach(ctx context.Context, pub crypto.PublicKey, chain []*x509.Certificate, label string) (Fingerprint, error) {
	if len(chain) == 0 {
		return "", errors.New("attach certificate: the chain is empty")
	}
	fp := FingerprintOf(chain[0])
	if err := ctx.Err(); err != nil {
		return fp, fmt.Errorf("attach certificate %s: %w", fp, err)
	}
	if err := checkLabel(label); err != nil {
		return fp, fmt.Errorf("attach certificate %s: %w", fp, err)
	}
	switch {
	case p.attached:
		return fp, fmt.Errorf("attach certificate %s: the key is attached already", fp)
	case p.discarded:
		return fp, fmt.Errorf("attach certificate %s: the key was discarded", fp)
	}
	if err := checkPublicKeyMatches(pub, chain[0]); err != nil {
		return fp, fmt.Errorf("attach certificate %s: %w", fp, err)
	}
	return fp, nil
}
