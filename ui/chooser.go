package ui

import (
	"context"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// showChooser starts 電子証明書ログイン. With one usable certificate on this PC no
// choice is asked; with several, the 電子証明書の選択 screen lists them, last used
// first.
func (u *UI) showChooser() {
	u.withIdentities(t("chooser.title"), func(ids []*agent.Identity) {
		if id, ok := agent.AutoChoice(ids); ok {
			u.showCertPassword(id, u.Home)
			return
		}
		u.showChooserList(ids)
	})
}

// showChooserList is 電子証明書の選択.
func (u *UI) showChooserList(ids []*agent.Identity) {
	if len(ids) == 0 {
		pickup := u.newButton(t("start.pickup"), true, u.showPickup)
		body := container.NewVBox(wrapped(t("chooser.none")), buttons(u.newButton(t("button.back"), false, u.Home), pickup))
		u.screen(t("chooser.title"), body, u.Home, pickup)
		return
	}
	back := func() { u.showChooserList(ids) }
	rows := container.NewVBox(wrapped(t("chooser.text")))
	var list []*identityRow
	for _, id := range ids {
		row := u.newIdentityRow(id, func(id *agent.Identity) { u.chooseIdentity(id, back) })
		list = append(list, row)
		rows.Add(row)
	}
	linkRows(list)
	rows.Add(buttons(u.newButton(t("button.back"), false, u.Home)))
	u.screen(t("chooser.title"), rows, u.Home, list[0])
}

// chooseIdentity goes on with the chosen certificate: to its password when it can
// log in, to 更新 when it expired but can still be renewed, and otherwise explains
// why it cannot be used and what to do.
func (u *UI) chooseIdentity(id *agent.Identity, back func()) {
	switch {
	case id.State.Usable():
		u.showCertPassword(id, back)
	case id.State == agent.StateExpiredRenewable:
		u.confirm(t("chooser.expired.title"), t("chooser.expired.renewable", map[string]any{"Label": id.Label}), t("notice.renew"), func() { u.showRenew(id) })
	default:
		u.showMessage(t("chooser.unusable.title"), t("chooser.unusable."+string(id.State), map[string]any{"Label": id.Label}))
	}
}

// showCertPassword asks for the login password of the chosen certificate's ID:
// the certificate proves the PC, the password proves the person.
func (u *UI) showCertPassword(id *agent.Identity, back func()) {
	errText := errorLabel()
	var password *entry
	var login *button
	busy := newBusyRow(t("login.busy"))
	submit := func() {
		if login.Disabled() {
			return // the answer to the last press is still awaited
		}
		errText.Hide()
		busy.start(login)
		pw := password.Text
		u.run(func(ctx context.Context) (any, error) {
			return u.backend.Login(ctx, id.Fingerprint, pw)
		}, func(res any, err error) {
			busy.stop(login)
			if err != nil && agent.Code(err) == wire.CodeCertificateRevoked {
				// The agent now lists it as revoked: show the list as it is, so
				// this row no longer says 有効, and why.
				msg := u.message(err)
				u.withIdentities(t("chooser.title"), func(ids []*agent.Identity) {
					u.showChooserList(ids)
					u.showMessage(t("chooser.unusable.title"), msg)
				})
				return
			}
			if err != nil {
				password.SetText("")
				u.setError(errText, err)
				u.win.Canvas().Focus(password)
				return
			}
			u.showSession(res.(*agent.Session))
		})
	}
	password = u.newPasswordEntry(submit)
	login = u.newButton(t("start.login"), true, submit)
	body := container.NewVBox(
		wrapped(t("login.text")),
		u.newIdentityRow(id, func(*agent.Identity) { u.win.Canvas().Focus(password) }),
		widget.NewForm(widget.NewFormItem(t("field.loginpassword"), password)),
		errText,
		buttons(busy.row, u.newButton(t("button.back"), false, back), login),
	)
	u.screen(t("login.title"), body, back, password)
}
