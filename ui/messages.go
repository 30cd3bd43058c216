package ui

import (
	"errors"
	"io/fs"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
)

// message is what the user reads about err: what happened and what to do, in the
// window's language. The agent owns these texts, so the GUI and inkanctl say the same.
func (u *UI) message(err error) string {
	if errors.Is(err, errNoConfig) {
		return t("error.noconfig")
	}
	var cfgErr *agent.ConfigError
	if errors.As(err, &cfgErr) {
		return agent.Message(err, u.lang)
	}
	// Reading or writing a backup file fails on the PC, not in the agent.
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return t("error.file", map[string]any{"File": pathErr.Path})
	}
	return agent.Message(err, u.lang)
}

// showError tells the user that something failed, in a dialog they must close.
func (u *UI) showError(err error) {
	u.showMessage(t("error.title"), u.message(err))
}

// showMessage shows a short text in a dialog with one close button.
func (u *UI) showMessage(title, text string) {
	u.showDialog(dialog.NewCustom(title, t("button.ok"), container.NewPadded(wrapped(text)), u.win), 480)
}

// confirm asks before a destructive action; action names the button that does it,
// so the user reads what will happen on the button itself.
func (u *UI) confirm(title, text, action string, ok func()) {
	d := dialog.NewCustomConfirm(title, action, t("button.cancel"), container.NewPadded(wrapped(text)), func(yes bool) {
		if yes {
			ok()
		}
	}, u.win)
	u.showDialog(d, 480)
}

// errorLabel is the red line under a form that says why it was refused. Showing
// the error in place, rather than in a dialog, keeps the typed ID in view.
func errorLabel() *widget.Label {
	l := widget.NewLabel("")
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	l.Hide()
	return l
}

// setError shows err's message in l, or hides l when err is nil.
func (u *UI) setError(l *widget.Label, err error) {
	if err == nil {
		l.Hide()
		return
	}
	l.SetText(u.message(err))
	l.Show()
}
