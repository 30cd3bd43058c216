package ui

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

// startRealBank runs the real server on a loopback port for the length of the
// test, with one contract and its admin ID kanri, whose certificate is issued and
// waiting for pickup. It returns the agent's configuration and kanri's password.
func startRealBank(t *testing.T) (wire.BankConfig, string) {
	t.Helper()
	return startRealBankAs(t, "1376", "いんかん信用金庫")
}

// startRealBankAs is startRealBank for the bank with this code and name.
func startRealBankAs(t *testing.T, code, name string) (wire.BankConfig, string) {
	t.Helper()
	cfg, password, _ := startRealBankWith(t, code, name, nil, nil)
	return cfg, password
}

// startRealBankWith is startRealBankAs with the server's configuration changed
// by edit (when not nil) before it opens, on the clock now (nil: the wall
// clock); it also returns the server.
func startRealBankWith(t *testing.T, code, name string, edit func(*server.Config), now func() time.Time) (wire.BankConfig, string, *server.Server) {
	t.Helper()
	dir := t.TempDir()
	cheap := &lifecycle.Argon2Params{Time: 1, Memory: 8, Threads: 1, KeyLen: 16} // keeps hashing fast
	if err := server.Init(dir, server.InitConfig{BankCode: code, BankName: name, Demo: true,
		Hosts: []string{"127.0.0.1"}, Argon2: cheap, Now: now}); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		path := filepath.Join(dir, server.ConfigFile)
		c, err := server.LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		edit(&c)
		data, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.Open(dir, server.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	cfg, err := srv.BankConfig("https://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	op := srv.Operator()
	contract, err := op.CreateContract(ctx, "山田商事株式会社")
	if err != nil {
		t.Fatal(err)
	}
	const password = "Kanri-Pass-2026"
	if err := op.CreateUser(ctx, contract, "kanri", wire.RoleAdmin, "山田 太郎", "kanri@example.jp", password); err != nil {
		t.Fatal(err)
	}
	if err := op.IssueCertificate(ctx, "kanri"); err != nil {
		t.Fatal(err)
	}
	return cfg, password, srv
}

// newRealUI is the window, in Japanese, over the real agent with a memory
// store for bank, once the agent has opened.
func newRealUI(t *testing.T, bank wire.BankConfig) *UI {
	t.Helper()
	a := test.NewTempApp(t)
	u := New(a, Options{ConfigPath: "bank.json", Language: "ja", Open: func(string, string) (Backend, error) {
		return agent.Open(agent.Config{BankConfig: bank, Store: "memory"}, agent.Options{StateDir: t.TempDir()})
	}})
	endWithTest(t, u)
	u.wait()
	u.win.Resize(fyne.NewSize(840, 680))
	t.Cleanup(func() { _ = u.backend.Close() })
	return u
}

// pickUp is 電子証明書取得 of loginID in the window, through インストール完了
// back to the start screen.
func pickUp(t *testing.T, u *UI, loginID, password string) {
	t.Helper()
	tap(t, u, "電子証明書取得")
	typeInto(t, u, false, 0, loginID)
	typeInto(t, u, false, 1, password)
	tap(t, u, "取得")
	tap(t, u, "取得")
	assertTitle(t, u, "インストール完了")
	pressKey(u, "Return")
}

// pickUpAndLogIn picks loginID's certificate up and logs in with it (the only
// certificate on the PC, so straight to its password), to ログイン中.
func pickUpAndLogIn(t *testing.T, u *UI, loginID, password string) {
	t.Helper()
	pickUp(t, u, loginID, password)
	tap(t, u, "電子証明書ログイン")
	typeFocused(t, u, password)
	pressKey(u, "Return")
	assertTitle(t, u, "ログイン中")
}

// TestAdminFlowAgainstTheRealServer drives the window over the real agent and
// server: the admin picks up a certificate, logs in with it, adds a general user
// with a certificate, and revokes it.
func TestAdminFlowAgainstTheRealServer(t *testing.T) {
	bank, password := startRealBank(t)
	u := newRealUI(t, bank)

	tap(t, u, "電子証明書取得")
	typeInto(t, u, false, 0, "kanri")
	typeInto(t, u, false, 1, password)
	tap(t, u, "取得")
	assertTitle(t, u, "電子証明書取得開始")
	tap(t, u, "取得")
	assertTitle(t, u, "インストール完了")
	assertShows(t, u, "kanri+1376", "山田商事株式会社", "管理者")
	pressKey(u, "Return")

	tap(t, u, "電子証明書ログイン") // one certificate: straight to its password
	typeFocused(t, u, password)
	pressKey(u, "Return")
	assertTitle(t, u, "ログイン中")

	tap(t, u, "利用者管理")
	assertTitle(t, u, "利用者管理")
	table := objectOf[*userTable](t, u)
	assertTableShows(t, table, "kanri", "山田 太郎", "管理者", "有効")

	tap(t, u, "利用者の追加")
	typeInto(t, u, true, 0, "ippan")
	typeInto(t, u, true, 1, "佐藤 一郎")
	typeInto(t, u, true, 3, "Ippan-Pass-2026")
	tap(t, u, "追加")
	assertShows(t, u, "利用者 ippan を追加しました。")
	assertTableShows(t, table, "ippan", "佐藤 一郎", "一般者", "取得待ち")

	selectUser(t, u, table, "ippan")
	tap(t, u, "失効")
	confirmDialog(t, u, "失効")
	assertShows(t, u, "ippan の電子証明書を失効させました。")
	assertTableShows(t, table, "ippan", "佐藤 一郎", "一般者", "失効")
}

// objectOf returns the first object of type T on the window.
func objectOf[T fyne.CanvasObject](t *testing.T, u *UI) T {
	t.Helper()
	for _, o := range objects(u) {
		if w, ok := o.(T); ok {
			return w
		}
	}
	var zero T
	t.Fatalf("no %T on the screen; it shows:\n%s", zero, screenText(u))
	return zero
}

// TestALapsedPickupWindowIsRefusedBeforePickupStarts: kanri's pickup window
// passed (the server's clock 81 days on). 電子証明書取得前処理中 asks the real
// bank (csrattrs with the ID and password), which refuses it as the pickup
// itself would, so the form comes back with the pickup's own sentence and the
// ID kept, 電子証明書取得開始 never appears, and no key was made on the PC.
func TestALapsedPickupWindowIsRefusedBeforePickupStarts(t *testing.T) {
	clock := &testClock{now: time.Now().Truncate(time.Second)}
	bank, password, _ := startRealBankWith(t, "1376", "いんかん信用金庫", nil, clock.Now)
	clock.add(81 * 24 * time.Hour)
	u := newRealUI(t, bank)

	tap(t, u, "電子証明書取得")
	typeInto(t, u, false, 0, "kanri")
	typeInto(t, u, false, 1, password)
	tap(t, u, "取得")
	u.wait()
	assertTitle(t, u, "電子証明書取得")
	assertShows(t, u, agent.Message(&agent.Error{Code: wire.CodePickupLapsed}, "ja"))
	if id := fields(u, false)[0].(*entry).Text; id != "kanri" {
		t.Errorf("the refusal cleared the ID: the field holds %q, want kanri", id)
	}
	ids, err := u.backend.Identities(t.Context())
	if err != nil || len(ids) != 0 {
		t.Fatalf("the PC holds %d certificates (%v) after a refused check, want none", len(ids), err)
	}
	// The pickup itself, had it been started, answers the same code.
	a := u.backend.(*agent.Agent)
	if _, err := a.Pickup(t.Context(), "kanri", password, nil); agent.Code(err) != wire.CodePickupLapsed {
		t.Fatalf("the pickup of a lapsed window: code %q (%v), want %s", agent.Code(err), err, wire.CodePickupLapsed)
	}
}

// TestCertificateModeIsRememberedPerContract: two contracts of one bank use
// this PC. Once kanri's contract answered that it is in certificate mode, the
// start screen says ID・パスワード方式 is of no use; but a password login of the
// other contract, not yet switched, brings the form back (a note per bank
// would have kept hiding it); and when that contract switches too, its
// certificate_required refusal, which names no contract, is placed by the ID.
func TestCertificateModeIsRememberedPerContract(t *testing.T) {
	bank, password, srv := startRealBankWith(t, "1376", "いんかん信用金庫", nil, nil)
	ctx := t.Context()
	op := srv.Operator()
	other, err := op.CreateContract(ctx, "鈴木工業株式会社")
	if err != nil {
		t.Fatal(err)
	}
	const otherPassword = "Suzuki-Pass-2026"
	if err := op.CreateUser(ctx, other, "suzuki", wire.RoleAdmin, "鈴木 花子", "", otherPassword); err != nil {
		t.Fatal(err)
	}
	u := newRealUI(t, bank)
	const note = "ご契約は電子証明書方式になっているため、ID・パスワード方式ではログインできません。「電子証明書ログイン」をご利用ください。"
	passwordFormShown := func() bool {
		for _, o := range shown(u) {
			if _, ok := o.(*entry); ok {
				return true
			}
		}
		return false
	}
	if !passwordFormShown() {
		t.Fatal("the ID・パスワード方式 form is hidden before any contract answered")
	}

	pickUpAndLogIn(t, u, "kanri", password)
	tap(t, u, "ログアウト")
	u.wait()
	assertShows(t, u, note)
	if passwordFormShown() {
		t.Fatal("the form is shown though the only contract that answered is in certificate mode")
	}

	tap(t, u, "ID・パスワードを入力する")
	typeInto(t, u, false, 0, "suzuki")
	typeInto(t, u, false, 1, otherPassword)
	tap(t, u, "ログイン")
	assertTitle(t, u, "ログイン中")
	tap(t, u, "ログアウト")
	u.wait()
	if !passwordFormShown() || strings.Contains(screenText(u), note) {
		t.Fatal("after a password login of a contract not in certificate mode, the start screen still says certificate mode")
	}

	// suzuki's contract switches: its admin picks up a certificate.
	if err := op.IssueCertificate(ctx, "suzuki"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.backend.(*agent.Agent).Pickup(ctx, "suzuki", otherPassword, nil); err != nil {
		t.Fatal(err)
	}
	typeInto(t, u, false, 0, "suzuki")
	typeInto(t, u, false, 1, otherPassword)
	tap(t, u, "ログイン")
	assertShows(t, u, agent.Message(&agent.Error{Code: wire.CodeCertificateRequired}, "ja"))
	u.Home()
	u.wait()
	assertShows(t, u, note)
}

// TestTheOwnPasswordChangesAgainstTheRealServer: kanri logs in with its
// certificate, changes its login password in パスワード変更 (the real agent and
// server: POST /api/v1/password), is back on the start screen, and the old
// password no longer logs in while the new one does.
func TestTheOwnPasswordChangesAgainstTheRealServer(t *testing.T) {
	bank, password := startRealBank(t)
	u := newRealUI(t, bank)
	pickUp(t, u, "kanri", password)
	login := func(pw string) {
		t.Helper()
		tap(t, u, "電子証明書ログイン")
		typeFocused(t, u, pw)
		pressKey(u, "Return")
		u.wait()
	}
	login(password)
	assertTitle(t, u, "ログイン中")

	const fresh = "Atarashii-Kanri-2026"
	tap(t, u, "パスワード変更")
	typeInto(t, u, true, 0, password)
	typeInto(t, u, true, 1, fresh)
	typeInto(t, u, true, 2, fresh)
	tap(t, u, "変更する")
	assertTitle(t, u, "ログイン")
	assertShows(t, u, "ログインパスワードを変更しました。")
	pressKey(u, "Return")

	login(password)
	assertShows(t, u, agent.Message(&agent.Error{Code: wire.CodeInvalidCredentials}, "ja"))
	u.Home()
	u.wait()
	login(fresh)
	assertTitle(t, u, "ログイン中")
}
