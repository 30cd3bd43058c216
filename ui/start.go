package ui

import (
	"context"
	"slices"

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
// 電子証明書ログイン, 電子証明書取得 and 電子証明書再取得・更新. What it stresses
// follows the state: with no certificate on this PC 電子証明書取得 is the primary
// button, and once the bank said the contract is in certificate mode the
// ID・パスワード方式 box says so instead of asking for a password.
func (u *UI) showStart() {
	u.session = nil
	banner := container.NewVBox()

	var loginID, password *entry
	errText := errorLabel()
	var loginButton *button
	busy := newBusyRow(t("login.busy"))
	bankItem, bank, followID := u.bankChoice()
	submit := func() {
		if loginButton.Disabled() {
			return // the answer to the last press is still awaited
		}
		code := bank()
		if bankItem != nil && code == "" {
			errText.SetText(t("bank.missing"))
			errText.Show()
			return
		}
		errText.Hide()
		busy.start(loginButton)
		id, pw := loginID.Text, password.Text
		u.run(func(ctx context.Context) (any, error) {
			return u.passwordLoginAt(ctx, code, id, pw)
		}, func(res any, err error) {
			busy.stop(loginButton)
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
	form := container.NewVBox(wrapped(t("start.password.help")), passwordForm, errText, buttons(busy.row, loginButton))
	var passwordBox fyne.CanvasObject
	// The agent remembers, per contract, what the bank answered of certificate
	// mode (a small local file, not the bank); one it cannot read costs only
	// the note.
	if certMode, _ := u.backend.CertificateMode(); certMode {
		// The server refuses ID・パスワード方式 for every contract that logged in
		// here: say so, and keep the form one press away for an ID of another.
		form.Hide()
		note := wrapped(t("start.password.certmode"))
		var show *button
		show = u.newButton(t("start.password.show"), false, func() {
			note.Hide()
			show.Hide()
			form.Show()
			u.relayout()
			u.win.Canvas().Focus(loginID)
		})
		passwordBox = section(t("start.password.title"), note, buttons(show), form)
	} else {
		passwordBox = section(t("start.password.title"), form)
	}

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
			// Nothing to log in with yet: the first thing to do here is
			// 電子証明書取得, so it is the primary button and has the keyboard.
			certLogin.Importance = widget.MediumImportance
			pickup.Importance = widget.HighImportance
			certLogin.Refresh()
			pickup.Refresh()
			u.win.Canvas().Focus(pickup)
		}
		if ws := urgentFirst(info.warnings); len(ws) > 0 {
			banner.Add(u.expiryBanner(ws))
			u.relayout()
		}
		u.tray.update(info.ids)
	})
}

// urgentFirst are the warnings that say something, the most urgent first: the
// highest level, then the fewest days left.
func urgentFirst(ws []agent.Warning) []agent.Warning {
	var out []agent.Warning
	for _, w := range ws {
		if w.Level != agent.LevelNone {
			out = append(out, w)
		}
	}
	slices.SortStableFunc(out, func(a, b agent.Warning) int {
		if a.Level != b.Level {
			return int(b.Level) - int(a.Level)
		}
		return a.DaysLeft - b.DaysLeft
	})
	return out
}

// busyRow is a spinner and a line that say a request is on its way to the
// bank, beside the button that sent it, which is disabled meanwhile.
type busyRow struct {
	row      *fyne.Container
	activity *widget.Activity
}

func newBusyRow(text string) *busyRow {
	b := &busyRow{activity: widget.NewActivity()}
	b.row = container.NewHBox(b.activity, widget.NewLabel(text))
	b.row.Hide()
	return b
}

// start shows the row and disables the button.
func (b *busyRow) start(button *button) {
	button.Disable()
	b.row.Show()
	b.activity.Start()
}

// stop hides the row and enables the button again.
func (b *busyRow) stop(button *button) {
	b.activity.Stop()
	b.row.Hide()
	button.Enable()
}

// expiryBanner warns at the top of the start screen of every certificate that
// expires soon or has expired, the most urgent first, each with its way out:
// 更新 while it is possible, otherwise asking the bank or the admin for 再発行.
func (u *UI) expiryBanner(ws []agent.Warning) fyne.CanvasObject {
	var rows []fyne.CanvasObject
	for i, w := range ws {
		if i > 0 {
			rows = append(rows, widget.NewSeparator())
		}
		rows = append(rows, u.expiryRow(w)...)
	}
	return section(t("banner.title"), rows...)
}

// expiryRow is one certificate's warning in the banner.
func (u *UI) expiryRow(w agent.Warning) []fyne.CanvasObject {
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
	return row
}

// errorBanner says at the top of a screen that its data could not be loaded.
func (u *UI) errorBanner(err error) fyne.CanvasObject {
	msg := wrapped(u.message(err))
	msg.Importance = widget.DangerImportance
	return msg
}
