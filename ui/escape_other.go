//go:build !cgo || android || ios || wasm || js || mobile

package ui

// catchEscape does nothing without Fyne's desktop driver (the tests' headless
// one, mobile): there is no GLFW window to put a key callback on. The tests
// call escapeFromFyne themselves.
func (u *UI) catchEscape() {}
