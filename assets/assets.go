// Package assets holds what the Inkan desktop agent ships inside its binary: the
// application icon, the Japanese font its theme draws every string with, and the
// translations of the user interface.
//
// The font is IPAex Gothic (IPA Font License v1.0, see IPA_Font_License.txt). It is
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

//go:embed ipaexg.ttf
var ipaexGothic []byte

// Icon is the application icon: a red round seal with 印, 512x512.
var Icon = fyne.NewStaticResource("icon.png", iconPNG)

// Font is IPAex Gothic, the font of every proportional text style.
var Font = fyne.NewStaticResource("ipaexg.ttf", ipaexGothic)

// Translations holds translations/<lang>.json, one file per language the user
// interface speaks ("ja", "en"), in the flat JSON form Fyne's lang package reads.
//
//go:embed translations/*.json
var Translations embed.FS
