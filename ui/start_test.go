package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

func TestStartScreenOffersBothLoginMethodsAndWarnsOfExpiry(t *testing.T) {
	u := newTestUI(t, newFakeBackend().withTwoIdentities())
	assertTitle(t, u, "ログイン")
	assertShows(t, u, "いんかん信用金庫", "ID・パスワード方式のお客様", "電子証明書方式のお客様",
		"電子証明書 yamada+1376 の有効期限は 2026年12月3日 です（あと 12 日）。期限が切れるとログインできなくなります。お早めに更新してください。")
	for _, b := range []string{"ログイン", "電子証明書ログイン", "電子証明書取得", "電子証明書再取得・更新", "電子証明書の更新はこちら"} {
		findButton(t, u, b)
	}
	test.AssertImageMatches(t, "start.png", u.win.Canvas().Capture())
}

func TestPasswordLoginShowsTheAgentsMessageOnAWrongPassword(t *testing.T) {
	f := newFakeBackend().withUsers()
	u := newTestUI(t, f)
	typeInto(t, u, false, 0, "suzuki")
	typeInto(t, u, false, 1, "wrong")
	tap(t, u, "ログイン")
	assertTitle(t, u, "ログイン")
	assertShows(t, u, "お客様IDまたはログインパスワードが正しくありません。")

	typeInto(t, u, false, 1, f.password)
	pressKey(u, "Return")
	assertTitle(t, u, "ログイン中")
	assertShows(t, u, "鈴木 花子 様", "ID・パスワード方式")
	if u.session == nil || u.session.User.Role != wire.RoleApprover {
		t.Fatalf("session = %+v, want suzuki as approver", u.session)
	}
}

func TestStartScreenWithoutConfigurationOpensSettings(t *testing.T) {
	a := test.NewTempApp(t)
	u := New(a, Options{Open: func(string, string) (Backend, error) { return newFakeBackend(), nil }})
	endWithTest(t, u)
	assertTitle(t, u, "設定")
	assertShows(t, u, "金融機関の設定ファイルが指定されていません。")
}

func TestStartScreenAt200PercentKeepsEverythingInView(t *testing.T) {
	u := newTestUI(t, newFakeBackend().withTwoIdentities())
	u.win.Canvas().(test.WindowlessCanvas).SetScale(2)
	test.AssertImageMatches(t, "start_200pct.png", u.win.Canvas().Capture())
}

// assertControlsInView fails when a control of the screen reaches past the
// window's right edge: the screen scrolls down, never sideways, so such a control
// would be cut off.
func assertControlsInView(t *testing.T, u *UI) {
	t.Helper()
	c := u.win.Canvas()
	c.Capture()
	width := c.Size().Width
	for _, o := range objects(u) {
		if _, ok := o.(fyne.Focusable); !ok || !o.Visible() {
			continue
		}
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
		if right := pos.X + o.Size().Width; right > width+0.5 {
			t.Errorf("%T at x=%.0f..%.0f reaches past the window's width %.0f", o, pos.X, right, width)
		}
	}
}

func TestEveryScreenFitsItsWidthAt200Percent(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	u := newTestUI(t, f)
	u.win.Canvas().(test.WindowlessCanvas).SetScale(2)
	u.win.Resize(fyne.NewSize(840, 640))
	assertControlsInView(t, u)
	tap(t, u, "設定")
	assertControlsInView(t, u)
	tap(t, u, "戻る")
	tap(t, u, "電子証明書の管理")
	assertControlsInView(t, u)
	tap(t, u, "バックアップ")
	assertControlsInView(t, u)
	pressKey(u, fyne.KeyEscape)
	tap(t, u, "ログイン画面へ")
	loginAs(t, u, f, 0)
	assertControlsInView(t, u)
	tap(t, u, "利用者管理")
	assertControlsInView(t, u)
	tap(t, u, "利用者の追加")
	assertControlsInView(t, u)
}

func TestStartScreenListsEveryExpiringCertificateMostUrgentFirst(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	f.ids = append(f.ids, fakeIdentity("sato", wire.RoleGeneral, 3, testNow.AddDate(-1, 0, 5), agent.StateRenewable))
	u := newTestUI(t, f)
	text := screenText(u)
	sato := strings.Index(text, "電子証明書 sato+1376 の有効期限は 2026年11月26日 です（あと 5 日）")
	yamada := strings.Index(text, "電子証明書 yamada+1376 の有効期限は 2026年12月3日 です（あと 12 日）")
	if sato < 0 || yamada < 0 || sato > yamada {
		t.Fatalf("the banner does not list sato (5 days) before yamada (12 days); it shows:\n%s", text)
	}
	if strings.Contains(text, "suzuki+1376 の有効期限") {
		t.Errorf("the banner lists suzuki, whose certificate is valid for months:\n%s", text)
	}
	var renew int
	for _, o := range objects(u) {
		if b, ok := o.(*button); ok && b.Text == "電子証明書の更新はこちら" {
			renew++
		}
	}
	if renew != 2 {
		t.Errorf("%d 電子証明書の更新はこちら buttons, want one for each of the two", renew)
	}
}

func TestStartScreenWithoutCertificatesMakesPickupThePrimaryButton(t *testing.T) {
	u := newTestUI(t, newFakeBackend())
	pickup, login := findButton(t, u, "電子証明書取得"), findButton(t, u, "電子証明書ログイン")
	if pickup.Importance != widget.HighImportance || login.Importance == widget.HighImportance {
		t.Errorf("with no certificate on the PC: 電子証明書取得 importance %v, 電子証明書ログイン %v; want 取得 the primary one", pickup.Importance, login.Importance)
	}
	if f, ok := u.win.Canvas().Focused().(*button); !ok || f.Text != "電子証明書取得" {
		t.Errorf("the keyboard is on %T, want 電子証明書取得", u.win.Canvas().Focused())
	}

	u = newTestUI(t, newFakeBackend().withTwoIdentities())
	if login := findButton(t, u, "電子証明書ログイン"); login.Importance != widget.HighImportance {
		t.Errorf("with certificates on the PC, 電子証明書ログイン has importance %v, want primary", login.Importance)
	}
}

func TestStartScreenOnceTheBankSaidCertificateModeAsksForNoPassword(t *testing.T) {
	f := newFakeBackend().withUsers()
	f.errs["PasswordLogin"] = refusal(wire.CodeCertificateRequired)
	u := newTestUI(t, f)
	typeInto(t, u, false, 0, "suzuki")
	typeInto(t, u, false, 1, f.password)
	tap(t, u, "ログイン")
	assertTitle(t, u, "ログイン")

	u.Home()
	u.wait()
	assertShows(t, u, "ご契約は電子証明書方式になっているため、ID・パスワード方式ではログインできません。「電子証明書ログイン」をご利用ください。")
	for _, o := range shown(u) {
		if _, ok := o.(*entry); ok {
			t.Fatalf("an ID or password field is shown after the bank said the contract is in certificate mode")
		}
	}
	// An ID of another contract can still use it.
	tap(t, u, "ID・パスワードを入力する")
	if _, ok := u.win.Canvas().Focused().(*entry); !ok {
		t.Errorf("the keyboard is on %T after ID・パスワードを入力する, want the お客様ID field", u.win.Canvas().Focused())
	}
}

func TestLoginShowsThatItWaitsForTheBankAndTakesOnePress(t *testing.T) {
	f := newFakeBackend().withUsers()
	f.loginGate = make(chan struct{})
	u := newTestUI(t, f)
	typeInto(t, u, false, 0, "suzuki")
	typeInto(t, u, false, 1, f.password)
	login := findButton(t, u, "ログイン")
	test.Tap(login) // no wait: the bank has not answered yet
	if !login.Disabled() {
		t.Errorf("ログイン is enabled while the bank has not answered")
	}
	assertShows(t, u, "当金庫に接続しています…")
	pw := fields(u, false)[1]
	u.win.Canvas().Focus(pw)
	pw.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) // Enter again while waiting
	close(f.loginGate)
	u.wait()
	assertTitle(t, u, "ログイン中")
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, "PasswordLogin ") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d password logins sent, want 1: a second Enter while waiting must not send another", n)
	}
}
