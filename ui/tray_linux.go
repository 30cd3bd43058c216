package ui

import (
	"github.com/godbus/dbus/v5"
)

// trayAvailable reports whether the tray icon can work. On Linux the tray is a
// StatusNotifierItem on the session bus: without a bus, Fyne's systray panics when
// the app quits (it closes a connection it never made), and without a
// StatusNotifier host the icon never appears, so a window hidden to the tray could
// not be brought back.
func trayAvailable() bool {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	defer conn.Close()
	var owned bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&owned)
	return err == nil && owned
}
