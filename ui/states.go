package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// Badge colours: dark enough for white text on them to stay readable, which the
// theme's own success and warning colours are not.
var (
	badgeGreen  = color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
	badgeOrange = color.NRGBA{R: 0xb2, G: 0x5a, B: 0x00, A: 0xff}
	badgeRed    = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	badgeGrey   = color.NRGBA{R: 0x61, G: 0x61, B: 0x61, A: 0xff}
)

// stateColor is the colour of a certificate's badge: green while it is fine,
// orange while it wants renewing, red when it can no longer log in.
func stateColor(s agent.State) color.Color {
	switch s {
	case agent.StateValid:
		return badgeGreen
	case agent.StateExpiring, agent.StateRenewable, agent.StateExpiredRenewable:
		return badgeOrange
	case agent.StateNotYetValid:
		return badgeGrey
	}
	return badgeRed
}

// badge is a certificate's state as a coloured tag, as the chooser shows it.
func badge(s agent.State) fyne.CanvasObject { return tag(t("state."+string(s)), stateColor(s)) }

// tag is a short text in white on a coloured ground.
func tag(label string, c color.Color) fyne.CanvasObject {
	bg := canvas.NewRectangle(c)
	bg.CornerRadius = 4
	text := canvas.NewText(label, color.White)
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

// stateDaysText is what a certificate's badge has beside it: the days it has
// left, or how long ago it expired; nothing for a revoked one, whose days no
// longer count (「あと 364 日」 beside 失効 read as if it still worked).
func stateDaysText(id *agent.Identity) string {
	if id.State == agent.StateRevoked {
		return ""
	}
	return daysText(id.DaysLeft)
}
