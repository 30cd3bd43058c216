package ui

import "testing"

func TestEnterPressesTheFocusedDialogButton(t *testing.T) {
	u := newTestUI(t, newFakeBackend())
	u.showMessage("お知らせ", "保存しました。")
	pressKey(u, "Return")
	if u.dialog != nil {
		t.Fatal("Enter on the dialog's OK left it open")
	}
	done := false
	u.confirm("失効", "失効させますか。", "失効", func() { done = true })
	pressKey(u, "Return") // キャンセル has the keyboard
	if u.dialog != nil || done {
		t.Fatalf("Enter on キャンセル: dialog open %v, action run %v", u.dialog != nil, done)
	}
	u.confirm("失効", "失効させますか。", "失効", func() { done = true })
	u.win.Canvas().FocusNext()
	pressKey(u, "Return")
	if u.dialog != nil || !done {
		t.Fatalf("Enter on 失効: dialog open %v, action run %v", u.dialog != nil, done)
	}
}
