// Package assets holds what the Inkan desktop agent ships inside its binary: the
// application icon, the Japanese font its theme draws every string with, and the
// translations of the user interface.
//
// The font is Inkan Gothic, derived from IPAex Gothic (IPA Font License v1.0, see
// IPA_Font_License.txt) by scripts/make-font.py, which sets its line descender to the
// depth its glyphs really reach so descenders are not clipped (the source font is in
// fontsrc/, which the binary does not embed). It is
// embedded rather than looked up on the system so that Japanese renders on a PC with
// no Japanese font installed, and so that the GUI's golden test images do not depend
// on the fonts of the machine that runs the tests.
package assets

import (
	"embed"

	"fyne.io/fyne/v2"
)

//go:embed icon.png
var iconPNG []byte

//go:embed inkan-gothic.ttf
var inkanGothic []byte

// Icon is the application icon: a red round seal with 印, 512x512.
var Icon = fyne.NewStaticResource("icon.png", iconPNG)

// Font is Inkan Gothic, the font of every proportional text style.
var Font = fyne.NewStaticResource("inkan-gothic.ttf", inkanGothic)

// Translations holds translations/<lang>.json, one file per language the user
// interface speaks ("ja", "en"), in the flat JSON form Fyne's lang package reads.
//
//go:embed translations/*.json
var Translations embed.FS
