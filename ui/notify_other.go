//go:build !linux

package ui

import "fyne.io/fyne/v2"

// deliverNotification shows n through Fyne. On Windows Fyne shows a toast from a
// PowerShell script and on macOS asks the user-notification center; neither
// tells the app whether the notification was shown, so it counts as delivered.
func deliverNotification(a fyne.App, n *fyne.Notification) error {
	a.SendNotification(n)
	return nil
}
