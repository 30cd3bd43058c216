package ui

import (
	"context"
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

// adminColumns are the columns of the 利用者管理 table, with their widths.
var adminColumns = []struct {
	key   string
	width float32
}{
	{"field.customerid", 125}, {"field.name", 100}, {"field.role", 60},
	{"field.certstate", 145}, {"admin.column.dates", 180}, {"field.lastlogin", 150},
}

// adminScreen is 利用者管理: the IDs of the admin's contract and what the admin may
// do to them. Every action that takes something away is confirmed first.
type adminScreen struct {
	u        *UI
	s        *agent.Session
	users    []wire.User
	selected int // index into users; -1 for none
	table    *userTable
	chosen   *widget.Label // names the selected ID next to the actions
	why      *paragraph    // under them: why the admin's own ID has none
	status   *widget.Label
	actions  map[string]*button
}

// showAdmin shows 利用者管理 for the admin logged in as s.
func (u *UI) showAdmin(s *agent.Session) {
	a := &adminScreen{u: u, s: s, selected: -1, chosen: widget.NewLabel(""), status: widget.NewLabel(""), actions: map[string]*button{}}
	a.status.Wrapping = fyne.TextWrapWord
	a.why = wrapped("")
	a.why.Hide()
	header := make([]string, len(adminColumns))
	widths := make([]float32, len(adminColumns))
	for i, c := range adminColumns {
		header[i], widths[i] = t(c.key), c.width
	}
	a.table = u.newUserTable(header, widths, func(row int) {
		a.selected = row
		a.enable()
	})

	back := func() { u.showSession(s) }
	a.actions["create"] = u.newButton(t("admin.create"), false, a.create)
	a.actions["issue"] = u.newButton(t("admin.issue"), false, a.issue)
	a.actions["revoke"] = u.newButton(t("admin.revoke"), false, a.revoke)
	a.actions["reissue"] = u.newButton(t("admin.reissue"), false, a.reissue)
	a.actions["delete"] = u.newButton(t("admin.delete"), false, a.deleteUser)
	a.actions["unlock"] = u.newButton(t("admin.unlock"), false, a.unlock)
	a.actions["password"] = u.newButton(t("admin.password"), false, a.resetPassword)
	a.actions["reload"] = u.newButton(t("button.reload"), false, func() { a.reload("") })
	a.actions["create"].Importance = widget.HighImportance
	a.actions["revoke"].Importance = widget.DangerImportance
	a.actions["delete"].Importance = widget.DangerImportance

	// The table scrolls by itself; a fixed minimum keeps about eight rows in view
	// inside the screen's own scroll.
	room := canvas.NewRectangle(color.Transparent)
	room.SetMinSize(fyne.NewSize(760, 300))
	body := container.NewVBox(
		wrapped(t("admin.text")),
		container.NewStack(room, a.table),
		a.status,
		container.NewHBox(a.chosen, a.actions["issue"], a.actions["revoke"], a.actions["reissue"], a.actions["unlock"], a.actions["password"], a.actions["delete"]),
		a.why,
		buttons(u.newButton(t("button.back"), false, back), a.actions["reload"], a.actions["create"]),
	)
	u.screen(t("admin.title"), body, back, a.table)
	a.enable()
	a.reload("")
}

// cells are the table cells of one ID. A locked ID carries a ロック中 badge next to
// its certificate's state: it cannot log in until unlocked, whatever the state.
func cells(user wire.User) []fyne.CanvasObject {
	state := fyne.CanvasObject(widget.NewLabel(adminStateText(user.Certificate)))
	if user.Locked {
		state = container.NewHBox(state, container.NewCenter(tag(t("admin.locked"), badgeRed)))
	}
	return []fyne.CanvasObject{
		clipped(user.LoginID),
		clipped(user.DisplayName),
		widget.NewLabel(roleText(user.Role)),
		state,
		widget.NewLabel(deadline(user.Certificate)),
		widget.NewLabel(lastLogin(user)),
	}
}

// adminStateText is the state of c as 利用者管理 shows it: with the renewal
// window said, as the server reported it, so that the admin sees who should
// renew now (更新期間中), who still can (期限切れ・更新可) and who needs a
// reissue (期限切れ・要再発行).
func adminStateText(c wire.Certificate) string {
	switch {
	case c.State == wire.CertActive && c.Renewable:
		return t("admin.state.renewable")
	case c.State == wire.CertExpired && c.Renewable:
		return t("admin.state.expired.renewable")
	case c.State == wire.CertExpired:
		return t("admin.state.expired.closed")
	}
	return certStateText(c.State)
}

// clipped is a cell label that ends in "…" where its column is too narrow
// for it (a long name or login ID), instead of running into the next column;
// the selected ID is named in full beside the actions.
func clipped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

// deadline is the date that matters for the certificate's state, saying which
// date it is: the end of the pickup window while it waits (取得期限), the
// expiry once picked up (有効期限), the day it was revoked (失効日).
func deadline(c wire.Certificate) string {
	var tm *time.Time
	key := ""
	switch c.State {
	case wire.CertAwaitingPickup, wire.CertPickupLapsed:
		tm, key = c.PickupDeadline, "admin.date.pickup"
	case wire.CertActive, wire.CertExpired:
		tm, key = c.NotAfter, "admin.date.expiry"
	case wire.CertRevoked:
		tm, key = c.RevokedAt, "admin.date.revoked"
	}
	if tm == nil {
		return "—"
	}
	return t(key, map[string]any{"Date": date(*tm)})
}

// enable allows only the actions that make sense for the selected ID. An admin
// may not revoke, reissue, unlock, reset the password of or delete an admin ID:
// only the bank may.
func (a *adminScreen) enable() {
	set := func(name string, on bool) {
		if on {
			a.actions[name].Enable()
		} else {
			a.actions[name].Disable()
		}
	}
	var user *wire.User
	if a.selected >= 0 && a.selected < len(a.users) {
		user = &a.users[a.selected]
	}
	switch {
	case user == nil:
		a.chosen.SetText(t("admin.nochoice"))
	default:
		a.chosen.SetText(t("admin.chosen", map[string]any{"ID": user.LoginID}))
	}
	// Why every action is greyed out on the admin's own ID: it is the bank's to manage.
	if user != nil && user.Role == wire.RoleAdmin {
		a.why.SetText(t("admin.chosen.admin", map[string]any{"ID": user.LoginID}))
		a.why.Show()
	} else {
		a.why.Hide()
	}
	others := user != nil && user.Role != wire.RoleAdmin
	state := wire.CertState("")
	if user != nil {
		state = user.Certificate.State
	}
	set("issue", others && state == wire.CertNone)
	set("revoke", others && (state == wire.CertAwaitingPickup || state == wire.CertActive || state == wire.CertExpired))
	set("reissue", others && state != wire.CertNone)
	set("delete", others)
	set("unlock", others && user.Locked)
	set("password", others)
}

// reload fetches the users again and then shows status, the outcome of the action
// that caused the reload, keeping the selected ID selected.
func (a *adminScreen) reload(status string) { a.reloadSelecting(status, "") }

// reloadSelecting is reload, selecting the ID keep afterwards (the selected one
// when keep is empty). Until the list arrives the status says it is loading, so
// a slow server never looks like an empty contract.
func (a *adminScreen) reloadSelecting(status, keep string) {
	if keep == "" && a.selected >= 0 && a.selected < len(a.users) {
		keep = a.users[a.selected].LoginID
	}
	a.status.Importance = widget.MediumImportance
	a.status.SetText(t("admin.loading"))
	a.actions["reload"].Disable()
	a.u.load(func(ctx context.Context) (any, error) {
		return a.u.backend.Users(ctx, a.s)
	}, func(res any, err error) {
		a.actions["reload"].Enable()
		if err != nil {
			a.fail(err)
			return
		}
		a.users = res.([]wire.User)
		rows := make([][]fyne.CanvasObject, len(a.users))
		keepRow := -1
		for i, user := range a.users {
			rows[i] = cells(user)
			if user.LoginID == keep {
				keepRow = i
			}
		}
		a.table.setRows(rows)
		a.table.selectRow(keepRow)
		a.status.Importance = widget.MediumImportance
		a.status.SetText(status)
		a.enable()
	})
}

// fail shows the agent's message under the table.
func (a *adminScreen) fail(err error) {
	a.status.Importance = widget.DangerImportance
	a.status.SetText(a.u.message(err))
}

// act runs one action on the selected ID and reloads the list.
func (a *adminScreen) act(do func(ctx context.Context, loginID string) error, done string) {
	if a.selected < 0 || a.selected >= len(a.users) {
		return
	}
	loginID := a.users[a.selected].LoginID
	a.u.run(func(ctx context.Context) (any, error) {
		return nil, do(ctx, loginID)
	}, func(_ any, err error) {
		if err != nil {
			a.fail(err)
			return
		}
		a.reload(t(done, map[string]any{"ID": loginID}))
	})
}

func (a *adminScreen) issue() {
	a.act(func(ctx context.Context, id string) error {
		_, err := a.u.backend.IssueCertificate(ctx, a.s, id)
		return err
	}, "admin.issued")
}

func (a *adminScreen) revoke() {
	id := a.users[a.selected].LoginID
	a.u.confirm(t("admin.revoke"), t("admin.revoke.confirm", map[string]any{"ID": id}), t("admin.revoke"), func() {
		a.act(func(ctx context.Context, id string) error {
			_, err := a.u.backend.RevokeCertificate(ctx, a.s, id)
			return err
		}, "admin.revoked")
	})
}

func (a *adminScreen) reissue() {
	id := a.users[a.selected].LoginID
	a.u.confirm(t("admin.reissue"), t("admin.reissue.confirm", map[string]any{"ID": id}), t("admin.reissue"), func() {
		a.act(func(ctx context.Context, id string) error {
			_, err := a.u.backend.ReissueCertificate(ctx, a.s, id)
			return err
		}, "admin.reissued")
	})
}

// unlock lets a locked ID log in again, after too many wrong passwords.
func (a *adminScreen) unlock() {
	id := a.users[a.selected].LoginID
	a.u.confirm(t("admin.unlock"), t("admin.unlock.confirm", map[string]any{"ID": id}), t("admin.unlock"), func() {
		a.act(func(ctx context.Context, id string) error {
			_, err := a.u.backend.UnlockUser(ctx, a.s, id)
			return err
		}, "admin.unlocked")
	})
}

// resetPassword gives the selected ID a new login password (パスワード再設定),
// for a user who forgot theirs or whose ID is locked. The dialog is its own
// confirmation: it says what the reset does, キャンセル has the keyboard, and
// only 再設定する changes anything. It offers a password made by the agent,
// shown in clear so the admin can read it out, which the admin may replace
// with one of their own; a refusal (the policy) is said under the field, and
// the dialog stays. Once set, the password is shown once more with the way to
// hand it over: in person or by telephone, never by e-mail.
func (a *adminScreen) resetPassword() {
	if a.selected < 0 || a.selected >= len(a.users) {
		return
	}
	id := a.users[a.selected].LoginID
	var reset *button
	password := a.u.newEntry("", func() { reset.OnTapped() })
	password.TextStyle.Monospace = true
	errText := errorLabel()
	generate := func() {
		p, err := agent.NewPassword()
		if err != nil {
			a.u.setError(errText, err)
			return
		}
		password.SetText(p)
	}
	generate()
	another := a.u.newButton(t("admin.password.generate"), false, generate)
	form := widget.NewForm(widget.NewFormItem(t("field.newpassword"), container.NewBorder(nil, nil, nil, another, password)))
	var d dialog.Dialog
	reset = a.u.newButton(t("admin.password.button"), true, nil)
	reset.OnTapped = func() {
		chosen := password.Text
		reset.Disable()
		a.u.run(func(ctx context.Context) (any, error) {
			return a.u.backend.SetPassword(ctx, a.s, id, chosen)
		}, func(_ any, err error) {
			reset.Enable()
			if err != nil {
				a.u.setError(errText, err)
				if agent.Code(err) == wire.CodeWeakPassword {
					a.u.win.Canvas().Focus(password)
				}
				return
			}
			d.Hide()
			a.reloadSelecting(t("admin.password.done", map[string]any{"ID": id}), id)
			a.handOver(id, chosen)
		})
	}
	cancel := a.u.newButton(t("button.cancel"), false, func() { d.Hide() })
	content := container.NewVBox(wrapped(t("admin.password.confirm", map[string]any{"ID": id})), form,
		wrapped(t("admin.password.hint")), errText, buttons(cancel, reset))
	d = dialog.NewCustomWithoutButtons(t("admin.password.title"), content, a.u.win)
	a.u.showDialog(d, 560)
	a.u.win.Canvas().Focus(cancel)
}

// handOver shows the password just set for id, with how to pass it on, and a
// button that copies it. It is not kept anywhere: once closed, only a new
// reset shows a password again.
func (a *adminScreen) handOver(id, password string) {
	shown := widget.NewLabelWithStyle(password, fyne.TextAlignCenter, fyne.TextStyle{Monospace: true, Bold: true})
	shown.SizeName = theme.SizeNameSubHeadingText
	shown.Selectable = true
	var d dialog.Dialog
	var copyButton *button
	var row *fyne.Container
	copyButton = a.u.newButton(t("admin.password.copy"), false, func() {
		a.u.app.Clipboard().SetContent(password)
		copyButton.SetText(t("admin.password.copied"))
		row.Refresh() // the longer label gets its width
	})
	done := a.u.newButton(t("button.ok"), true, func() { d.Hide() })
	row = buttons(copyButton, done).(*fyne.Container)
	content := container.NewVBox(wrapped(t("admin.password.handover", map[string]any{"ID": id})),
		container.NewCenter(shown), row)
	d = dialog.NewCustomWithoutButtons(t("admin.password.done.title"), content, a.u.win)
	a.u.showDialog(d, 560)
	a.u.win.Canvas().Focus(done)
}

func (a *adminScreen) deleteUser() {
	id := a.users[a.selected].LoginID
	a.u.confirm(t("admin.delete"), t("admin.delete.confirm", map[string]any{"ID": id}), t("admin.delete"), func() {
		a.act(func(ctx context.Context, id string) error {
			return a.u.backend.DeleteUser(ctx, a.s, id)
		}, "admin.deleted")
	})
}

// create asks for a new approver or general ID. An admin cannot create another
// admin, so those two roles are the only choices. The dialog stays open until the
// server has added the user: a refusal (a short password, an ID already taken)
// is said under the form and marks its field, and nothing typed is lost.
func (a *adminScreen) create() {
	var add *button
	submit := func() { add.OnTapped() }
	loginID := a.u.newEntry("", nil)
	name := a.u.newEntry("", nil)
	email := a.u.newEntry("name@example.co.jp", nil)
	roles := map[string]wire.Role{roleText(wire.RoleApprover): wire.RoleApprover, roleText(wire.RoleGeneral): wire.RoleGeneral}
	role := a.u.newChoice([]string{roleText(wire.RoleApprover), roleText(wire.RoleGeneral)}, nil)
	role.SetSelected(roleText(wire.RoleGeneral))
	password := a.u.newPasswordEntry(submit)
	issue := a.u.newCheck(t("admin.create.issue"), nil)
	issue.SetChecked(true)
	form := widget.NewForm(
		widget.NewFormItem(t("field.customerid"), loginID),
		widget.NewFormItem(t("field.name"), name),
		widget.NewFormItem(t("field.email"), email),
		widget.NewFormItem(t("field.role"), role),
		widget.NewFormItem(t("field.initialpassword"), password),
	)
	errText := errorLabel()
	var d dialog.Dialog
	add = a.u.newButton(t("admin.create.button"), true, nil)
	add.OnTapped = func() {
		req := wire.CreateUserRequest{
			LoginID:          strings.TrimSpace(loginID.Text),
			DisplayName:      strings.TrimSpace(name.Text),
			Email:            strings.TrimSpace(email.Text),
			Role:             roles[role.Selected],
			Password:         password.Text,
			IssueCertificate: issue.Checked,
		}
		add.Disable()
		a.u.run(func(ctx context.Context) (any, error) {
			return a.u.backend.CreateUser(ctx, a.s, req)
		}, func(_ any, err error) {
			add.Enable()
			if err != nil {
				a.u.setError(errText, err)
				if f := fieldOf(err, loginID, email, password); f != nil {
					a.u.win.Canvas().Focus(f)
				}
				return
			}
			d.Hide()
			a.reloadSelecting(t("admin.created", map[string]any{"ID": req.LoginID}), req.LoginID)
		})
	}
	cancel := a.u.newButton(t("button.cancel"), false, func() { d.Hide() })
	// The rules under the form wrap with the dialog (a form's hint text would not).
	content := container.NewVBox(form, wrapped(t("admin.create.email.hint")), wrapped(t("admin.create.password.hint")), issue, errText, buttons(cancel, add))
	d = dialog.NewCustomWithoutButtons(t("admin.create"), content, a.u.win)
	a.u.showDialog(d, 560)
	a.u.win.Canvas().Focus(loginID)
}

// fieldOf is the field of the add-user form that the server's refusal err is
// about, so the admin lands on it to correct it, or nil.
func fieldOf(err error, loginID, email, password *entry) *entry {
	switch agent.Code(err) {
	case wire.CodeWeakPassword:
		return password
	case wire.CodeAlreadyExists:
		return loginID
	case wire.CodeBadRequest:
		if strings.TrimSpace(email.Text) != "" {
			return email
		}
		return loginID
	}
	return nil
}
