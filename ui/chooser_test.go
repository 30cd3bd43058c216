package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// rows returns the certificate rows on the screen, in order.
func rows(u *UI) []*identityRow {
	var rs []*identityRow
	for _, o := range objects(u) {
		if r, ok := o.(*identityRow); ok {
			rs = append(rs, r)
		}
	}
	return rs
}

func TestChooserListsTwoIDsWithBadgesAndLogsInWithTheChosenOne(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	u := newTestUI(t, f)
	tap(t, u, "電子証明書ログイン")

	assertTitle(t, u, "電子証明書の選択")
	rs := rows(u)
	if len(rs) != 2 || rs[0].id.Label != "yamada+1376" || rs[1].id.Label != "suzuki+1376" {
		t.Fatalf("the chooser lists %d rows, want yamada+1376 then suzuki+1376", len(rs))
	}
	assertShows(t, u, "山田商事株式会社　権限：管理者　有効期限：2026年12月3日", "更新できます", "有効", "あと 12 日")
	test.AssertImageMatches(t, "chooser.png", u.win.Canvas().Capture())

	// The first row has the keyboard: Tab to the second and press Enter.
	u.win.Canvas().FocusNext()
	pressKey(u, "Return")
	assertTitle(t, u, "電子証明書ログイン")
	assertShows(t, u, "suzuki+1376")

	typeFocused(t, u, "wrong")
	pressKey(u, "Return")
	assertShows(t, u, "お客様IDまたはログインパスワードが正しくありません。")

	typeFocused(t, u, f.password)
	pressKey(u, "Return")
	assertTitle(t, u, "ログイン中")
	assertShows(t, u, "鈴木 花子 様", "電子証明書方式（suzuki+1376）", "現在、重要なお知らせはありません。")
	if got := f.calls[len(f.calls)-1]; got != "Login "+string(f.ids[1].Fingerprint) {
		t.Fatalf("last call %q, want a login with suzuki's certificate", got)
	}
}

func TestChooserIsSkippedWithOneUsableCertificate(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	f.ids[1].State = agent.StateRevoked
	u := newTestUI(t, f)
	tap(t, u, "電子証明書ログイン")
	assertTitle(t, u, "電子証明書ログイン")
	assertShows(t, u, "yamada+1376")
}

func TestChooserArrowKeysMoveTheSelection(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	tap(t, u, "電子証明書ログイン")
	assertTitle(t, u, "電子証明書の選択")
	rs := rows(u)
	focused := func() string {
		t.Helper()
		r, ok := u.win.Canvas().Focused().(*identityRow)
		if !ok {
			t.Fatalf("the keyboard is on %T, want a certificate row", u.win.Canvas().Focused())
		}
		return r.id.Label
	}
	if got := focused(); got != rs[0].id.Label {
		t.Fatalf("the keyboard starts on %s, want the first row %s", got, rs[0].id.Label)
	}
	pressKey(u, fyne.KeyUp) // already at the top: stays
	if got := focused(); got != "yamada+1376" {
		t.Fatalf("↑ on the first row moved to %s", got)
	}
	pressKey(u, fyne.KeyDown)
	if got := focused(); got != "suzuki+1376" {
		t.Fatalf("↓ moved to %s, want suzuki+1376", got)
	}
	if !rs[1].focused || rs[0].focused {
		t.Fatal("after ↓ the second row is not drawn as the selected one")
	}
	pressKey(u, fyne.KeyDown) // already at the bottom: stays
	if got := focused(); got != "suzuki+1376" {
		t.Fatalf("↓ on the last row moved to %s", got)
	}
	pressKey(u, fyne.KeyUp)
	if got := focused(); got != "yamada+1376" {
		t.Fatalf("↑ moved to %s, want yamada+1376", got)
	}
	pressKey(u, fyne.KeyDown)
	pressKey(u, fyne.KeyReturn) // Enter chooses the row the arrows reached
	assertTitle(t, u, "電子証明書ログイン")
	assertShows(t, u, "suzuki+1376")
}

func TestChooserEscapeGoesBack(t *testing.T) {
	u := newTestUI(t, newFakeBackend().withTwoIdentities())
	tap(t, u, "電子証明書ログイン")
	pressKey(u, "Return") // yamada+1376
	assertTitle(t, u, "電子証明書ログイン")
	pressKey(u, "Escape") // from the password field
	assertTitle(t, u, "電子証明書の選択")
	pressKey(u, "Escape")
	assertTitle(t, u, "ログイン")
}

func TestChooserExplainsARevokedCertificate(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	f.ids[0].State = agent.StateRevoked
	f.ids[1].State = agent.StateExpired
	u := newTestUI(t, f)
	tap(t, u, "電子証明書ログイン")
	assertTitle(t, u, "電子証明書の選択")
	test.Tap(rows(u)[0])
	assertShows(t, u, "電子証明書 yamada+1376 は失効しています。管理者または当金庫に再発行を依頼してください。")
}

func TestChooserWithNoCertificateOffersPickup(t *testing.T) {
	u := newTestUI(t, newFakeBackend())
	tap(t, u, "電子証明書ログイン")
	assertShows(t, u, "このパソコンには電子証明書がありません。")
	tap(t, u, "電子証明書取得")
	assertTitle(t, u, "電子証明書取得")
}

func TestLeavingTheChooserWhileItLoadsKeepsTheUserWhereTheyWent(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	f.gate = make(chan struct{})
	test.Tap(findButton(t, u, "電子証明書ログイン"))
	assertTitle(t, u, "電子証明書の選択")
	u.pressEscape() // the user gives up waiting
	close(f.gate)
	u.wait()
	assertTitle(t, u, "ログイン")
}

func TestChooserRefusesAnUnusableCertificateAndSaysWhatToDo(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	f.ids[0].State = agent.StateUnusable
	f.ids[0].Problem = `key "inkan-1" in Microsoft Software Key Storage Provider: NCryptOpenKey returned 0x80070005 (ERROR_ACCESS_DENIED)`
	u := newTestUI(t, f)
	tap(t, u, "電子証明書ログイン")
	// One usable certificate is left, so the chooser is skipped for it.
	assertTitle(t, u, "電子証明書ログイン")
	assertShows(t, u, "suzuki+1376")

	f.ids[1].State = agent.StateExpired
	u = newTestUI(t, f)
	tap(t, u, "電子証明書ログイン")
	assertTitle(t, u, "電子証明書の選択")
	assertShows(t, u, "使用不可")
	test.Tap(rows(u)[0])
	assertShows(t, u, "電子証明書 yamada+1376 の秘密鍵をこのパソコンで開けないため、使用できません。「電子証明書の管理」で削除し、管理者（管理者IDの場合は当金庫）に再発行を依頼してください。")
	for _, c := range f.calls {
		if c == "Login "+string(f.ids[0].Fingerprint) {
			t.Fatal("the chooser logged in with an unusable certificate")
		}
	}
}

func TestARevokedRefusalShowsTheChooserWithTheCertificateRevoked(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	f.errs["Login"] = refusal(wire.CodeCertificateRevoked)
	u := newTestUI(t, f)
	tap(t, u, "電子証明書ログイン")
	u.win.Canvas().FocusNext()
	pressKey(u, "Return") // suzuki+1376, valid for 212 days
	typeFocused(t, u, f.password)
	pressKey(u, "Return")

	assertTitle(t, u, "電子証明書の選択")
	rs := rows(u)
	if len(rs) != 2 || rs[1].id.State != agent.StateRevoked {
		t.Fatalf("after the bank refused suzuki+1376 as revoked the chooser lists %d rows, the second %v; want it revoked", len(rs), rs[1].id.State)
	}
	text := screenText(u)
	if strings.Contains(text, "あと 212 日") {
		t.Errorf("the revoked row still counts its days:\n%s", text)
	}
	assertShows(t, u, "失効", "この電子証明書は使えません")
}
