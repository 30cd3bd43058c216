package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

func TestFocusedPrimaryButtonDrawsARingUnlikeItsRed(t *testing.T) {
	u := newTestUI(t, newFakeBackend().withTwoIdentities())
	b, ok := u.win.Canvas().Focused().(*button)
	if !ok || b.Importance != widget.HighImportance || b.Text != "電子証明書ログイン" {
		t.Fatalf("the start screen gives the keyboard to %T, want the primary 電子証明書ログイン button", u.win.Canvas().Focused())
	}
	r := test.WidgetRenderer(b).(*focusRingRenderer)
	if !r.ring.Visible() {
		t.Fatal("the focused primary button shows no focus ring")
	}
	if r.ring.StrokeColor == theme.Color(theme.ColorNamePrimary) || r.ring.StrokeWidth < 2 {
		t.Fatalf("the ring is %v, %v wide: it does not stand out from the primary colour", r.ring.StrokeColor, r.ring.StrokeWidth)
	}
	u.win.Canvas().FocusNext()
	if r.ring.Visible() {
		t.Fatal("the ring stays after the button lost the keyboard")
	}
}
