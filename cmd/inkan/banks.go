package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/ui"
	"github.com/inkan-dev/inkan/wire"
)

// banksBackend drives the window for several banks at once: one chooser, one set
// of warnings over every bank's certificates, each certificate used only with its
// own bank's agent. Session calls go to any agent: a session carries the client
// of the bank it was opened at.
type banksBackend struct {
	b   *agent.Banks
	cfg agent.Config // the first bank's, named for all of them
}

var (
	_ ui.Backend     = (*banksBackend)(nil)
	_ ui.MultiBank   = (*banksBackend)(nil)
	_ ui.AutoRenewer = (*banksBackend)(nil)
)

func newBanksBackend(b *agent.Banks) *banksBackend {
	all := b.All()
	cfg := all[0].Config()
	var names []string
	for _, a := range all {
		names = append(names, a.Config().BankName)
	}
	cfg.BankName = strings.Join(names, "・")
	return &banksBackend{b: b, cfg: cfg}
}

func (m *banksBackend) Config() agent.Config { return m.cfg }

func (m *banksBackend) Pickup(ctx context.Context, loginID, password string, progress agent.ProgressFunc) (*agent.Identity, error) {
	a, err := m.b.Bank("")
	if err != nil {
		return nil, err
	}
	return a.Pickup(ctx, loginID, password, progress)
}

func (m *banksBackend) Identities(ctx context.Context) ([]*agent.Identity, error) {
	return m.b.Identities(ctx)
}

func (m *banksBackend) Login(ctx context.Context, fp agent.Fingerprint, password string) (*agent.Session, error) {
	a, err := m.b.Owner(ctx, fp)
	if err != nil {
		return nil, err
	}
	return a.Login(ctx, fp, password)
}

func (m *banksBackend) PasswordLogin(ctx context.Context, loginID, password string) (*agent.Session, error) {
	a, err := m.b.Bank("")
	if err != nil {
		return nil, err
	}
	return a.PasswordLogin(ctx, loginID, password)
}

// CertificateMode is true when every bank said so of every contract of it
// that logged in from this PC.
func (m *banksBackend) CertificateMode() (bool, error) { return m.b.CertificateMode() }

func (m *banksBackend) any() *agent.Agent { return m.b.All()[0] }

func (m *banksBackend) Logout(ctx context.Context, s *agent.Session) error {
	return m.any().Logout(ctx, s)
}

func (m *banksBackend) Renew(ctx context.Context, fp agent.Fingerprint, progress agent.ProgressFunc) (*agent.Identity, error) {
	a, err := m.b.Owner(ctx, fp)
	if err != nil {
		return nil, err
	}
	return a.Renew(ctx, fp, progress)
}

// Warnings are every bank's, each by its own bank's policy; notices come from
// the server of the session and name that bank's certificates only.
func (m *banksBackend) Warnings(ctx context.Context, notices []wire.Notice) ([]agent.Warning, error) {
	var all []agent.Warning
	for _, a := range m.b.All() {
		ws, err := a.Warnings(ctx, notices)
		if err != nil {
			return nil, err
		}
		all = append(all, ws...)
	}
	return all, nil
}

func (m *banksBackend) Delete(ctx context.Context, fp agent.Fingerprint) error {
	a, err := m.b.Owner(ctx, fp)
	if err != nil {
		return err
	}
	return a.Delete(ctx, fp)
}

func (m *banksBackend) BackupAs(ctx context.Context, fps []agent.Fingerprint, password, confirm string, format agent.BackupFormat) ([]byte, error) {
	return m.b.BackupAs(ctx, fps, password, confirm, format)
}

func (m *banksBackend) Restore(ctx context.Context, pfx []byte, password string) (*agent.RestoreResult, error) {
	return m.b.Restore(ctx, pfx, password)
}

func (m *banksBackend) Close() error { return m.b.Close() }

func (m *banksBackend) Users(ctx context.Context, s *agent.Session) ([]wire.User, error) {
	return m.any().Users(ctx, s)
}

func (m *banksBackend) CreateUser(ctx context.Context, s *agent.Session, req wire.CreateUserRequest) (*wire.User, error) {
	return m.any().CreateUser(ctx, s, req)
}

func (m *banksBackend) DeleteUser(ctx context.Context, s *agent.Session, loginID string) error {
	return m.any().DeleteUser(ctx, s, loginID)
}

func (m *banksBackend) IssueCertificate(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error) {
	return m.any().IssueCertificate(ctx, s, loginID)
}

func (m *banksBackend) RevokeCertificate(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error) {
	return m.any().RevokeCertificate(ctx, s, loginID)
}

func (m *banksBackend) ReissueCertificate(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error) {
	return m.any().ReissueCertificate(ctx, s, loginID)
}

func (m *banksBackend) UnlockUser(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error) {
	return m.any().UnlockUser(ctx, s, loginID)
}

func (m *banksBackend) SetPassword(ctx context.Context, s *agent.Session, loginID, password string) (*wire.User, error) {
	return m.any().SetPassword(ctx, s, loginID, password)
}

// ChangePassword goes to any agent: the session carries its bank's client.
func (m *banksBackend) ChangePassword(ctx context.Context, s *agent.Session, current, newPassword string) error {
	return m.any().ChangePassword(ctx, s, current, newPassword)
}

// Banks are the configured banks, by bank code.
func (m *banksBackend) Banks() []agent.Config {
	var out []agent.Config
	for _, a := range m.b.All() {
		out = append(out, a.Config())
	}
	return out
}

// PickupAt picks up at the bank the user chose; the password goes to that bank only.
func (m *banksBackend) PickupAt(ctx context.Context, code, loginID, password string, progress agent.ProgressFunc) (*agent.Identity, error) {
	a, err := m.b.Bank(code)
	if err != nil {
		return nil, err
	}
	return a.Pickup(ctx, loginID, password, progress)
}

// CheckPickup asks the only bank, before 電子証明書取得開始, whether the ID and
// password would be let in.
func (m *banksBackend) CheckPickup(ctx context.Context, loginID, password string) error {
	return m.CheckPickupAt(ctx, "", loginID, password)
}

// CheckPickupAt asks the bank the user chose, before 電子証明書取得開始.
func (m *banksBackend) CheckPickupAt(ctx context.Context, code, loginID, password string) error {
	a, err := m.b.Bank(code)
	if err != nil {
		return err
	}
	return a.CheckPickup(ctx, loginID, password)
}

// PasswordLoginAt logs in at the bank the user chose.
func (m *banksBackend) PasswordLoginAt(ctx context.Context, code, loginID, password string) (*agent.Session, error) {
	a, err := m.b.Bank(code)
	if err != nil {
		return nil, err
	}
	return a.PasswordLogin(ctx, loginID, password)
}

// BankIdentities lists the certificates of one bank.
func (m *banksBackend) BankIdentities(ctx context.Context, code string) ([]*agent.Identity, error) {
	a, err := m.b.Bank(code)
	if err != nil {
		return nil, err
	}
	return a.Identities(ctx)
}

// RunAutoRenew renews silently at every bank, each by its own bank's policy,
// until ctx ends.
func (m *banksBackend) RunAutoRenew(ctx context.Context, interval time.Duration, notify func(agent.Renewal)) {
	var wg sync.WaitGroup
	for _, a := range m.b.All() {
		wg.Go(func() { a.RunAutoRenew(ctx, interval, notify) })
	}
	wg.Wait()
}

// BrowserCopyProblem is every bank's browser copy problem, nil when there is none.
func (m *banksBackend) BrowserCopyProblem() error {
	var errs []error
	for _, a := range m.b.All() {
		if err := a.BrowserCopyProblem(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Doctor runs the self-check (設定 → 動作環境チェック) for every bank.
func (m *banksBackend) Doctor(ctx context.Context) *agent.DoctorReport { return m.b.Doctor(ctx) }

// BrowserCopyDir is the browser's NSS database (one for all banks), "" when the copy is off.
func (m *banksBackend) BrowserCopyDir() string { return m.any().BrowserCopyDir() }
