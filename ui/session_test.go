package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// loginAs logs in with the n-th certificate of the fake through the chooser.
func loginAs(t *testing.T, u *UI, f *fakeBackend, n int) {
	t.Helper()
	tap(t, u, "電子証明書ログイン")
	test.Tap(rows(u)[n])
	typeFocused(t, u, f.password)
	pressKey(u, "Return")
	assertTitle(t, u, "ログイン中")
}

// link returns the hyperlink labelled text.
func link(t *testing.T, u *UI, text string) *widget.Hyperlink {
	t.Helper()
	for _, o := range objects(u) {
		if l, ok := o.(*widget.Hyperlink); ok && l.Text == text {
			return l
		}
	}
	t.Fatalf("no link %q; the screen shows:\n%s", text, screenText(u))
	return nil
}

func TestRenewalNoticeAfterLoginRenewsTheCertificate(t *testing.T) {
	f := newFakeBackend().withTwoIdentities().withUsers()
	u := newTestUI(t, f)
	loginAs(t, u, f, 0)
	assertShows(t, u, "重要なお知らせ", "電子証明書の有効期限が近づいています",
		"ご利用中の電子証明書の有効期限は 2026年12月3日 です（あと 12 日）。", "利用者管理")
	test.AssertImageMatches(t, "session_notice.png", u.win.Canvas().Capture())

	old := f.ids[0].Fingerprint
	l := link(t, u, "電子証明書の更新はこちら")
	test.TapAt(l, fyne.NewPos(20, l.Size().Height/2)) // on the text, which starts at the left
	assertTitle(t, u, "電子証明書の更新")
	tap(t, u, "更新")
	assertTitle(t, u, "更新完了")
	if f.ids[0].Fingerprint == old {
		t.Fatal("the certificate was not renewed")
	}
	assertShows(t, u, "2027年11月21日 10:00")

	// The session was bound to the superseded certificate: it is over, and
	// the way on is to log in with the new one.
	assertShows(t, u, "ログイン中の画面は、古い電子証明書とともに終了しました。新しい電子証明書で、もう一度ログインしてください。")
	if u.session != nil {
		t.Fatal("the window still holds the session of the superseded certificate")
	}
	tap(t, u, "ログイン")
	assertTitle(t, u, "電子証明書ログイン")
	typeFocused(t, u, f.password)
	pressKey(u, "Return")
	assertTitle(t, u, "ログイン中")
	assertShows(t, u, "現在、重要なお知らせはありません。")
	if got := f.calls[len(f.calls)-1]; got != "Login "+string(f.ids[0].Fingerprint) {
		t.Fatalf("last call %q, want a login with the renewed certificate", got)
	}

	tap(t, u, "ログアウト")
	assertTitle(t, u, "ログイン")
	if u.session != nil || f.calls[len(f.calls)-3] != "Logout yamada" {
		t.Fatalf("not logged out: calls %v", f.calls)
	}
}

func TestRenewFromTheStartScreenGoesStraightToTheOneRenewableCertificate(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	tap(t, u, "電子証明書再取得・更新")
	assertTitle(t, u, "電子証明書の更新")
	assertShows(t, u, "電子証明書 yamada+1376（有効期限 2026年12月3日）を更新します。")
}

func TestRenewalRefusedShowsTheAgentsMessage(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	f.errs["Renew"] = refusal("renewal_window_closed")
	u := newTestUI(t, f)
	tap(t, u, "電子証明書の更新はこちら")
	tap(t, u, "更新")
	assertTitle(t, u, "電子証明書を更新できませんでした")
	tap(t, u, "OK")
	assertTitle(t, u, "ログイン")
}

func TestRenewWhenNothingIsRenewableSaysWhen(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	f.ids = f.ids[1:]
	u := newTestUI(t, f)
	tap(t, u, "電子証明書再取得・更新")
	assertShows(t, u, "いま更新できる電子証明書はありません。更新は有効期限の 30 日前から有効期限の 90 日後までできます。")
}
