package lifecycle

import (
	"context"
	"fmt"

	"github.com/inkan-dev/inkan/server/store"
)

// ChangePassword replaces the caller's own login password (パスワード変更), the
// caller being the ID of a session (Authorize). The current password must be
// right: it is checked and counted like a login's, so wrong ones lock the ID
// as wrong login passwords do, and a session alone (a PC left logged in) cannot
// change the password. The new one must meet the password policy, as a new ID's
// and a reset's (CheckPasswordPolicy). Every session of the ID ends, the
// caller's included: whoever is logged in logs in again with the new password.
// The audit row is user.change_password, the ID as actor and target.
func (s *Service) ChangePassword(ctx context.Context, a Actor, current, newPassword string) error {
	if a.Operator || a.Name == "" {
		return fmt.Errorf("change password: %w", ErrForbidden) // the bank has inkan-server user set-password
	}
	if err := CheckPasswordPolicy(a.Name, newPassword); err != nil {
		return fmt.Errorf("change password of %s: %w", LogID(a.Name), err)
	}
	snap, err := s.snapshotUser(ctx, a.Name)
	if err != nil {
		return fmt.Errorf("change password of %s: %w", LogID(a.Name), err)
	}
	at, err := s.checkPassword(ctx, a.RemoteAddr, a.Name, current, snap)
	if err != nil {
		return fmt.Errorf("change password of %s: %w", LogID(a.Name), err)
	}
	hash, err := HashPassword(newPassword, s.Policy.Argon2)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := s.settleAttempt(tx, at)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		if err := tx.DeleteSessionsOf(u.LoginID); err != nil {
			return err
		}
		return audit(tx, now, a, "user.change_password", u.LoginID, "")
	})
	if err != nil {
		return fmt.Errorf("change password of %s: %w", LogID(a.Name), err)
	}
	return nil
}
