//go:build no_emoji

package ui

// dropFyneEmojiFont has nothing to drop: the no_emoji build tag leaves the
// emoji font out of Fyne.
func dropFyneEmojiFont() {}
