package ui

import (
	"context"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// Backend is what the screens ask of the agent. *agent.Agent implements it; the
// tests drive the screens with a fake, so every screen can be exercised without a
// server, a key store or a display.
type Backend interface {
	// Config is the bank's configuration the agent runs with.
	Config() agent.Config

	// Pickup picks up (電子証明書取得) the certificate waiting for loginID.
	Pickup(ctx context.Context, loginID, password string, progress agent.ProgressFunc) (*agent.Identity, error)
	// Identities lists this bank's certificates on this PC, last used first.
	Identities(ctx context.Context) ([]*agent.Identity, error)
	// Login logs in with the certificate fp and its ID's login password.
	Login(ctx context.Context, fp agent.Fingerprint, password string) (*agent.Session, error)
	// PasswordLogin logs in the ID・パスワード方式 way.
	PasswordLogin(ctx context.Context, loginID, password string) (*agent.Session, error)
	// CertificateMode reports whether the bank said of every contract that
	// logged in from this PC (at least one) that it is in certificate mode, so
	// ID・パスワード方式 is of no use here. It reads the agent's state file only.
	CertificateMode() (bool, error)
	// ChangePassword changes the logged-in user's own login password
	// (パスワード変更); the bank ends every session of the ID, s included.
	ChangePassword(ctx context.Context, s *agent.Session, current, newPassword string) error
	// Logout ends s.
	Logout(ctx context.Context, s *agent.Session) error
	// Renew renews (更新) the certificate fp with a new key pair.
	Renew(ctx context.Context, fp agent.Fingerprint, progress agent.ProgressFunc) (*agent.Identity, error)
	// Warnings merges local expiry warnings with the server's notices.
	Warnings(ctx context.Context, notices []wire.Notice) ([]agent.Warning, error)
	// Delete removes the certificate fp and its key from this PC.
	Delete(ctx context.Context, fp agent.Fingerprint) error
	// BackupAs exports the certificates fps into a password-protected PKCS#12 file.
	BackupAs(ctx context.Context, fps []agent.Fingerprint, password, confirm string, format agent.BackupFormat) ([]byte, error)
	// Restore imports the certificates of a PKCS#12 file.
	Restore(ctx context.Context, pfx []byte, password string) (*agent.RestoreResult, error)
	// Close lets go of the agent's connections to the server: on quit, and when
	// 設定 replaces the agent with one for another configuration.
	Close() error

	// Users lists the IDs of the contract of the admin logged in as s (利用者管理).
	Users(ctx context.Context, s *agent.Session) ([]wire.User, error)
	// CreateUser adds an approver or general ID to the admin's contract.
	CreateUser(ctx context.Context, s *agent.Session, req wire.CreateUserRequest) (*wire.User, error)
	// DeleteUser deletes an ID, revoking its certificate.
	DeleteUser(ctx context.Context, s *agent.Session, loginID string) error
	// IssueCertificate issues (発行) an ID's certificate: its pickup window opens.
	IssueCertificate(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error)
	// RevokeCertificate revokes (失効) an ID's certificate at once.
	RevokeCertificate(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error)
	// ReissueCertificate reissues (再発行) an ID's certificate.
	ReissueCertificate(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error)
	// UnlockUser lets an ID locked after too many wrong passwords log in again.
	UnlockUser(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error)
	// SetPassword resets (パスワード再設定) an approver's or general ID's login
	// password, which also unlocks it and ends its sessions.
	SetPassword(ctx context.Context, s *agent.Session, loginID, password string) (*wire.User, error)
}
