package ui

import (
	"bytes"
	"image"
	"image/color"
	_ "image/png" // the seal
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"github.com/inkan-dev/inkan/assets"
)

// inkanTheme is Fyne's default theme with the bundled Japanese font and the red
// of a seal as its primary colour. It is always light: the bank's pages and the
// Windows office programs next to it are, and one look keeps screenshots and the
// golden test images the same on every machine.
type inkanTheme struct{}

// NewTheme returns the Inkan theme. It also turns off Fyne's system-font and
// emoji fallbacks (useBundledFontsOnly), which the theme's font makes needless.
func NewTheme() fyne.Theme {
	useBundledFontsOnly()
	return inkanTheme{}
}

var (
	sealRed   = color.NRGBA{R: 0xb3, G: 0x1b, B: 0x1b, A: 0xff}
	sealFocus = color.NRGBA{R: 0xb3, G: 0x1b, B: 0x1b, A: 0x66}
	sealLight = color.NRGBA{R: 0xb3, G: 0x1b, B: 0x1b, A: 0x40}
)

// sealImage is the header's seal (assets.Seal) decoded once: a canvas.Image made
// from the resource decodes the PNG again each time its screen is refreshed,
// 22.7 MB of garbage over a walk through every screen (heap profile), and the
// garbage is what lifts the peak of Go's heap; one made from an image does not.
var sealImage = sync.OnceValue(func() image.Image {
	img, _, err := image.Decode(bytes.NewReader(assets.Seal.Content()))
	if err != nil {
		fyne.LogError("failed to decode the header's seal", err)
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	}
	return img
})

// Color implements fyne.Theme.
func (inkanTheme) Color(name fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	switch name {
	case theme.ColorNamePrimary:
		return sealRed
	case theme.ColorNameFocus:
		return sealFocus
	case theme.ColorNameSelection:
		return sealLight
	}
	return theme.DefaultTheme().Color(name, theme.VariantLight)
}

// Font implements fyne.Theme: IPAex Gothic for all text but monospace, which
// stays Fyne's own so fingerprints and serial numbers line up.
func (inkanTheme) Font(style fyne.TextStyle) fyne.Resource {
	if style.Monospace {
		return theme.DefaultTheme().Font(style)
	}
	return assets.Font
}

// Icon implements fyne.Theme.
func (inkanTheme) Icon(name fyne.ThemeIconName) fyne.Resource {
	return theme.DefaultTheme().Icon(name)
}

// Size implements fyne.Theme.
func (inkanTheme) Size(name fyne.ThemeSizeName) float32 {
	return theme.DefaultTheme().Size(name)
}
