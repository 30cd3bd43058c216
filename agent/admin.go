package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/inkan-dev/inkan/wire"
)

// The administration calls act on the session's own contract; the server decides
// what the session's role may do and answers [wire.CodeForbidden] otherwise. A
// certificate session presents its certificate again on every call.

// Users lists the contract's users with the state of their certificates.
func (a *Agent) Users(ctx context.Context, s *Session) ([]wire.User, error) {
	var list wire.UserList
	if err := a.admin(ctx, s, http.MethodGet, "/api/v1/users", nil, &list); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return list.Users, nil
}

// CreateUser creates an approver or general ID in the contract.
func (a *Agent) CreateUser(ctx context.Context, s *Session, req wire.CreateUserRequest) (*wire.User, error) {
	var u wire.User
	if err := a.admin(ctx, s, http.MethodPost, "/api/v1/users", req, &u); err != nil {
		return nil, fmt.Errorf("create user %s: %w", req.LoginID, err)
	}
	return &u, nil
}

// DeleteUser deletes an ID; the server revokes its certificate.
func (a *Agent) DeleteUser(ctx context.Context, s *Session, loginID string) error {
	if err := a.admin(ctx, s, http.MethodDelete, userPath(loginID, ""), nil, nil); err != nil {
		return fmt.Errorf("delete user %s: %w", loginID, err)
	}
	return nil
}

// IssueCertificate issues (発行) a certificate for loginID, opening its pickup window.
func (a *Agent) IssueCertificate(ctx context.Context, s *Session, loginID string) (*wire.User, error) {
	return a.userAction(ctx, s, loginID, "/certificate", "issue certificate for %s: %w")
}

// RevokeCertificate revokes (失効) loginID's certificate at once.
func (a *Agent) RevokeCertificate(ctx context.Context, s *Session, loginID string) (*wire.User, error) {
	return a.userAction(ctx, s, loginID, "/certificate/revoke", "revoke certificate of %s: %w")
}

// ReissueCertificate reissues (再発行) loginID's certificate: what exists is revoked
// and a new pickup window opens.
func (a *Agent) ReissueCertificate(ctx context.Context, s *Session, loginID string) (*wire.User, error) {
	return a.userAction(ctx, s, loginID, "/certificate/reissue", "reissue certificate for %s: %w")
}

// UnlockUser unlocks an approver or general ID locked after too many wrong
// passwords. An admin ID is unlocked by the bank only: the server answers
// [wire.CodeForbidden].
func (a *Agent) UnlockUser(ctx context.Context, s *Session, loginID string) (*wire.User, error) {
	return a.userAction(ctx, s, loginID, "/unlock", "unlock %s: %w")
}

// SetPassword resets (パスワード再設定) the login password of an approver or
// general ID to password, which the admin then hands to its user. The server
// applies the password policy ([wire.CodeWeakPassword]), unlocks the ID and ends
// its sessions; an admin ID's password is reset by the bank only
// ([wire.CodeForbidden]).
func (a *Agent) SetPassword(ctx context.Context, s *Session, loginID, password string) (*wire.User, error) {
	var u wire.User
	if err := a.admin(ctx, s, http.MethodPost, userPath(loginID, "/password"), wire.SetPasswordRequest{Password: password}, &u); err != nil {
		return nil, fmt.Errorf("reset the password of %s: %w", loginID, err)
	}
	return &u, nil
}

// userAction posts to one of loginID's action routes and returns the user as the
// server then sees it.
func (a *Agent) userAction(ctx context.Context, s *Session, loginID, suffix, errFormat string) (*wire.User, error) {
	var u wire.User
	if err := a.admin(ctx, s, http.MethodPost, userPath(loginID, suffix), nil, &u); err != nil {
		return nil, fmt.Errorf(errFormat, loginID, err)
	}
	return &u, nil
}

// admin makes one call with the session's token over the session's connection.
func (a *Agent) admin(ctx context.Context, s *Session, method, path string, in, out any) error {
	if s == nil || s.client == nil {
		return ErrNoSession
	}
	return doJSON(ctx, s.client, s.Token, method, path, in, out)
}

func userPath(loginID, suffix string) string {
	return "/api/v1/users/" + url.PathEscape(loginID) + suffix
}
