package ui

import (
	"sync"
	_ "unsafe" // go:linkname, to turn off two of Fyne's font fallbacks
)

// Fyne 2.7 (internal/painter/font.go) gives every text style it draws (regular,
// bold, monospace, …) a list of faces that it parses anew for that style: the
// theme's font, its own Noto Sans, its 4 MB colour emoji font and the system font
// it finds for the operating system's language (IPAGothic under ja_JP here, Yu
// Gothic or Meiryo on Japanese Windows), which it looks up even when the theme's
// font has every character, after indexing all the system's fonts into the
// user's cache on the first start. It has no setting for either. The bundled font
// draws every character of the window's texts (assets.TestFontCoversTheWindowsText;
// Noto Sans stays for other Latin, Greek and Cyrillic), so the window loads
// neither (the emoji font gives its place to the 9 KB symbol font): measured under Xvfb after a walk through every screen, the emoji font
// was 14 MB of Go heap (three styles) and IPAGothic 13.7 MB, and the first start
// no longer indexes the system's fonts. A character no bundled font has is drawn
// as the font's empty box instead of in a system font.
//
// The two variables are Fyne's own: painter.loaded says the system fonts were
// looked for (and painter.fm, left nil, that none were found); theme.emoji is the
// emoji font theme.DefaultEmojiFont hands out. A Fyne that renames them fails to
// link, so an update cannot quietly bring the fonts back.
//
//go:linkname fyneSystemFontsLooked fyne.io/fyne/v2/internal/painter.loaded
var fyneSystemFontsLooked bool

var bundledFontsOnly sync.Once

// useBundledFontsOnly turns Fyne's system-font and emoji fallbacks off; it must
// run before the first text is measured or drawn.
func useBundledFontsOnly() {
	bundledFontsOnly.Do(func() {
		fyneSystemFontsLooked = true
		dropFyneEmojiFont()
	})
}
