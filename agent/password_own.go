package agent

import (
	"context"
	"fmt"
	"net/http"

	"github.com/inkan-dev/inkan/wire"
)

// ChangePassword changes the logged-in user's own login password (パスワード変更,
// POST /api/v1/password): current is checked by the bank like a login's
// (wire.CodeInvalidCredentials when wrong, and wrong ones lock the ID as at
// login), newPassword must meet the bank's password policy
// (wire.CodeWeakPassword). The bank ends every session of the ID, s included:
// log in again with the new password.
func (a *Agent) ChangePassword(ctx context.Context, s *Session, current, newPassword string) error {
	if err := a.admin(ctx, s, http.MethodPost, "/api/v1/password", wire.ChangePasswordRequest{CurrentPassword: current, NewPassword: newPassword}, nil); err != nil {
		return fmt.Errorf("change the password of %s: %w", s.User.LoginID, err)
	}
	if s.Identity != nil {
		// The session has ended, as at Logout: its certificate's connections go once idle.
		s.client.GetClient().CloseIdleConnections()
	}
	return nil
}
