package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestPickupByKeyboardInstallsTheCertificateAndShowsItsDetails(t *testing.T) {
	f := newFakeBackend()
	u := newTestUI(t, f)

	// With no certificate on the PC, the start screen gives the keyboard to 電子証明書取得.
	pressKey(u, "Return")
	assertTitle(t, u, "電子証明書取得")
	typeFocused(t, u, "sato")
	pressKey(u, "Return") // moves to the password
	typeFocused(t, u, f.password)
	pressKey(u, "Return")

	assertTitle(t, u, "電子証明書取得開始")
	assertShows(t, u, "sato", "フォルダー /home/yamada/.local/share/inkan")
	pressKey(u, "Return") // 取得 has the keyboard

	assertTitle(t, u, "インストール完了")
	id := f.ids[0]
	assertShows(t, u, "sato+1376", "山田商事株式会社 (C-0001)", "一般者", "5A3C0001",
		"2026年11月21日 10:00 ～ 2027年11月21日 10:00", strings.ToUpper(string(id.Fingerprint[:8])))
	test.AssertImageMatches(t, "pickup_done.png", u.win.Canvas().Capture())

	pressKey(u, "Return")
	assertTitle(t, u, "ログイン")
}

func TestPickupWithAWrongPasswordSaysWhatToDo(t *testing.T) {
	f := newFakeBackend()
	u := newTestUI(t, f)
	tap(t, u, "電子証明書取得")
	typeInto(t, u, false, 0, "sato")
	typeInto(t, u, false, 1, "not-the-password")
	tap(t, u, "取得")
	tap(t, u, "取得")
	assertTitle(t, u, "電子証明書を取得できませんでした")
	assertShows(t, u, "お客様IDまたはログインパスワードが正しくありません。")
	if len(f.ids) != 0 {
		t.Fatalf("a refused pickup left %d certificates", len(f.ids))
	}
	tap(t, u, "もう一度取得する")
	assertTitle(t, u, "電子証明書取得")
}

func TestPickupWarnsThatItReplacesTheIDsCertificate(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	tap(t, u, "電子証明書取得")
	typeInto(t, u, false, 0, "suzuki")
	typeInto(t, u, false, 1, f.password)
	tap(t, u, "取得")
	assertTitle(t, u, "電子証明書取得開始")
	assertShows(t, u, "このパソコンにはすでに suzuki+1376 の電子証明書（有効期限 2027年6月21日）があります。")
}

func TestPickupAsksForBothFields(t *testing.T) {
	u := newTestUI(t, newFakeBackend())
	tap(t, u, "電子証明書取得")
	tap(t, u, "取得")
	assertTitle(t, u, "電子証明書取得")
	assertShows(t, u, "お客様IDとログインパスワードを入力してください。")
}

func TestPickupEscapeCancelsBackToTheStartScreen(t *testing.T) {
	u := newTestUI(t, newFakeBackend())
	pressKey(u, "Return") // 電子証明書取得 has the keyboard
	assertTitle(t, u, "電子証明書取得")
	typeFocused(t, u, "sato")
	pressKey(u, "Escape")
	assertTitle(t, u, "ログイン")
}
