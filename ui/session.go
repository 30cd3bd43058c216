package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// showSession is the screen after login: who is logged in, the bank's
// 重要なお知らせ with the renewal notice and its 電子証明書の更新はこちら, and for an
// admin ID the way to 利用者管理.
func (u *UI) showSession(s *agent.Session) {
	u.session = s
	name := s.User.DisplayName
	if name == "" {
		name = s.User.LoginID
	}
	who := widget.NewForm(
		widget.NewFormItem(t("field.customerid"), widget.NewLabel(s.User.LoginID)),
		widget.NewFormItem(t("field.contract"), widget.NewLabel(s.User.ContractName)),
		widget.NewFormItem(t("field.role"), widget.NewLabel(roleText(s.User.Role))),
		widget.NewFormItem(t("field.lastlogin"), widget.NewLabel(lastLogin(s.User))),
	)
	method := t("session.method.password")
	if s.Identity != nil {
		method = t("session.method.cert", map[string]any{"Label": s.Identity.Label})
	}
	who.Append(t("field.method"), widget.NewLabel(method))

	logout := u.newButton(t("session.logout"), false, func() { u.logout(s) })
	parts := []fyne.CanvasObject{
		section(t("session.welcome", map[string]any{"Name": name}), who),
		u.notices(s),
	}
	if s.User.Role == wire.RoleAdmin {
		manage := u.newButton(t("admin.title"), true, func() { u.showAdmin(s) })
		parts = append(parts, section(t("admin.title"), wrapped(t("session.admin.help")), buttons(manage)))
	}
	change := u.newButton(t("session.password"), false, func() { u.changePassword(s) })
	parts = append(parts, buttons(change, logout))
	// Nothing takes the keyboard at first, so a stray Enter does not log out.
	u.screen(t("session.title"), container.NewVBox(parts...), nil, nil)
}

// lastLogin is when the user logged in before, or a dash the first time.
func lastLogin(user wire.User) string {
	if user.LastLoginAt == nil {
		return "—"
	}
	return dateTime(*user.LastLoginAt)
}

// notices is the 重要なお知らせ box. The renewal notice is written in the window's
// language from its dates; the bank's free-text notices are shown as sent.
func (u *UI) notices(s *agent.Session) fyne.CanvasObject {
	if len(s.Notices) == 0 {
		return section(t("notice.title"), wrapped(t("notice.none")))
	}
	var parts []fyne.CanvasObject
	for i, n := range s.Notices {
		if i > 0 {
			parts = append(parts, widget.NewSeparator())
		}
		title, body := n.Title, n.Body
		if n.Kind == wire.NoticeRenewalDue {
			data := map[string]any{"Days": daysText(n.DaysLeft), "Date": "—"}
			if n.NotAfter != nil {
				data["Date"] = date(*n.NotAfter)
			}
			title, body = t("notice.renewal.title"), t("notice.renewal.body", data)
		}
		heading := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		heading.Importance = widget.DangerImportance
		parts = append(parts, heading, wrapped(body))
		if n.Action == wire.ActionRenew && s.Identity != nil {
			id := s.Identity
			link := widget.NewHyperlink(t("notice.renew"), nil)
			link.OnTapped = func() { u.showRenew(id) }
			parts = append(parts, link)
		}
	}
	return section(t("notice.title"), parts...)
}

// logout ends the session on the server, then returns to the start screen even
// if the server could not be reached: the session dies there on its own.
func (u *UI) logout(s *agent.Session) {
	u.run(func(ctx context.Context) (any, error) {
		return nil, u.backend.Logout(ctx, s)
	}, func(_ any, err error) {
		u.Home()
		if err != nil {
			fyne.LogError("logout", err)
		}
	})
}
