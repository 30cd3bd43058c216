package lifecycle

import (
	"context"
	"fmt"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/store"
)

// RevokeIssuedBy revokes, in the records, every active certificate that
// issuer signed, once the issuing CA itself is revoked in the root CRL (its
// key compromised): the certificates are refused already (see
// ca.ErrIssuerRevoked), and this makes the records, the admins' lists and the
// issuer's CRL say so too, each with an audit row. It returns the login IDs
// whose certificate it revoked; each needs a reissue (再発行). Only the
// operator may.
func (s *Service) RevokeIssuedBy(ctx context.Context, a Actor, issuer *ca.Issuer) ([]string, error) {
	if !a.Operator {
		return nil, fmt.Errorf("revoke the certificates of issuing CA %s: %w", issuer.ID(), ErrForbidden)
	}
	now := s.now()
	var ids []string
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		ids = nil
		certs, err := tx.Certificates("")
		if err != nil {
			return err
		}
		for i := range certs {
			c := &certs[i]
			if c.Status != store.CertActive || c.DER == nil || !s.issuedBy(issuer, *c) {
				continue
			}
			if err := withdraw(tx, c, store.CertRevoked, now); err != nil {
				return err
			}
			if err := audit(tx, now, a, "certificate.revoke", c.LoginID, c.Serial+" (its issuing CA "+issuer.ID()+" is revoked)"); err != nil {
				return err
			}
			ids = append(ids, c.LoginID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("revoke the certificates of issuing CA %s: %w", issuer.ID(), err)
	}
	return ids, nil
}
