package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/inkan-dev/inkan/wire"
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
	assertShows(t, u, "sato+1376", "山田商事株式会社（C-0001）", "一般者", "5A3C0001",
		"2026年11月21日 10:00 ～ 2027年11月21日 10:00", strings.ToUpper(string(id.Fingerprint[:8])))
	test.AssertImageMatches(t, "pickup_done.png", u.win.Canvas().Capture())

	pressKey(u, "Return")
	assertTitle(t, u, "ログイン")
}

func TestPickupWithAWrongPasswordStaysOnTheFormWithTheIDKept(t *testing.T) {
	f := newFakeBackend()
	u := newTestUI(t, f)
	tap(t, u, "電子証明書取得")
	typeInto(t, u, false, 0, "sato")
	typeInto(t, u, false, 1, "not-the-password")
	tap(t, u, "取得")
	// The bank checked the password at 取得前処理中: no 取得開始 for a refused login.
	assertTitle(t, u, "電子証明書取得")
	assertShows(t, u, "お客様IDまたはログインパスワードが正しくありません。")
	if fs := fields(u, false); fs[0].(*entry).Text != "sato" || fs[1].(*entry).Text != "" {
		t.Errorf("after a refusal the form holds %q and a password of %d characters, want sato and an empty password", fs[0].(*entry).Text, len(fs[1].(*entry).Text))
	}
	if f, ok := u.win.Canvas().Focused().(*entry); !ok || !f.Password {
		t.Errorf("the keyboard is on %T, want the password field", u.win.Canvas().Focused())
	}
	for _, c := range f.calls {
		if strings.HasPrefix(c, "Pickup ") {
			t.Fatalf("a pickup was started after the bank refused the password: %v", f.calls)
		}
	}
	if len(f.ids) != 0 {
		t.Fatalf("a refused pickup left %d certificates", len(f.ids))
	}
}

func TestPickupRefusedAtIssueOffersARetryThatKeepsTheID(t *testing.T) {
	f := newFakeBackend()
	f.errs["Pickup"] = refusal(wire.CodePickupLapsed)
	u := newTestUI(t, f)
	tap(t, u, "電子証明書取得")
	typeInto(t, u, false, 0, "sato")
	typeInto(t, u, false, 1, f.password)
	tap(t, u, "取得")
	assertTitle(t, u, "電子証明書取得開始")
	tap(t, u, "取得")
	assertTitle(t, u, "電子証明書を取得できませんでした")
	tap(t, u, "もう一度取得する")
	assertTitle(t, u, "電子証明書取得")
	if id := fields(u, false)[0].(*entry).Text; id != "sato" {
		t.Errorf("もう一度取得する cleared the ID: the field holds %q, want sato", id)
	}
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
