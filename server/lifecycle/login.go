package lifecycle

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

// LoginResult is a successful login.
type LoginResult struct {
	Token           string
	ExpiresAt       time.Time
	User            wire.User
	Notices         []wire.Notice
	CertificateMode bool
	// PreviousLoginAt is when the ID last logged in before this login; nil the first time.
	PreviousLoginAt *time.Time
}

// Login checks a login: the TLS client certificate (when cert is not nil) and
// the password. Without a certificate the login succeeds only while the
// contract is not in certificate mode.
func (s *Service) Login(ctx context.Context, remoteAddr string, cert *x509.Certificate, loginID, password string) (LoginResult, error) {
	var res LoginResult
	var err error
	if cert != nil {
		res, err = s.loginWithCertificate(ctx, remoteAddr, cert, loginID, password)
	} else {
		res, err = s.loginWithPassword(ctx, remoteAddr, loginID, password)
	}
	if err != nil {
		return LoginResult{}, fmt.Errorf("log in: %w", err)
	}
	return res, nil
}

func (s *Service) loginWithCertificate(ctx context.Context, remoteAddr string, cert *x509.Certificate, loginID, password string) (LoginResult, error) {
	now := s.now()
	var rec store.Certificate
	var u store.User
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		u, rec, err = s.identify(tx, cert)
		return err
	})
	if err != nil {
		return LoginResult{}, err
	}
	if loginID != "" && !strings.EqualFold(loginID, u.LoginID) {
		return LoginResult{}, fmt.Errorf("login ID %q does not match the certificate's: %w", LogID(loginID), ErrBadRequest)
	}
	if now.Before(*rec.NotBefore) {
		return LoginResult{}, fmt.Errorf("certificate not valid yet: %w", ErrExpired)
	}
	if now.After(*rec.NotAfter) {
		return LoginResult{}, ErrExpired
	}
	a, err := s.checkPassword(ctx, remoteAddr, u.LoginID, password, &u)
	if err != nil {
		return LoginResult{}, err
	}
	res, err := s.openSession(ctx, remoteAddr, a, rec.Serial, now, func(tx store.Tx, u store.User, cur *store.Certificate) error {
		if cur == nil || cur.Serial != rec.Serial {
			return ErrSuperseded
		}
		if cur.Status == store.CertRevoked {
			return ErrRevoked
		}
		return s.checkNotBlocked(tx, u, cur, now)
	})
	if err != nil {
		return LoginResult{}, err
	}
	res.Notices = append(res.Notices, s.renewalNotices(rec, now)...)
	return res, nil
}

// renewalNotices is the 重要なお知らせ of a login with rec: the renewal notice
// from the day the renewal window opens, none before.
func (s *Service) renewalNotices(rec store.Certificate, now time.Time) []wire.Notice {
	if from, _ := s.Policy.RenewalWindow(*rec.NotAfter); now.Before(from) {
		return nil
	}
	left := DaysLeft(*rec.NotAfter, now)
	na := *rec.NotAfter
	return []wire.Notice{{
		Kind:     wire.NoticeRenewalDue,
		Title:    "重要なお知らせ",
		Body:     fmt.Sprintf("電子証明書の有効期限まで残り%d日です。電子証明書を更新してください。", left),
		Action:   wire.ActionRenew,
		NotAfter: &na,
		DaysLeft: left,
	}}
}

func (s *Service) loginWithPassword(ctx context.Context, remoteAddr, loginID, password string) (LoginResult, error) {
	if loginID == "" {
		return LoginResult{}, fmt.Errorf("login_id is required without a client certificate: %w", ErrBadRequest)
	}
	u, err := s.refusePasswordOnlyInCertificateMode(ctx, loginID, password)
	if err != nil {
		return LoginResult{}, err
	}
	a, err := s.checkPassword(ctx, remoteAddr, loginID, password, u)
	if err != nil {
		return LoginResult{}, err
	}
	now := s.now()
	return s.openSession(ctx, remoteAddr, a, "", now, func(tx store.Tx, u store.User, cur *store.Certificate) error {
		c, err := tx.Contract(u.ContractID)
		if err != nil {
			return err
		}
		if c.CertificateModeAt != nil {
			return ErrCertificateRequired
		}
		return s.checkNotBlocked(tx, u, cur, now)
	})
}

// openSession settles the right password of a and, when check passes inside
// the same transaction, records the login and a new session: a login's one
// write. When check refuses, the cleared failure count is still committed: the
// password was right.
func (s *Service) openSession(ctx context.Context, remoteAddr string, a attempt, serial string, now time.Time,
	check func(store.Tx, store.User, *store.Certificate) error) (LoginResult, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return LoginResult{}, fmt.Errorf("generate session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	res := LoginResult{Token: token, ExpiresAt: now.Add(s.Policy.SessionTTL), Notices: []wire.Notice{}}
	var refusal error
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		refusal = nil
		u, err := s.settleAttempt(tx, a)
		if err != nil {
			return err
		}
		cur, err := currentCert(tx, u)
		if err != nil {
			return err
		}
		if refusal = check(tx, u, cur); refusal != nil {
			return nil
		}
		res.PreviousLoginAt = u.LastLoginAt
		u.LastLoginAt = &now
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		if err := tx.CreateSession(store.Session{TokenHash: hashToken(token), LoginID: u.LoginID, CertSerial: serial, CreatedAt: now, ExpiresAt: res.ExpiresAt, PreviousLoginAt: res.PreviousLoginAt}); err != nil {
			return err
		}
		c, err := tx.Contract(u.ContractID)
		if err != nil {
			return err
		}
		res.CertificateMode = c.CertificateModeAt != nil
		res.User = s.view(u, c, cur, now)
		res.User.LastLoginAt = res.PreviousLoginAt // the user checks the login before this one
		return audit(tx, now, Actor{Name: u.LoginID, RemoteAddr: remoteAddr}, "login", u.LoginID, serial)
	})
	if err == nil {
		err = refusal
	}
	if err != nil {
		return LoginResult{}, err
	}
	return res, nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Authorize turns a session token (and the TLS client certificate of the
// request, nil if none) into the actor of an admin call. A session opened with
// a certificate needs that same certificate, still current and not revoked; a
// session opened with a password alone works only while the contract is not in
// certificate mode.
func (s *Service) Authorize(ctx context.Context, remoteAddr, token string, cert *x509.Certificate) (Actor, error) {
	if token == "" {
		return Actor{}, ErrUnauthenticated
	}
	now := s.now()
	var a Actor
	err := s.Store.View(ctx, func(tx store.Tx) error {
		sess, err := tx.Session(hashToken(token))
		if errors.Is(err, store.ErrNotFound) {
			return ErrUnauthenticated
		}
		if err != nil {
			return err
		}
		if now.After(sess.ExpiresAt) {
			return ErrUnauthenticated
		}
		var u store.User
		if sess.CertSerial != "" {
			var rec store.Certificate
			u, rec, err = s.identify(tx, cert)
			if err != nil {
				return err
			}
			if rec.Serial != sess.CertSerial {
				return fmt.Errorf("the session was opened with another certificate: %w", ErrUnauthenticated)
			}
			if now.After(*rec.NotAfter) {
				return ErrExpired
			}
		} else {
			u, err = tx.User(sess.LoginID)
			if errors.Is(err, store.ErrNotFound) {
				return ErrUnauthenticated
			}
			if err != nil {
				return err
			}
		}
		if u.Locked {
			return ErrLocked
		}
		if sess.CertSerial == "" {
			// A password-only session ends with the contract's switch to certificate mode.
			c, err := tx.Contract(u.ContractID)
			if err != nil {
				return err
			}
			if c.CertificateModeAt != nil {
				return ErrCertificateRequired
			}
		}
		cur, err := currentCert(tx, u)
		if err != nil {
			return err
		}
		if err := s.checkNotBlocked(tx, u, cur, now); err != nil {
			return err
		}
		a = Actor{Name: u.LoginID, Role: u.Role, ContractID: u.ContractID, RemoteAddr: remoteAddr}
		return nil
	})
	if err != nil {
		return Actor{}, fmt.Errorf("authorize: %w", err)
	}
	return a, nil
}

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, token string) error {
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		err := tx.DeleteSession(hashToken(token))
		if errors.Is(err, store.ErrNotFound) {
			return ErrUnauthenticated
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	return nil
}

// SessionUser is what a page shows for an open session: the ID as
// [Service.Authorize] accepts it (same certificate, still current, not
// revoked, not locked or blocked), with its 重要なお知らせ.
type SessionUser struct {
	User    wire.User
	Notices []wire.Notice
	// PreviousLoginAt is the ID's login before this session was opened, nil
	// when the session was its first; it is kept with the session, so every
	// server gives the same answer.
	PreviousLoginAt *time.Time
}

// SessionUser checks the session of token as [Service.Authorize] does and
// returns the ID's view and notices. A session that Authorize refuses (the
// certificate was revoked or replaced since) is refused here too, at once.
func (s *Service) SessionUser(ctx context.Context, remoteAddr, token string, cert *x509.Certificate) (SessionUser, error) {
	a, err := s.Authorize(ctx, remoteAddr, token, cert)
	if err != nil {
		return SessionUser{}, err
	}
	now := s.now()
	out := SessionUser{Notices: []wire.Notice{}}
	err = s.Store.View(ctx, func(tx store.Tx) error {
		u, err := tx.User(a.Name)
		if err != nil {
			return err
		}
		c, err := tx.Contract(u.ContractID)
		if err != nil {
			return err
		}
		cur, err := currentCert(tx, u)
		if err != nil {
			return err
		}
		sess, err := tx.Session(hashToken(token))
		if err != nil {
			return err
		}
		out.PreviousLoginAt = sess.PreviousLoginAt
		out.User = s.view(u, c, cur, now)
		if cur != nil && cert != nil && cur.NotAfter != nil {
			out.Notices = append(out.Notices, s.renewalNotices(*cur, now)...)
		}
		return nil
	})
	if err != nil {
		return SessionUser{}, fmt.Errorf("session user: %w", err)
	}
	return out, nil
}

// CertificateOwner says whose certificate cert is, by the same checks a login
// with it makes first (this bank's CA, known, not revoked, the ID's current
// one), so that a page can ask for the password of that ID or refuse at once.
func (s *Service) CertificateOwner(ctx context.Context, cert *x509.Certificate) (string, error) {
	var u store.User
	err := s.Store.View(ctx, func(tx store.Tx) error {
		var err error
		u, _, err = s.identify(tx, cert)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("certificate owner: %w", err)
	}
	return u.LoginID, nil
}

// refusePasswordOnlyInCertificateMode reads loginID for a login without a
// certificate and returns it (nil when there is no such ID) for
// checkPassword. When the ID's contract is in certificate mode, where such a
// login can never succeed, it answers instead: certificate_required to the
// right password, invalid_credentials to a wrong one, as ever, but without
// counting the attempt. Otherwise anyone who knows an ID could lock it with
// five wrong passwords and no certificate, and an admin ID so locked waits for
// the bank. The check costs what a counted one costs (a slot and one argon2id
// hash); wrong passwords are still charged to the caller's address by the
// server's per-IP limit.
func (s *Service) refusePasswordOnlyInCertificateMode(ctx context.Context, loginID, password string) (*store.User, error) {
	if err := checkCredentialLengths(loginID, password); err != nil {
		return nil, err
	}
	var found *store.User
	var certMode bool
	err := s.Store.View(ctx, func(tx store.Tx) error {
		u, err := tx.User(loginID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		c, err := tx.Contract(u.ContractID)
		if err != nil {
			return err
		}
		found, certMode = &u, c.CertificateModeAt != nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up the login mode of %s: %w", LogID(loginID), err)
	}
	if !certMode {
		return found, nil
	}
	release, err := s.enterCheck(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	ok, err := s.verify(password, found.PasswordHash)
	if err != nil {
		return nil, fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	return nil, ErrCertificateRequired
}

// PurgeExpiredSessions removes every session past its expiry and returns how
// many it removed. Expired sessions already authorize nothing; purging keeps
// the table to the sessions that can. It is idempotent, so several servers may
// run it at once.
func (s *Service) PurgeExpiredSessions(ctx context.Context) (int64, error) {
	now := s.now()
	var n int64
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteExpiredSessions(now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired sessions: %w", err)
	}
	return n, nil
}
