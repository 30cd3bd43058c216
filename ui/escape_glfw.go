//go:build cgo && !android && !ios && !wasm && !js && !mobile

package ui

import "github.com/go-gl/glfw/v3.3/glfw"

// catchEscape puts a key callback in front of Fyne's own on the window, once,
// so that an Escape Fyne would hand to one of its own widgets in a file dialog
// reaches escapeFromFyne instead (see there). Fyne has no place for this: a key
// without modifiers goes to the focused widget alone (no shortcut, no canvas
// handler sees it while a widget has the keyboard), and Fyne's Entry, Button,
// List and Check in its file dialog do nothing with Escape. The callback is
// GLFW's, which Fyne's desktop driver sets on the window it creates and which
// hands back the callback it replaces, so every other key goes on to Fyne as
// before. It works on a window of Fyne's desktop driver only (RunWithContext
// makes that window's GL context current, where GLFW names the window); on any
// other it does nothing.
func (u *UI) catchEscape() {
	if u.escapeCaught {
		return
	}
	w, ok := u.win.(interface{ RunWithContext(func()) })
	if !ok {
		return
	}
	w.RunWithContext(func() {
		gw := glfw.GetCurrentContext()
		if gw == nil {
			return
		}
		var fyneKeys glfw.KeyCallback
		fyneKeys = gw.SetKeyCallback(func(gw *glfw.Window, key glfw.Key, scancode int, action glfw.Action, mods glfw.ModifierKey) {
			if key == glfw.KeyEscape && action == glfw.Press && mods == 0 && u.escapeFromFyne() {
				return
			}
			if fyneKeys != nil {
				fyneKeys(gw, key, scancode, action, mods)
			}
		})
		u.escapeCaught = true
	})
}
