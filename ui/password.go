package ui

import (
	"context"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// changePassword is パスワード変更 from ログイン中: the user's own login
// password, current one first, the new one twice, with the bank's rule. A
// refusal is said under the form with the field concerned focused, and the
// dialog stays. Once changed, the bank has ended every session of the ID, this
// one included: the window goes back to the start screen and says to log in
// with the new password.
func (u *UI) changePassword(s *agent.Session) {
	var change *button
	current := u.newPasswordEntry(nil)
	fresh := u.newPasswordEntry(nil)
	confirm := u.newPasswordEntry(func() { change.OnTapped() })
	current.OnSubmitted = func(string) { u.win.Canvas().Focus(fresh) }
	fresh.OnSubmitted = func(string) { u.win.Canvas().Focus(confirm) }
	form := widget.NewForm(
		widget.NewFormItem(t("field.currentpassword"), current),
		widget.NewFormItem(t("field.newpassword"), fresh),
		widget.NewFormItem(t("field.confirmnewpassword"), confirm),
	)
	errText := errorLabel()
	var d dialog.Dialog
	change = u.newButton(t("password.change.button"), true, nil)
	change.OnTapped = func() {
		if change.Disabled() {
			return // the bank's answer to the last press is still awaited
		}
		if fresh.Text != confirm.Text {
			errText.SetText(t("password.change.mismatch"))
			errText.Show()
			confirm.SetText("")
			u.win.Canvas().Focus(confirm)
			return
		}
		cur, next := current.Text, fresh.Text
		change.Disable()
		u.run(func(ctx context.Context) (any, error) {
			return nil, u.backend.ChangePassword(ctx, s, cur, next)
		}, func(_ any, err error) {
			change.Enable()
			switch {
			case err == nil:
				d.Hide()
				u.session = nil
				u.Home()
				u.showMessage(t("password.change.title"), t("password.change.done"))
			case agent.Code(err) == wire.CodeInvalidCredentials:
				errText.SetText(t("password.change.wrongcurrent"))
				errText.Show()
				current.SetText("")
				u.win.Canvas().Focus(current)
			case agent.Code(err) == wire.CodeWeakPassword:
				u.setError(errText, err)
				fresh.SetText("")
				confirm.SetText("")
				u.win.Canvas().Focus(fresh)
			default:
				u.setError(errText, err)
			}
		})
	}
	cancel := u.newButton(t("button.cancel"), false, func() { d.Hide() })
	content := container.NewVBox(wrapped(t("password.change.text")), form, wrapped(t("password.change.hint")), errText, buttons(cancel, change))
	d = dialog.NewCustomWithoutButtons(t("password.change.title"), content, u.win)
	u.showDialog(d, 560)
	u.win.Canvas().Focus(current)
}
