package assets

import (
	"bytes"
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
