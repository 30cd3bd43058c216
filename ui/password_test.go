package ui

import (
	"testing"
)

// パスワード変更 from ログイン中: a wrong current password, a confirmation
// that differs and a password the policy refuses each stay in the dialog, said
// under the form with the field concerned focused; the change itself ends the
// session (the bank ended it) and says to log in with the new password, which
// then works.
func TestChangingTheOwnPasswordEndsTheSessionAndTheNewOneWorks(t *testing.T) {
	f := newFakeBackend().withUsers()
	u := newTestUI(t, f)
	typeInto(t, u, false, 0, "suzuki")
	typeInto(t, u, false, 1, f.password)
	tap(t, u, "ログイン")
	assertTitle(t, u, "ログイン中")
	old := f.password
	const fresh = "Atarashii-2026-haru"

	tap(t, u, "パスワード変更")
	assertShows(t, u, "ログインパスワードの変更", "8〜128文字")
	focusedField := func() field {
		t.Helper()
		for _, fl := range fields(u, true) {
			if u.win.Canvas().Focused() == fl {
				return fl
			}
		}
		return nil
	}
	fs := fields(u, true)
	if len(fs) != 3 || focusedField() != fs[0] {
		t.Fatalf("the dialog has %d fields, the keyboard on %T; want 3, on 現在のログインパスワード", len(fs), u.win.Canvas().Focused())
	}
	submit := func(cur, next, again string) {
		t.Helper()
		typeInto(t, u, true, 0, cur)
		typeInto(t, u, true, 1, next)
		typeInto(t, u, true, 2, again)
		tap(t, u, "変更する")
	}
	submit("Wrong-2026-pass", fresh, fresh)
	assertShows(t, u, "現在のログインパスワードが正しくありません。")
	if focusedField() != fields(u, true)[0] || u.dialog == nil {
		t.Fatal("after a wrong current password the dialog closed or the keyboard left 現在のログインパスワード")
	}
	submit(old, fresh, fresh+"x")
	assertShows(t, u, "新しいログインパスワードと確認の入力が一致しません。")
	if focusedField() != fields(u, true)[2] {
		t.Fatal("after a differing confirmation the keyboard is not on it")
	}
	submit(old, "short", "short")
	if focusedField() != fields(u, true)[1] || u.dialog == nil {
		t.Fatal("after a weak password the dialog closed or the keyboard left 新しいログインパスワード")
	}
	if f.password != old {
		t.Fatal("a refused change changed the password")
	}

	submit(old, fresh, fresh)
	assertTitle(t, u, "ログイン")
	assertShows(t, u, "ログインパスワードを変更しました。新しいパスワードでもう一度ログインしてください。")
	if u.session != nil || f.password != fresh {
		t.Fatalf("after the change: session %v, password changed %v", u.session != nil, f.password == fresh)
	}
	pressKey(u, "Return") // closes the message
	typeInto(t, u, false, 0, "suzuki")
	typeInto(t, u, false, 1, fresh)
	tap(t, u, "ログイン")
	assertTitle(t, u, "ログイン中")
}
