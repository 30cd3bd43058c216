package ui

import (
	"context"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
)

// showCertificates is 電子証明書の管理: the certificates on this PC, the details of
// the one chosen, deleting it, and バックアップ and リストア to and from PKCS#12 files.
func (u *UI) showCertificates() {
	u.withIdentities(t("certs.title"), func(ids []*agent.Identity) {
		u.showCertificateList(ids, nil)
	})
}

// showCertificateList lays out the list; selected, when not nil, has its details
// shown under it.
func (u *UI) showCertificateList(ids []*agent.Identity, selected *agent.Identity) {
	back := u.newButton(t("button.back.start"), false, u.Home)
	backup := u.newButton(t("certs.backup"), false, func() { u.showBackup(ids) })
	restore := u.newButton(t("certs.restore"), false, u.showRestore)
	if len(ids) == 0 {
		backup.Disable()
	}
	// The actions come first, above the list and the details, so a long list
	// or the details of a certificate never push them out of sight.
	parts := []fyne.CanvasObject{wrapped(t("certs.text")), buttons(back, restore, backup)}
	if len(ids) == 0 {
		parts = append(parts, wrapped(t("chooser.none")))
	}
	var first fyne.Focusable
	var list []*identityRow
	for _, id := range ids {
		row := u.newIdentityRow(id, func(id *agent.Identity) { u.showCertificateList(ids, id) })
		if first == nil || id == selected {
			first = row
		}
		list = append(list, row)
		parts = append(parts, row)
	}
	linkRows(list)
	if selected != nil {
		id := selected
		del := u.newButton(t("certs.delete"), false, func() { u.deleteIdentity(id) })
		del.Importance = widget.DangerImportance
		parts = append(parts, section(t("certs.details", map[string]any{"Label": id.Label}), buttons(del), u.identityDetails(id)))
	}
	if first == nil {
		first = restore
	}
	u.screen(t("certs.title"), container.NewVBox(parts...), u.Home, first)
}

// deleteIdentity removes a certificate and its key from this PC, after the user
// confirms: without a backup it can only come back by 再発行.
func (u *UI) deleteIdentity(id *agent.Identity) {
	u.confirm(t("certs.delete"), t("certs.delete.confirm", map[string]any{"Label": id.Label}), t("certs.delete"), func() {
		u.run(func(ctx context.Context) (any, error) {
			if err := u.backend.Delete(ctx, id.Fingerprint); err != nil {
				return nil, err
			}
			return u.backend.Identities(ctx)
		}, func(res any, err error) {
			if err != nil {
				u.showError(err)
				return
			}
			u.showCertificateList(res.([]*agent.Identity), nil)
			u.refreshWarnings()
			u.showMessage(t("certs.delete"), t("certs.deleted", map[string]any{"Label": id.Label}))
		})
	})
}

// fileField is a path entry with a 参照… button that opens Fyne's file dialog.
// Typing the path works too, which keeps the form usable by keyboard alone.
// exts filters the files offered, as ".p12".
func (u *UI) fileField(save bool, name string, exts ...string) (*entry, fyne.CanvasObject) {
	path := u.newEntry("", nil)
	browse := u.newButton(t("button.browse"), false, func() {
		if save {
			d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
				if w != nil {
					path.SetText(w.URI().Path())
					_ = w.Close() // the file is written after the backup is made
				}
			}, u.win)
			d.SetFileName(name)
			d.SetTitleText(t("file.save.title")) // Fyne's own title is 「保存 ファイル」
			d.SetFilter(storage.NewExtensionFileFilter(exts))
			u.showFileDialog(d)
			return
		}
		d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
			if r != nil {
				path.SetText(r.URI().Path())
				_ = r.Close()
			}
		}, u.win)
		d.SetTitleText(t("file.open.title"))
		d.SetFilter(storage.NewExtensionFileFilter(exts))
		u.showFileDialog(d)
	})
	return path, container.NewBorder(nil, nil, nil, browse, path)
}

// showBackup is バックアップ: choose the certificates, where to write the .p12 and
// its password, typed twice. The dialog stays open on a mistake, with the reason.
func (u *UI) showBackup(ids []*agent.Identity) {
	checks := container.NewVBox()
	chosen := map[agent.Fingerprint]bool{}
	for _, id := range ids {
		c := u.newCheck(id.Label+"  ("+roleText(id.Subject.Role)+", "+t("field.validuntil")+" "+date(id.NotAfter)+")", func(on bool) { chosen[id.Fingerprint] = on })
		if id.Exportable {
			c.SetChecked(true)
		} else {
			c.Text += "  " + t("certs.notexportable")
			c.Disable()
		}
		checks.Add(c)
	}
	path, pathRow := u.fileField(true, "inkan-backup.p12", ".p12", ".pfx")
	if home, err := os.UserHomeDir(); err == nil {
		path.SetText(home + string(os.PathSeparator) + "inkan-backup.p12")
	}
	var save *button
	password := u.newPasswordEntry(nil)
	confirm := u.newPasswordEntry(func() { save.OnTapped() })
	errText := errorLabel()
	legacy := u.newCheck(t("certs.backup.legacy"), nil)
	form := widget.NewForm(
		widget.NewFormItem(t("field.file"), pathRow),
		widget.NewFormItem(t("field.backuppassword"), password),
		widget.NewFormItem(t("field.confirmpassword"), confirm),
	)
	var d dialog.Dialog
	save = u.newButton(t("certs.backup.button"), true, nil)
	save.OnTapped = func() {
		var fps []agent.Fingerprint
		for _, id := range ids {
			if chosen[id.Fingerprint] {
				fps = append(fps, id.Fingerprint)
			}
		}
		file := strings.TrimSpace(path.Text)
		switch {
		case len(fps) == 0:
			errText.SetText(t("certs.backup.nothing"))
			errText.Show()
			return
		case file == "":
			errText.SetText(t("certs.nofile"))
			errText.Show()
			return
		}
		if err := agent.CheckBackupPassword(password.Text, confirm.Text); err != nil {
			u.setError(errText, err)
			return
		}
		pw, pw2 := password.Text, confirm.Text
		format := agent.BackupModern
		if legacy.Checked {
			format = agent.BackupLegacy
		}
		save.Disable()
		u.run(func(ctx context.Context) (any, error) {
			data, err := u.backend.BackupAs(ctx, fps, pw, pw2, format)
			if err != nil {
				return nil, err
			}
			// 0600: the file is protected by its password, but need not be readable by others.
			return nil, os.WriteFile(file, data, 0o600)
		}, func(_ any, err error) {
			save.Enable()
			if err != nil {
				u.setError(errText, err)
				return
			}
			d.Hide()
			u.showMessage(t("certs.backup"), t("certs.backup.done", map[string]any{"Count": len(fps), "File": file}))
		})
	}
	cancel := u.newButton(t("button.cancel"), false, func() { d.Hide() })
	content := container.NewVBox(wrapped(t("certs.backup.text")), checks, form, legacy, wrapped(t("certs.backup.legacy.note")), errText, buttons(cancel, save))
	d = dialog.NewCustomWithoutButtons(t("certs.backup"), content, u.win)
	u.showDialog(d, 620)
}

// showRestore is リストア: read a .p12 and add its certificates to this PC.
func (u *UI) showRestore() {
	path, pathRow := u.fileField(false, "", ".p12", ".pfx")
	var restore *button
	password := u.newPasswordEntry(func() { restore.OnTapped() })
	errText := errorLabel()
	var d dialog.Dialog
	restore = u.newButton(t("certs.restore.button"), true, nil)
	restore.OnTapped = func() {
		file := strings.TrimSpace(path.Text)
		if file == "" {
			errText.SetText(t("certs.nofile"))
			errText.Show()
			return
		}
		pw := password.Text
		restore.Disable()
		u.run(func(ctx context.Context) (any, error) {
			data, err := os.ReadFile(file)
			if err != nil {
				return nil, err
			}
			return u.backend.Restore(ctx, data, pw)
		}, func(res any, err error) {
			restore.Enable()
			if err != nil {
				u.setError(errText, err)
				return
			}
			d.Hide()
			u.showRestored(res.(*agent.RestoreResult))
		})
	}
	cancel := u.newButton(t("button.cancel"), false, func() { d.Hide() })
	form := widget.NewForm(
		widget.NewFormItem(t("field.file"), pathRow),
		widget.NewFormItem(t("field.backuppassword"), password),
	)
	content := container.NewVBox(wrapped(t("certs.restore.text")), form, errText, buttons(cancel, restore))
	d = dialog.NewCustomWithoutButtons(t("certs.restore"), content, u.win)
	u.showDialog(d, 620)
}

// showRestored says what the restore added and what was here already, then shows
// the list with the new certificates.
func (u *UI) showRestored(r *agent.RestoreResult) {
	labels := func(ids []*agent.Identity) string {
		var ls []string
		for _, id := range ids {
			ls = append(ls, id.Label)
		}
		if len(ls) == 0 {
			return "—"
		}
		return strings.Join(ls, ", ")
	}
	text := t("certs.restore.done", map[string]any{"Added": labels(r.Added), "Present": labels(r.AlreadyPresent)})
	if len(r.Other) > 0 {
		var other []string
		for _, id := range r.Other {
			other = append(other, id.Label)
		}
		text += "\n\n" + t("certs.restore.other", map[string]any{"Bank": u.bankName(), "Labels": strings.Join(other, ", ")})
	}
	var revoked []string
	for _, id := range r.Revoked {
		revoked = append(revoked, id.Label)
	}
	if note := agent.RestoredRevokedNote(revoked, u.lang); note != "" {
		text += "\n\n" + note
	}
	u.showCertificates()
	u.refreshWarnings()
	u.showMessage(t("certs.restore"), text)
}
