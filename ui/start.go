package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
)

// startInfo is what the start screen and the tray load in the background: the
// certificates on this PC and their expiry warnings.
type startInfo struct {
	ids      []*agent.Identity
	warnings []agent.Warning
}

// showStart shows the bank's login screen as the seeds draw it: the ID・パスワード方式
// box for contracts still on passwords, and the 電子証明書方式 box with
// 電子証明書ログイン, 電子証明書取得 and 電子証明書再取得/更新.
func (u *UI) showStart() {
	u.session = nil
	banner := container.NewVBox()

	var loginID, password *entry
	errText := errorLabel()
	var loginButton *button
	bankItem, bank, followID := u.bankChoice()
	submit := func() {
		code := bank()
		if bankItem != nil && code == "" {
			errText.SetText(t("bank.missing"))
			errText.Show()
			return
		}
		loginButton.Disable()
		id, pw := loginID.Text, password.Text
		u.run(func(ctx context.Context) (any, error) {
			return u.passwordLoginAt(ctx, code, id, pw)
		}, func(res any, err error) {
			loginButton.Enable()
			if err != nil {
				password.SetText("")
				u.setError(errText, err)
				return
			}
			u.showSession(res.(*agent.Session))
		})
	}
	loginID = u.newEntry("", func() { u.win.Canvas().Focus(password) })
	loginID.OnChanged = followID
	password = u.newPasswordEntry(submit)
	loginButton = u.newButton(t("start.login"), false, submit)
	passwordForm := widget.NewForm(
		widget.NewFormItem(t("field.customerid"), loginID),
		widget.NewFormItem(t("field.loginpassword"), password),
	)
	if bankItem != nil {
		passwordForm.Items = append([]*widget.FormItem{bankItem}, passwordForm.Items...)
	}
	passwordBox := section(t("start.password.title"),
		wrapped(t("start.password.help")),
		passwordForm,
		errText,
		buttons(loginButton),
	)

	certLogin := u.newButton(t("start.certlogin"), true, u.showChooser)
	pickup := u.newButton(t("start.pickup"), false, u.showPickup)
	renew := u.newButton(t("start.renew"), false, u.showRenewChoice)
	certBox := section(t("start.cert.title"),
		wrapped(t("start.cert.help")),
		buttons(certLogin),
		wrapped(t("start.pickup.help")),
		buttons(pickup),
		wrapped(t("start.renew.help")),
		buttons(renew),
	)

	tools := buttons(
		u.newButton(t("nav.certificates"), false, u.showCertificates),
		u.newButton(t("nav.settings"), false, u.showSettings),
	)
	// Side by side, ID・パスワード方式 first, as the bank's login page has them.
	boxes := container.NewGridWithColumns(2, passwordBox, certBox)
	u.screen(t("start.title"), container.NewVBox(banner, boxes, tools), nil, certLogin)

	u.load(func(ctx context.Context) (any, error) {
		ids, err := u.backend.Identities(ctx)
		if err != nil {
			return nil, err
		}
		warnings, err := u.backend.Warnings(ctx, nil)
		return startInfo{ids: ids, warnings: warnings}, err
	}, func(res any, err error) {
		if err != nil {
			banner.Add(u.errorBanner(err))
			u.relayout()
			return
		}
		info := res.(startInfo)
		if len(info.ids) == 0 {
			// Nothing to log in with yet: the first thing to do here is 電子証明書取得.
			u.win.Canvas().Focus(pickup)
		}
		if w, ok := mostUrgent(info.warnings); ok {
			banner.Add(u.expiryBanner(w))
		}
		u.tray.update(info.ids)
	})
}

// mostUrgent picks the warning to show first: the highest level, then the fewest
// days left.
func mostUrgent(ws []agent.Warning) (agent.Warning, bool) {
	var best agent.Warning
	found := false
	for _, w := range ws {
		if w.Level == agent.LevelNone {
			continue
		}
		if !found || w.Level > best.Level || (w.Level == best.Level && w.DaysLeft < best.DaysLeft) {
			best, found = w, true
		}
	}
	return best, found
}

// expiryBanner warns at the top of the start screen that a certificate expires
// soon or has expired, with the way out: 更新 while it is possible, otherwise
// asking the bank or the admin for 再発行.
func (u *UI) expiryBanner(w agent.Warning) fyne.CanvasObject {
	id := w.Identity
	data := map[string]any{"Label": id.Label, "Date": date(id.NotAfter), "Days": daysText(w.DaysLeft)}
	var text string
	switch {
	case w.Level == agent.LevelExpired && w.Renewable:
		text = t("banner.expired.renewable", data)
	case w.Level == agent.LevelExpired:
		text = t("banner.expired", data)
	default:
		text = t("banner.expiring", data)
	}
	icon := widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))
	if w.Level == agent.LevelExpired {
		icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
	}
	row := []fyne.CanvasObject{container.NewBorder(nil, nil, icon, nil, wrapped(text))}
	if w.Renewable {
		row = append(row, buttons(u.newButton(t("notice.renew"), true, func() { u.showRenew(id) })))
	}
	return section(t("banner.title"), row...)
}

// errorBanner says at the top of a screen that its data could not be loaded.
func (u *UI) errorBanner(err error) fyne.CanvasObject {
	msg := wrapped(u.message(err))
	msg.Importance = widget.DangerImportance
	return msg
}
