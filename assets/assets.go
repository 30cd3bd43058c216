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

//go:embed seal.png
var sealPNG []byte

//go:embed inkan-gothic.otf
var inkanGothic []byte

// Icon is the application icon: a red round seal with 印, 512x512.
var Icon = fyne.NewStaticResource("icon.png", iconPNG)

// Seal is the icon at 96x96, for the seal in the window's header (40 units,
// so sharp up to 240 %): decoding and scaling the 512x512 icon there cost a
// tenth of the time before the first frame. Made by ImageMagick from icon.png
// (convert icon.png -filter Lanczos -resize 96x96 seal.png).
var Seal = fyne.NewStaticResource("seal.png", sealPNG)

// Font is Inkan Gothic, the font of every proportional text style.
var Font = fyne.NewStaticResource("inkan-gothic.otf", inkanGothic)

// Translations holds translations/<lang>.json, one file per language the user
// interface speaks ("ja", "en"), in the flat JSON form Fyne's lang package reads.
//
//go:embed translations/*.json
var Translations embed.FS
