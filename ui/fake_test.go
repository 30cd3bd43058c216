package ui

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"math/big"
	"net/http"
	"sync"
	"time"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// jst is the time zone every test renders dates in, so golden images do not depend
// on the machine's zone.
var jst = time.FixedZone("JST", 9*60*60)

// testNow is the fixed "now" of the tests.
var testNow = time.Date(2026, 11, 21, 10, 0, 0, 0, jst)

// refusal is a server refusal as the agent reports it.
func refusal(code wire.Code) error {
	return &agent.Error{Code: code, Status: http.StatusForbidden}
}

// fakeBackend is the agent as the screens see it, with state kept in memory. It
// does what the real agent would do to that state, so a test can check the
// outcome of a flow, not only that a call was made.
type fakeBackend struct {
	mu       sync.Mutex
	cfg      agent.Config
	ids      []*agent.Identity
	users    []wire.User
	notices  []wire.Notice
	password string // the one login password every ID of the fake has
	// passwords are those set by SetPassword, by login ID.
	passwords map[string]string

	// errs makes the named method fail with the error.
	errs map[string]error
	// calls records the methods called with their main argument, in order.
	calls []string

	// gate, when not nil, holds Identities until it is closed: a slow network.
	gate chan struct{}
	// loginGate, when not nil, holds both logins until it is closed: a slow bank.
	loginGate chan struct{}

	// certModes is what the bank said of each contract's certificate mode, by
	// contract ID, as the agent remembers it.
	certModes map[string]bool

	backupFPs []agent.Fingerprint
	backupPW  string
	backupFmt agent.BackupFormat
	// otherInBackup are the certificates of the backup that are not this bank's.
	otherInBackup []*agent.OtherCertificate
}

func newFakeBackend() *fakeBackend {
	f := &fakeBackend{
		cfg: agent.Config{
			BankConfig: wire.BankConfig{ServerURL: "https://ib.example-shinkin.jp", BankCode: "1376", BankName: "いんかん信用金庫"},
			Store:      "dir:/home/yamada/.local/share/inkan",
			Language:   "ja",
		},
		password:  "Tegami-2026-aki",
		errs:      map[string]error{},
		passwords: map[string]string{},
		certModes: map[string]bool{},
	}
	return f
}

// CertificateMode is true once every contract that answered said so.
func (f *fakeBackend) CertificateMode() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, on := range f.certModes {
		if !on {
			return false, nil
		}
	}
	return len(f.certModes) > 0, nil
}

// noteContract remembers what a login said of its contract, as the agent does.
func (f *fakeBackend) noteContract(s *agent.Session) *agent.Session {
	f.mu.Lock()
	f.certModes[s.User.ContractID] = s.CertificateMode
	f.mu.Unlock()
	return s
}

// withTwoIdentities puts two IDs on the fake PC: the admin's, due for renewal in
// 12 days, and a general user's, valid for months.
func (f *fakeBackend) withTwoIdentities() *fakeBackend {
	f.ids = []*agent.Identity{
		fakeIdentity("yamada", wire.RoleAdmin, 1, testNow.AddDate(-1, 0, 12), agent.StateRenewable),
		fakeIdentity("suzuki", wire.RoleGeneral, 2, testNow.AddDate(0, -5, 0), agent.StateValid),
	}
	return f
}

// withUsers gives the contract three IDs.
func (f *fakeBackend) withUsers() *fakeBackend {
	issued := testNow.AddDate(0, 0, -3)
	deadline := issued.AddDate(0, 0, 80)
	notAfter := testNow.AddDate(0, 7, 0)
	last := testNow.Add(-26 * time.Hour)
	f.users = []wire.User{
		{LoginID: "yamada", DisplayName: "山田 太郎", Role: wire.RoleAdmin, ContractID: "C-0001", ContractName: "山田商事株式会社", LastLoginAt: &last,
			Certificate: wire.Certificate{State: wire.CertActive, NotAfter: &notAfter}},
		{LoginID: "suzuki", DisplayName: "鈴木 花子", Role: wire.RoleApprover, ContractID: "C-0001", ContractName: "山田商事株式会社",
			Certificate: wire.Certificate{State: wire.CertActive, NotAfter: &notAfter}},
		{LoginID: "sato", DisplayName: "佐藤 一郎", Role: wire.RoleGeneral, ContractID: "C-0001", ContractName: "山田商事株式会社",
			Certificate: wire.Certificate{State: wire.CertAwaitingPickup, IssuedAt: &issued, PickupDeadline: &deadline}},
		{LoginID: "takahashi", DisplayName: "高橋 次郎", Role: wire.RoleGeneral, ContractID: "C-0001", ContractName: "山田商事株式会社",
			Certificate: wire.Certificate{State: wire.CertNone}},
	}
	return f
}

// fakeIdentity makes an identity of the fake contract whose year of validity
// started at notBefore. The certificate is a plain struct, not signed, so that
// every run shows the same serial number and fingerprint.
func fakeIdentity(loginID string, role wire.Role, serial int64, notBefore time.Time, state agent.State) *agent.Identity {
	subject := wire.Subject{LoginID: loginID, Role: role, ContractID: "C-0001", ContractName: "山田商事株式会社", BankCode: "1376"}
	notAfter := notBefore.AddDate(1, 0, 0)
	sum := sha256.Sum256([]byte(loginID + notBefore.String()))
	return &agent.Identity{
		Fingerprint: agent.Fingerprint(hex.EncodeToString(sum[:])),
		Label:       subject.Label(),
		Subject:     subject,
		Certificate: &x509.Certificate{SerialNumber: big.NewInt(0x5a3c0000 + serial), Subject: subject.Name()},
		NotBefore:   notBefore,
		NotAfter:    notAfter,
		State:       state,
		DaysLeft:    int(notAfter.Sub(testNow).Hours() / 24),
		RenewFrom:   notAfter.AddDate(0, 0, -30),
		RenewUntil:  notAfter.AddDate(0, 0, 90),
		Exportable:  true,
		Store:       "dir:/home/yamada/.local/share/inkan",
	}
}

func (f *fakeBackend) called(name string, arg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name+" "+arg)
	return f.errs[name]
}

func (f *fakeBackend) find(fp agent.Fingerprint) *agent.Identity {
	for _, id := range f.ids {
		if id.Fingerprint == fp {
			return id
		}
	}
	return nil
}

func (f *fakeBackend) Config() agent.Config { return f.cfg }

func (f *fakeBackend) Pickup(ctx context.Context, loginID, password string, progress agent.ProgressFunc) (*agent.Identity, error) {
	progress(agent.StepPrepare)
	if err := f.called("Pickup", loginID); err != nil {
		return nil, err
	}
	if password != f.password {
		return nil, refusal(wire.CodeInvalidCredentials)
	}
	for _, s := range []agent.Step{agent.StepGenerateKey, agent.StepIssue, agent.StepInstall, agent.StepDone} {
		progress(s)
	}
	id := fakeIdentity(loginID, wire.RoleGeneral, int64(len(f.ids)+1), testNow, agent.StateValid)
	f.mu.Lock()
	f.ids = append(f.ids, id)
	f.mu.Unlock()
	return id, nil
}

// CheckPickup is the bank's check of the ID and password at 取得前処理中.
func (f *fakeBackend) CheckPickup(ctx context.Context, loginID, password string) error {
	if err := f.called("CheckPickup", loginID); err != nil {
		return err
	}
	if password != f.password {
		return refusal(wire.CodeInvalidCredentials)
	}
	return nil
}

func (f *fakeBackend) Identities(ctx context.Context) ([]*agent.Identity, error) {
	if err := f.called("Identities", ""); err != nil {
		return nil, err
	}
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*agent.Identity(nil), f.ids...), nil
}

func (f *fakeBackend) session(user wire.User, id *agent.Identity) *agent.Session {
	s := &agent.Session{Token: "t-" + user.LoginID, ExpiresAt: testNow.Add(time.Hour), User: user, Identity: id, CertificateMode: id != nil}
	if id != nil && id.State == agent.StateRenewable {
		notAfter := id.NotAfter
		s.Notices = append(s.Notices, wire.Notice{Kind: wire.NoticeRenewalDue, Action: wire.ActionRenew, NotAfter: &notAfter, DaysLeft: id.DaysLeft})
	}
	s.Notices = append(s.Notices, f.notices...)
	return s
}

func (f *fakeBackend) user(loginID string) wire.User {
	for _, u := range f.users {
		if u.LoginID == loginID {
			return u
		}
	}
	return wire.User{LoginID: loginID, Role: wire.RoleGeneral, ContractID: "C-0001", ContractName: "山田商事株式会社"}
}

func (f *fakeBackend) Login(ctx context.Context, fp agent.Fingerprint, password string) (*agent.Session, error) {
	if f.loginGate != nil {
		<-f.loginGate
	}
	if err := f.called("Login", string(fp)); err != nil {
		if agent.Code(err) == wire.CodeCertificateRevoked {
			// As the agent does: a certificate the bank refused as revoked is
			// listed as revoked from then on.
			f.mu.Lock()
			if id := f.find(fp); id != nil {
				id.State = agent.StateRevoked
			}
			f.mu.Unlock()
		}
		return nil, err
	}
	id := f.find(fp)
	if id == nil {
		return nil, agent.ErrNoIdentity
	}
	if password != f.password {
		return nil, refusal(wire.CodeInvalidCredentials)
	}
	user := f.user(id.Subject.LoginID)
	user.Role = id.Subject.Role
	return f.noteContract(f.session(user, id)), nil
}

func (f *fakeBackend) PasswordLogin(ctx context.Context, loginID, password string) (*agent.Session, error) {
	if f.loginGate != nil {
		<-f.loginGate
	}
	if err := f.called("PasswordLogin", loginID); err != nil {
		if agent.Code(err) == wire.CodeCertificateRequired {
			f.mu.Lock()
			f.certModes[f.user(loginID).ContractID] = true
			f.mu.Unlock()
		}
		return nil, err
	}
	if password != f.password {
		return nil, refusal(wire.CodeInvalidCredentials)
	}
	return f.noteContract(f.session(f.user(loginID), nil)), nil
}

func (f *fakeBackend) Logout(ctx context.Context, s *agent.Session) error {
	return f.called("Logout", s.User.LoginID)
}

func (f *fakeBackend) Renew(ctx context.Context, fp agent.Fingerprint, progress agent.ProgressFunc) (*agent.Identity, error) {
	progress(agent.StepPrepare)
	if err := f.called("Renew", string(fp)); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, id := range f.ids {
		if id.Fingerprint == fp {
			renewed := fakeIdentity(id.Subject.LoginID, id.Subject.Role, 10+int64(i), testNow, agent.StateValid)
			f.ids[i] = renewed
			return renewed, nil
		}
	}
	return nil, agent.ErrNoIdentity
}

func (f *fakeBackend) Warnings(ctx context.Context, notices []wire.Notice) ([]agent.Warning, error) {
	if err := f.called("Warnings", ""); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var ws []agent.Warning
	for _, id := range f.ids {
		w := agent.Warning{Identity: id, DaysLeft: id.DaysLeft}
		switch {
		case id.DaysLeft < 0:
			w.Level = agent.LevelExpired
		case id.DaysLeft <= 10:
			w.Level = agent.LevelDays10
		case id.DaysLeft <= 30:
			w.Level = agent.LevelDays30
		}
		w.Renewable = id.State == agent.StateRenewable || id.State == agent.StateExpiredRenewable
		ws = append(ws, w)
	}
	return ws, nil
}

func (f *fakeBackend) Delete(ctx context.Context, fp agent.Fingerprint) error {
	if err := f.called("Delete", string(fp)); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, id := range f.ids {
		if id.Fingerprint == fp {
			f.ids = append(f.ids[:i], f.ids[i+1:]...)
			return nil
		}
	}
	return agent.ErrNoIdentity
}

func (f *fakeBackend) BackupAs(ctx context.Context, fps []agent.Fingerprint, password, confirm string, format agent.BackupFormat) ([]byte, error) {
	if err := f.called("Backup", ""); err != nil {
		return nil, err
	}
	if err := agent.CheckBackupPassword(password, confirm); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backupFPs, f.backupPW, f.backupFmt = fps, password, format
	var data []byte
	for _, fp := range fps {
		data = append(data, fp...)
		data = append(data, '\n')
	}
	return data, nil
}

func (f *fakeBackend) Restore(ctx context.Context, pfx []byte, password string) (*agent.RestoreResult, error) {
	if err := f.called("Restore", ""); err != nil {
		return nil, err
	}
	if password != f.backupPW {
		return nil, errors.Join(errors.New("restore"), agent.ErrWrongPassword)
	}
	restored := fakeIdentity("restored", wire.RoleApprover, 99, testNow.AddDate(0, -1, 0), agent.StateValid)
	f.mu.Lock()
	f.ids = append(f.ids, restored)
	f.mu.Unlock()
	return &agent.RestoreResult{Added: []*agent.Identity{restored}, Other: f.otherInBackup}, nil
}

func (f *fakeBackend) Users(ctx context.Context, s *agent.Session) ([]wire.User, error) {
	if err := f.called("Users", s.User.LoginID); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]wire.User(nil), f.users...), nil
}

func (f *fakeBackend) CreateUser(ctx context.Context, s *agent.Session, req wire.CreateUserRequest) (*wire.User, error) {
	if err := f.called("CreateUser", req.LoginID); err != nil {
		return nil, err
	}
	if n := len([]rune(req.Password)); n < 8 || n > 128 { // as the server refuses a short one
		return nil, refusal(wire.CodeWeakPassword)
	}
	user := wire.User{LoginID: req.LoginID, DisplayName: req.DisplayName, Email: req.Email, Role: req.Role, ContractID: "C-0001", ContractName: "山田商事株式会社",
		Certificate: wire.Certificate{State: wire.CertNone}}
	if req.IssueCertificate {
		deadline := testNow.AddDate(0, 0, 80)
		user.Certificate = wire.Certificate{State: wire.CertAwaitingPickup, PickupDeadline: &deadline}
	}
	f.mu.Lock()
	f.users = append(f.users, user)
	f.mu.Unlock()
	return &user, nil
}

func (f *fakeBackend) DeleteUser(ctx context.Context, s *agent.Session, loginID string) error {
	if err := f.called("DeleteUser", loginID); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, u := range f.users {
		if u.LoginID == loginID {
			f.users = append(f.users[:i], f.users[i+1:]...)
			return nil
		}
	}
	return refusal(wire.CodeNotFound)
}

// setCert changes an ID's certificate state, as the server would.
func (f *fakeBackend) setCert(name, loginID string, state wire.CertState) (*wire.User, error) {
	if err := f.called(name, loginID); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.users {
		if f.users[i].LoginID == loginID {
			c := wire.Certificate{State: state}
			switch state {
			case wire.CertAwaitingPickup:
				deadline := testNow.AddDate(0, 0, 80)
				c.PickupDeadline = &deadline
			case wire.CertRevoked:
				at := testNow
				c.RevokedAt = &at
			}
			f.users[i].Certificate = c
			u := f.users[i]
			return &u, nil
		}
	}
	return nil, refusal(wire.CodeNotFound)
}

func (f *fakeBackend) IssueCertificate(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error) {
	return f.setCert("IssueCertificate", loginID, wire.CertAwaitingPickup)
}

func (f *fakeBackend) RevokeCertificate(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error) {
	return f.setCert("RevokeCertificate", loginID, wire.CertRevoked)
}

func (f *fakeBackend) ReissueCertificate(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error) {
	return f.setCert("ReissueCertificate", loginID, wire.CertAwaitingPickup)
}

func (f *fakeBackend) UnlockUser(ctx context.Context, s *agent.Session, loginID string) (*wire.User, error) {
	if err := f.called("UnlockUser", loginID); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.users {
		if f.users[i].LoginID == loginID {
			f.users[i].Locked = false
			u := f.users[i]
			return &u, nil
		}
	}
	return nil, refusal(wire.CodeNotFound)
}

// SetPassword refuses a password the server's policy would (only its length
// here), and otherwise unlocks the ID, as the server does.
func (f *fakeBackend) SetPassword(ctx context.Context, s *agent.Session, loginID, password string) (*wire.User, error) {
	if err := f.called("SetPassword", loginID); err != nil {
		return nil, err
	}
	if n := len([]rune(password)); n < 8 || n > 128 {
		return nil, refusal(wire.CodeWeakPassword)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.users {
		if f.users[i].LoginID == loginID {
			f.users[i].Locked = false
			f.passwords[loginID] = password
			u := f.users[i]
			return &u, nil
		}
	}
	return nil, refusal(wire.CodeNotFound)
}

func (f *fakeBackend) Close() error { return f.called("Close", "") }

// ChangePassword checks the current password and the policy's length, as the
// bank does, and then the fake's one password is the new one.
func (f *fakeBackend) ChangePassword(ctx context.Context, s *agent.Session, current, newPassword string) error {
	if err := f.called("ChangePassword", s.User.LoginID); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if current != f.password {
		return refusal(wire.CodeInvalidCredentials)
	}
	if n := len([]rune(newPassword)); n < 8 || n > 128 {
		return refusal(wire.CodeWeakPassword)
	}
	f.password = newPassword
	return nil
}
