package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/inkan-dev/inkan/wire"
)

func TestStartScreenOffersBothLoginMethodsAndWarnsOfExpiry(t *testing.T) {
	u := newTestUI(t, newFakeBackend().withTwoIdentities())
	assertTitle(t, u, "ログイン")
	assertShows(t, u, "いんかん信用金庫", "ID・パスワード方式のお客様", "電子証明書方式のお客様",
		"電子証明書 yamada+1376 の有効期限は 2026年12月3日 です（あと 12 日）。期限が切れるとログインできなくなります。お早めに更新してください。")
	for _, b := range []string{"ログイン", "電子証明書ログイン", "電子証明書取得", "電子証明書再取得/更新", "電子証明書の更新はこちら"} {
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
