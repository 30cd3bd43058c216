package certstore

// Checks every backend makes before it changes anything: one place, so that a
// backend added later cannot forget one.

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/inkan-dev/inkan/certstore/internal/pkcs12"
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

// importItems decodes a PKCS#12 file for Store.Import, completes each chain from
// opts.CACerts, names each identity by opts.Label, and checks, before any
// backend changes anything, the context, the password and every label.
func importItems(ctx context.Context, pfx []byte, password string, opts ImportOptions) ([]pfxItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	items, err := decodePFX(pfx, password)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	for i := range items {
		item := &items[i]
		if len(opts.CACerts) > 0 {
			item.Chain = pkcs12.BuildChain(item.Chain[0], append(slices.Clone(item.Chain[1:]), opts.CACerts...))
		}
		if opts.Label != nil {
			if label := opts.Label(item.Chain[0]); label != "" {
				item.FriendlyName = label
			}
		}
		if err := checkLabel(item.FriendlyName); err != nil {
			return nil, fmt.Errorf("import %s: %w", FingerprintOf(item.Chain[0]), err)
		}
	}
	return items, nil
}
