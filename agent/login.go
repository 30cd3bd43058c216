package agent

import (
	"context"
	"fmt"
	"net/http"

	"github.com/go-resty/resty/v2"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// Login logs in (電子証明書ログイン) with the certificate fp and the login password,
// over mutual TLS with the certificate's key in the store. A success is remembered
// as the certificate's last use, so the chooser offers it first next time, and
// whether the contract is in certificate mode (see [Agent.CertificateMode]); a
// refusal as revoked is remembered too, so the chooser shows it as revoked.
func (a *Agent) Login(ctx context.Context, fp Fingerprint, password string) (*Session, error) {
	id, sid, err := a.identity(ctx, fp.inStore())
	if err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	if id.State == StateUnusable {
		return nil, fmt.Errorf("log in as %s: %w: %s", id.Label, ErrKeyUnusable, id.Problem)
	}
	c, err := a.client(ctx, sid)
	if err != nil {
		return nil, fmt.Errorf("log in as %s: %w", id.Label, err)
	}
	var resp wire.LoginResponse
	err = doJSON(ctx, c, "", http.MethodPost, "/api/v1/login", wire.LoginRequest{Password: password}, &resp)
	if err != nil {
		a.noteRefusal(fp.inStore(), err)
		return nil, fmt.Errorf("log in as %s: %w", id.Label, err)
	}
	now := a.now()
	if err := a.state.update(func(m map[certstore.Fingerprint]certState) {
		m[fp.inStore()] = certState{LastUsed: now}
	}); err != nil {
		return nil, fmt.Errorf("log in as %s: %w", id.Label, err)
	}
	id.LastUsed = now
	id.State = stateAt(now, id, false)
	a.noteContract(id.Subject.LoginID, resp)
	return newSession(resp, id, c), nil
}

// PasswordLogin logs in with login ID and password only (ID・パスワード方式), for a
// contract not yet in certificate mode. Once it is, the server answers
// [wire.CodeCertificateRequired]. Either answer is remembered for the contract
// (see [Agent.CertificateMode]).
func (a *Agent) PasswordLogin(ctx context.Context, loginID, password string) (*Session, error) {
	if err := a.checkLoginIDForm(loginID); err != nil {
		return nil, fmt.Errorf("log in: %w", err)
	}
	c, err := a.client(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("log in as %s: %w", loginID, err)
	}
	var resp wire.LoginResponse
	if err := doJSON(ctx, c, "", http.MethodPost, "/api/v1/login", wire.LoginRequest{LoginID: loginID, Password: password}, &resp); err != nil {
		if Code(err) == wire.CodeCertificateRequired {
			a.noteCertificateRequired(ctx, loginID)
		}
		return nil, fmt.Errorf("log in as %s: %w", loginID, err)
	}
	a.noteContract(loginID, resp)
	return newSession(resp, nil, c), nil
}

// Logout ends the session on the server. The connections of a certificate
// session are closed once idle; those without a certificate stay for the next call.
func (a *Agent) Logout(ctx context.Context, s *Session) error {
	if s == nil || s.client == nil {
		return fmt.Errorf("log out: %w", ErrNoSession)
	}
	if s.Identity != nil {
		defer s.client.GetClient().CloseIdleConnections()
	}
	if err := doJSON(ctx, s.client, s.Token, http.MethodPost, "/api/v1/logout", nil, nil); err != nil {
		return fmt.Errorf("log out %s: %w", s.User.LoginID, err)
	}
	return nil
}

func newSession(resp wire.LoginResponse, id *Identity, c *resty.Client) *Session {
	return &Session{
		Token:           resp.Token,
		ExpiresAt:       resp.ExpiresAt,
		User:            resp.User,
		Notices:         resp.Notices,
		Identity:        id,
		CertificateMode: resp.CertificateMode,
		client:          c,
	}
}

// noteRefusal remembers that the server refused fp as revoked, so the chooser shows
// it so. Failing to write the state file only costs the label, so it does not fail
// the operation.
func (a *Agent) noteRefusal(fp certstore.Fingerprint, err error) {
	if Code(err) != wire.CodeCertificateRevoked {
		return
	}
	now := a.now()
	_ = a.state.update(func(m map[certstore.Fingerprint]certState) {
		st := m[fp]
		st.RevokedSeen = now
		m[fp] = st
	})
	// A revoked certificate leaves the browser's copy too.
	a.syncBrowserAfter(context.Background())
}
