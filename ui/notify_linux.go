package ui

import (
	"fmt"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"github.com/godbus/dbus/v5"

	"github.com/inkan-dev/inkan/assets"
)

// deliverNotification shows n through the desktop's notification server
// (org.freedesktop.Notifications on the session bus) and says whether it got
// there. Fyne's own SendNotification only logs a failure, so without a session
// bus an expiry warning would be taken as sent and never sent again.
func deliverNotification(a fyne.App, n *fyne.Notification) error {
	conn, err := dbus.SessionBus() // shared with Fyne and the tray: not closed here
	if err != nil {
		return fmt.Errorf("connecting to the session bus for a notification: %w", err)
	}
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	call := obj.Call("org.freedesktop.Notifications.Notify", 0, a.UniqueID(), uint32(0),
		notificationIcon(), n.Title, n.Content, []string{}, map[string]dbus.Variant{}, int32(-1))
	if call.Err != nil {
		return fmt.Errorf("sending a notification to the desktop: %w", call.Err)
	}
	return nil
}

// notificationIcon is the path of the app icon for the notification server,
// written once to the user's cache directory; "" (no icon) when it cannot be.
func notificationIcon() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	path := filepath.Join(dir, "inkan", "notification-icon.png")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if os.MkdirAll(filepath.Dir(path), 0o700) != nil || os.WriteFile(path, assets.Icon.Content(), 0o600) != nil {
		return ""
	}
	return path
}
