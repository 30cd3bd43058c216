package ui

import (
	"errors"
	"io/fs"
	"strings"

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

// showMessage shows a short text in a dialog with one close button, which has
// the keyboard: Enter (or Space, or Escape) closes it. The buttons of every
// dialog are the window's own (see keys.go), since Fyne's answer Space only.
func (u *UI) showMessage(title, text string) {
	var d dialog.Dialog
	ok := u.newButton(t("button.ok"), true, func() { d.Hide() })
	d = dialog.NewCustomWithoutButtons(title, container.NewVBox(container.NewPadded(wrapped(text)), buttons(ok)), u.win)
	u.showDialog(d, 480)
	u.win.Canvas().Focus(ok)
}

// confirm asks before a destructive action; action names the button that does it,
// so the user reads what will happen on the button itself. キャンセル has the
// keyboard, so a stray Enter takes nothing away; Tab reaches the action.
func (u *UI) confirm(title, text, action string, ok func()) {
	var d dialog.Dialog
	cancel := u.newButton(t("button.cancel"), false, func() { d.Hide() })
	yes := u.newButton(action, true, func() {
		d.Hide()
		ok()
	})
	d = dialog.NewCustomWithoutButtons(title, container.NewVBox(container.NewPadded(wrapped(text)), buttons(cancel, yes)), u.win)
	u.showDialog(d, 480)
	u.win.Canvas().Focus(cancel)
}

// errorLabel is the red line under a form that says why it was refused. Showing
// the error in place, rather than in a dialog, keeps the typed ID in view.
func errorLabel() *errorText {
	e := &errorText{msg: newParagraph(""), detail: newParagraph("")}
	e.ExtendBaseWidget(e)
	e.msg.Importance = widget.DangerImportance
	e.detail.TextStyle.Monospace = true
	e.detail.Hide() // folded until its heading is opened (the accordion shows it then)
	e.more = widget.NewAccordion(widget.NewAccordionItem(t("error.details"), e.detail))
	e.more.Hide()
	e.Hide()
	return e
}

// errorText is an error under a form: the agent's sentence, what happened and
// what to do, in the window's language; and, folded away under 技術的な詳細, the
// technical detail the agent adds for the bank's help desk (an OS error, a
// field of the configuration), which is English and not for office staff.
type errorText struct {
	widget.BaseWidget
	msg, detail *paragraph
	more        *widget.Accordion
}

// CreateRenderer implements fyne.Widget.
func (e *errorText) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewVBox(e.msg, e.more))
}

// Show implements fyne.CanvasObject: the boxes around make room for it at once.
func (e *errorText) Show() {
	e.BaseWidget.Show()
	settle(e)
}

// Hide implements fyne.CanvasObject: the boxes around close up at once.
func (e *errorText) Hide() {
	e.BaseWidget.Hide()
	settle(e)
}

// SetText shows text, which has no technical detail.
func (e *errorText) SetText(text string) { e.set(text, "") }

// set shows the sentence, and the detail folded under it when there is one.
func (e *errorText) set(sentence, detail string) {
	e.msg.SetText(sentence)
	e.detail.SetText(detail)
	e.more.CloseAll()
	e.detail.Hide()
	if detail == "" {
		e.more.Hide()
	} else {
		e.more.Show()
	}
	e.Refresh()
	settle(e)
}

// splitDetail parts an agent message into its sentence and the technical
// detail after 「詳細：」 (or "Details: "), which is empty when there is none.
func splitDetail(msg string) (sentence, detail string) {
	for _, mark := range []string{"詳細：", "Details: "} {
		if i := strings.Index(msg, mark); i >= 0 {
			return strings.TrimSpace(msg[:i]), strings.TrimSpace(msg[i+len(mark):])
		}
	}
	return msg, ""
}

// setError shows err's message in l, or hides l when err is nil.
func (u *UI) setError(l *errorText, err error) {
	if err == nil {
		l.Hide()
		return
	}
	l.set(splitDetail(u.message(err)))
	l.Show()
}
