//go:build !no_emoji

package ui

import (
	_ "unsafe" // go:linkname

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// fyneEmojiFont is Fyne's theme.emoji, a *fyne.StaticResource in the default
// build (with the no_emoji build tag it is an interface, hence this file's tag).
//
//go:linkname fyneEmojiFont fyne.io/fyne/v2/theme.emoji
var fyneEmojiFont *fyne.StaticResource

// dropFyneEmojiFont puts Fyne's 9 KB symbol font in the place of its 4 MB
// emoji font, which it would otherwise parse for every text style. Fyne has no
// place for no emoji font but the no_emoji build tag, which every build of the
// window would have to carry; and a nil *StaticResource would be a non-nil
// fyne.Resource that Fyne reads and crashes on.
func dropFyneEmojiFont() {
	if symbols, ok := theme.DefaultSymbolFont().(*fyne.StaticResource); ok {
		fyneEmojiFont = symbols
	}
}
