//go:build !linux

package ui

// trayAvailable reports whether closing the window may hide it to the tray:
// Windows and macOS always have a notification area.
func trayAvailable() bool { return true }
