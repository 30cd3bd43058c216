package ui

import (
	"testing"
	_ "unsafe" // go:linkname, to read what Fyne's painter loaded

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/go-text/typesetting/fontscan"
)

// fyneSystemFonts is Fyne's index of the system's fonts (painter.fm), nil until
// it looks them up.
//
//go:linkname fyneSystemFonts fyne.io/fyne/v2/internal/painter.fm
var fyneSystemFonts *fontscan.FontMap

// TestWindowDrawsWithTheBundledFontsOnly holds ui/fonts.go: once the window has
// drawn Japanese in every text style it uses, Fyne has neither indexed nor loaded
// a system font, and hands out no big emoji font to parse.
func TestWindowDrawsWithTheBundledFontsOnly(t *testing.T) {
	a := test.NewApp()
	defer a.Quit()
	u := New(a, Options{ConfigPath: "bank.json", Open: func(string, string) (Backend, error) {
		return newFakeBackend().withTwoIdentities(), nil
	}})
	u.wait()
	text := "初期ログインパスワード：8〜128文字、電子証明書の有効期限 2027年12月2日"
	u.win.SetContent(widget.NewRichTextWithText(text))
	for _, style := range []widget.RichTextStyle{widget.RichTextStyleInline, widget.RichTextStyleStrong, widget.RichTextStyleCodeInline} {
		r := widget.NewRichTextWithText(text)
		r.Segments[0].(*widget.TextSegment).Style = style
		u.win.SetContent(r)
		u.win.Canvas().Capture()
	}
	if fyneSystemFonts != nil {
		t.Error("Fyne indexed the system's fonts to draw the window")
	}
	if f := theme.DefaultEmojiFont(); f != nil && len(f.Content()) > 100<<10 {
		t.Errorf("Fyne still hands out its %d KB emoji font %s", len(f.Content())>>10, f.Name())
	}
}
