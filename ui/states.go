package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// stateColor is the colour of a certificate's badge: green while it is fine,
// orange while it wants renewing, red when it can no longer log in.
func stateColor(s agent.State) color.Color {
	switch s {
	case agent.StateValid:
		return theme.Color(theme.ColorNameSuccess)
	case agent.StateExpiring, agent.StateRenewable, agent.StateExpiredRenewable:
		return theme.Color(theme.ColorNameWarning)
	case agent.StateNotYetValid:
		return theme.Color(theme.ColorNameDisabled)
	}
	return theme.Color(theme.ColorNameError)
}

// badge is a certificate's state as a coloured tag, as the chooser shows it.
func badge(s agent.State) fyne.CanvasObject {
	c := stateColor(s)
	r, g, b, _ := c.RGBA()
	bg := canvas.NewRectangle(color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x30})
	bg.CornerRadius = 4
	text := canvas.NewText(t("state."+string(s)), c)
	text.TextStyle.Bold = true
	return container.NewStack(bg, container.NewPadded(text))
}

// roleText names a role as the seeds do: 管理者, 承認者, 一般者.
func roleText(r wire.Role) string { return t("role." + string(r)) }

// certStateText names where an ID's certificate stands on the server.
func certStateText(s wire.CertState) string { return t("cert." + string(s)) }

// daysText says how long a certificate has left, or how long ago it expired.
func daysText(days int) string {
	if days < 0 {
		return t("days.ago", map[string]any{"Days": -days})
	}
	return t("days.left", map[string]any{"Days": days})
}
