package ui

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// fakeBanks is the fake agent serving two banks, with silent renewal and a
// browser copy: MultiBank and AutoRenewer over fakeBackend.
type fakeBanks struct {
	*fakeBackend
	banks []agent.Config
	// renewal is what RunAutoRenew reports once; renewed is closed after.
	renewal *agent.Renewal
	renewed chan struct{}
	copyDir string
	copyErr error
}

func newFakeBanks() *fakeBanks {
	f := &fakeBanks{fakeBackend: newFakeBackend(), renewed: make(chan struct{})}
	second := f.cfg
	second.BankCode, second.BankName, second.ServerURL = "2005", "みらい信用金庫", "https://ib.mirai-shinkin.example"
	f.banks = []agent.Config{f.cfg, second}
	return f
}

func (f *fakeBanks) Banks() []agent.Config { return f.banks }

func (f *fakeBanks) PickupAt(ctx context.Context, code, loginID, password string, progress agent.ProgressFunc) (*agent.Identity, error) {
	if err := f.called("PickupAt", code); err != nil {
		return nil, err
	}
	return f.Pickup(ctx, loginID, password, progress)
}

func (f *fakeBanks) PasswordLoginAt(ctx context.Context, code, loginID, password string) (*agent.Session, error) {
	if err := f.called("PasswordLoginAt", code); err != nil {
		return nil, err
	}
	return f.PasswordLogin(ctx, loginID, password)
}

func (f *fakeBanks) BankIdentities(ctx context.Context, code string) ([]*agent.Identity, error) {
	ids, err := f.Identities(ctx)
	var out []*agent.Identity
	for _, id := range ids {
		if strings.HasSuffix(id.Label, "+"+code) {
			out = append(out, id)
		}
	}
	return out, err
}

func (f *fakeBanks) RunAutoRenew(ctx context.Context, _ time.Duration, notify func(agent.Renewal)) {
	if f.renewal != nil {
		notify(*f.renewal)
		close(f.renewed)
	}
	<-ctx.Done()
}

func (f *fakeBanks) BrowserCopyProblem() error { return f.copyErr }
func (f *fakeBanks) BrowserCopyDir() string    { return f.copyDir }

// newBanksUI opens the window on f, with the bank files of f's banks in a temp
// folder as 設定 reads them.
func newBanksUI(t *testing.T, f *fakeBanks) (*UI, string) {
	t.Helper()
	dir := t.TempDir()
	configPath := filepath.Join(dir, "bank.json")
	writeBank(t, configPath, f.banks[0])
	writeBank(t, filepath.Join(BankDir(configPath), f.banks[1].BankCode+".json"), f.banks[1])
	a := test.NewTempApp(t)
	// As the program's Open does, every opening reads the bank files again.
	u := New(a, Options{ConfigPath: configPath, Open: func(path, _ string) (Backend, error) {
		cfgs, err := agent.LoadBanks(BankDir(path), path)
		if err != nil {
			return nil, err
		}
		f.banks = cfgs
		return f, nil
	}})
	endWithTest(t, u)
	u.wait()
	u.win.Resize(fyne.NewSize(840, 900))
	return u, configPath
}

// writeBank writes cfg as a bank's configuration file, naming its root by
// fingerprint, as agent.LoadBanks accepts it.
func writeBank(t *testing.T, path string, cfg agent.Config) {
	t.Helper()
	cfg.CAFingerprint = strings.Repeat(cfg.BankCode[:2], 32)
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPickupAndPasswordLoginAskWhichBankWhenThereAreTwo(t *testing.T) {
	f := newFakeBanks()
	u, _ := newBanksUI(t, f)

	// ID・パスワード方式 on the start screen: the bank first, then the ID.
	assertShows(t, u, "金融機関")
	c := settingsChoice(t, u, "みらい信用金庫（2005）")
	typeInto(t, u, false, 0, "kanri")
	typeInto(t, u, false, 1, f.password)
	tap(t, u, "ログイン")
	u.wait()
	assertShows(t, u, "どの金融機関のIDか、金融機関を選んでください。")
	if strings.Contains(strings.Join(f.calls, ","), "Login") {
		t.Fatalf("a login went out with no bank chosen: %v", f.calls)
	}
	c.SetSelected("みらい信用金庫（2005）")
	tap(t, u, "ログイン")
	u.wait()
	if got := strings.Join(f.calls, ","); !strings.Contains(got, "PasswordLoginAt 2005,PasswordLogin kanri") {
		t.Fatalf("calls %s, want the login at 2005", got)
	}

	// 電子証明書取得: the same drop-down; the pickup goes to the bank chosen.
	u.Home()
	tap(t, u, "電子証明書取得")
	assertTitle(t, u, "電子証明書取得")
	c = settingsChoice(t, u, "いんかん信用金庫（1376）")
	typeInto(t, u, false, 0, "newuser")
	typeInto(t, u, false, 1, f.password)
	tap(t, u, "取得")
	assertShows(t, u, "どの金融機関のIDか、金融機関を選んでください。")
	c.SetSelected("いんかん信用金庫（1376）")
	tap(t, u, "取得")
	u.wait()
	assertTitle(t, u, "電子証明書取得開始")
	tap(t, u, "取得")
	u.wait()
	if got := strings.Join(f.calls, ","); !strings.Contains(got, "PickupAt 1376,Pickup newuser") {
		t.Fatalf("calls %s, want the pickup at 1376", got)
	}
}

func TestSettingsListBanksAndShowTheBrowserCopy(t *testing.T) {
	f := newFakeBanks()
	f.copyDir = "/home/u/.pki/nssdb"
	f.copyErr = &agent.BrowserCopyError{Dir: f.copyDir, Err: errors.New("certutil: SEC_ERROR_LOCKED_DATABASE")}
	u, configPath := newBanksUI(t, f)
	tap(t, u, "設定")
	assertShows(t, u, "いんかん信用金庫", "1376", "https://ib.example-shinkin.jp",
		"みらい信用金庫", "2005", "https://ib.mirai-shinkin.example",
		"ブラウザーに電子証明書の写しを置く", "写しの場所：/home/u/.pki/nssdb", "SEC_ERROR_LOCKED_DATABASE")

	// Switching the copy off is kept and applied to every bank's configuration.
	for _, o := range objects(u) {
		if c, ok := o.(*check); ok && c.Text == "ブラウザーに電子証明書の写しを置く" {
			if !c.Checked {
				t.Fatal("the copy is on, the box is clear")
			}
			c.SetChecked(false)
		}
	}
	u.wait()
	var cfg agent.Config
	ApplyBrowserPreferences(u.app.Preferences(), &cfg)
	if cfg.BrowserCopy == nil || *cfg.BrowserCopy {
		t.Fatalf("browser_copy after switching it off: %v", cfg.BrowserCopy)
	}
	assertTitle(t, u, "設定")

	// The bank of the chosen configuration file cannot go; the added one can,
	// with its certificates deleted when the user says so.
	f.ids = append(f.ids, fakeIdentity("mirai", wire.RoleGeneral, 9, testNow, agent.StateValid))
	f.ids[len(f.ids)-1].Label = "mirai+2005"
	removes := 0
	for _, o := range objects(u) {
		if b, ok := o.(*button); ok && b.Text == "削除…" {
			removes++
		}
	}
	if removes != 2 {
		t.Fatalf("%d 削除… buttons, want one per bank", removes)
	}
	var first, second *button
	for _, o := range objects(u) {
		if b, ok := o.(*button); ok && b.Text == "削除…" {
			if first == nil {
				first = b
			} else {
				second = b
			}
		}
	}
	test.Tap(first)
	u.wait()
	assertShows(t, u, "ここでは削除できません")
	pressKey(u, fyne.KeyEscape)
	test.Tap(second)
	u.wait()
	assertShows(t, u, "みらい信用金庫（2005）の電子証明書が 1 件あります：mirai+2005")
	tap(t, u, "電子証明書も削除")
	u.wait()
	if _, err := os.Stat(filepath.Join(BankDir(configPath), "2005.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("2005.json after removal: %v", err)
	}
	if got := strings.Join(f.calls, ","); !strings.Contains(got, "Delete") {
		t.Fatalf("calls %s: the bank's certificate was not deleted", got)
	}
}

func TestAddBankRefusesAFileThatIsNoBankConfiguration(t *testing.T) {
	f := newFakeBanks()
	u, configPath := newBanksUI(t, f)
	tap(t, u, "設定")
	tap(t, u, "金融機関の追加…")
	tap(t, u, "追加")
	assertShows(t, u, "どちらか一方を入力してください")
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"bank_code":"12"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	typeInto(t, u, true, 0, bad)
	tap(t, u, "追加")
	u.wait()
	entries, _ := os.ReadDir(BankDir(configPath))
	if len(entries) != 1 {
		t.Fatalf("a refused file changed the banks: %d files", len(entries))
	}
	// The sentence is shown; the field at fault is folded under 技術的な詳細.
	assertShows(t, u, "設定ファイルに誤りがあります。", "技術的な詳細（当金庫へのお問い合わせ用）")
	var detail string
	for _, o := range objects(u) {
		if p, ok := o.(*paragraph); ok && (strings.Contains(p.source, "bank_code") || strings.Contains(p.source, "server_url")) {
			detail = p.source
		}
	}
	if detail == "" {
		t.Fatalf("no reason given for the refused file:\n%s", screenText(u))
	}

	// A good file from the bank is added, and 設定 lists it after the agent reopens.
	third := f.banks[1]
	third.BankCode, third.BankName, third.ServerURL = "3003", "さくら信用金庫", "https://ib.sakura.example"
	good := filepath.Join(t.TempDir(), "sakura.json")
	writeBank(t, good, third)
	typeInto(t, u, true, 0, good)
	tap(t, u, "追加")
	u.wait()
	assertTitle(t, u, "設定")
	assertShows(t, u, "さくら信用金庫", "https://ib.sakura.example")
}

func TestTrayNotifiesASilentRenewal(t *testing.T) {
	f := newFakeBanks()
	old := fakeIdentity("yamada", wire.RoleGeneral, 1, testNow, agent.StateRenewable)
	renewed := fakeIdentity("yamada", wire.RoleGeneral, 2, testNow.AddDate(1, 0, 0), agent.StateValid)
	f.renewal = &agent.Renewal{Old: old, New: renewed, Attempts: 1}
	u, _ := newBanksUI(t, f)
	u.tray.running = true
	want := fyne.NewNotification("電子証明書を更新しました", agent.RenewedNotice(*f.renewal, "ja"))
	before := strings.Count(strings.Join(f.calls, ","), "Identities")
	test.AssertNotificationSent(t, want, func() {
		u.startAutoRenew()
		<-f.renewed
	})
	u.wait()
	// The start screen was loaded again: the tray and the screen ask for the certificates.
	if n := strings.Count(strings.Join(f.calls, ","), "Identities") - before; n < 2 {
		t.Fatalf("after the renewal the certificates were listed %d times (calls %v)", n, f.calls)
	}

	// A failure is a notice too, in the window's language.
	f2 := newFakeBanks()
	f2.renewal = &agent.Renewal{Old: old, Err: refusal(wire.CodeUnavailable), Attempts: 3}
	u2, _ := newBanksUI(t, f2)
	u2.tray.running = true
	want = fyne.NewNotification("電子証明書の自動更新ができませんでした", agent.RenewedNotice(*f2.renewal, "ja"))
	test.AssertNotificationSent(t, want, func() {
		u2.startAutoRenew()
		<-f2.renewed
	})
	u2.wait()
}

func TestTrayListsTheCertificatesOfBothBanks(t *testing.T) {
	f := newFakeBanks()
	a := fakeIdentity("yamada", wire.RoleAdmin, 1, testNow.AddDate(-1, 0, 12), agent.StateRenewable)
	b := fakeIdentity("mirai", wire.RoleGeneral, 2, testNow.AddDate(0, -5, 0), agent.StateValid)
	a.BankName = "いんかん信用金庫"
	b.Label, b.BankName = "mirai+2005", "みらい信用金庫"
	f.ids = []*agent.Identity{a, b}
	u, _ := newBanksUI(t, f)
	u.tray.update(f.ids)
	items := u.tray.menu().Items
	if items[1].ChildMenu == nil || items[1].Label != "電子証明書の一覧" {
		t.Fatalf("tray item 2 %q, want the submenu of every certificate", items[1].Label)
	}
	var got []string
	for _, c := range items[1].ChildMenu.Items {
		got = append(got, c.Label)
	}
	want := []string{"yamada+1376（いんかん信用金庫）：有効期限 2026年12月3日", "mirai+2005（みらい信用金庫）：有効期限 2027年6月21日"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("tray lists %q, want %q", got, want)
	}
	items[1].ChildMenu.Items[1].Action()
	u.wait()
	assertTitle(t, u, "電子証明書の管理")
}
