package ui

import "os"

// trayAvailable reports whether closing the window may hide it to the tray. On
// Linux the tray needs a session bus with a StatusNotifier host; without one the
// icon never appears, and a hidden window could not be brought back.
func trayAvailable() bool {
	return os.Getenv("DBUS_SESSION_BUS_ADDRESS") != ""
}
