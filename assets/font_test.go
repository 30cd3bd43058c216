package assets

import (
	"bytes"
	"io/fs"
	"os"
	"testing"

	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
)

// TestFontLineHoldsItsDescenders holds the fix for clipped descenders at its
// root: the line box Fyne lays text in (the font's ascender and descender) must
// hold the glyphs the window draws, Latin and Japanese, or their bottoms are cut
// off wherever a widget clips. IPAex Gothic itself fails this (descender -246
// units, g reaches -401); scripts/make-font.py derives the bundled font from it.
func TestFontLineHoldsItsDescenders(t *testing.T) {
	ld, err := ot.NewLoader(bytes.NewReader(Font.Content()))
	if err != nil {
		t.Fatal(err)
	}
	ft, err := font.NewFont(ld)
	if err != nil {
		t.Fatal(err)
	}
	face := font.NewFace(ft)
	ext, ok := face.FontHExtents()
	if !ok {
		t.Fatal("the font has no horizontal line metrics")
	}
	for _, r := range "gjpqy,;()[]{}_|QJ、。，）」』】ゃょ漢字お客様ＩＤ" {
		gid, ok := face.NominalGlyph(r)
		if !ok {
			t.Errorf("the font has no glyph for %q", r)
			continue
		}
		g, _ := face.GlyphExtents(gid)
		if bottom := g.YBearing + g.Height; bottom < ext.Descender {
			t.Errorf("%q reaches %v units below the baseline, the line only %v: its bottom would be clipped", r, -bottom, -ext.Descender)
		}
		if top := g.YBearing; top > ext.Ascender {
			t.Errorf("%q reaches %v units above the baseline, the line only %v: its top would be clipped", r, top, ext.Ascender)
		}
	}
}

// TestFontCoversTheWindowsText holds that the bundled font draws every character
// of the window's own texts: the translations and the server's messages
// (wire/messages.go), which the agent shows as they come. Fyne falls back to a
// system font for a character the font lacks (so 〜 in 「8〜128文字」 was drawn in
// IPAGothic, and as a box on a PC without Japanese fonts), and the window does
// not load system fonts at all (ui/fonts.go).
func TestFontCoversTheWindowsText(t *testing.T) {
	face, err := font.ParseTTF(bytes.NewReader(Font.Content()))
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(Translations, "translations/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no translations (%v)", err)
	}
	texts := map[string][]byte{}
	for _, name := range files {
		if texts[name], err = Translations.ReadFile(name); err != nil {
			t.Fatal(err)
		}
	}
	if texts["wire/messages.go"], err = os.ReadFile("../wire/messages.go"); err != nil {
		t.Fatal(err)
	}
	for name, text := range texts {
		missing := map[rune]bool{}
		for _, r := range string(text) {
			if _, ok := face.NominalGlyph(r); !ok && r >= ' ' && !missing[r] {
				missing[r] = true
				t.Errorf("%s: the font has no glyph for %q (%U)", name, r, r)
			}
		}
	}
}
