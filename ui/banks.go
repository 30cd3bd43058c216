package ui

// Several banks, silent renewal and the browser's copy in the window (issues 9
// and 15): the bank drop-down of 電子証明書取得 and ID・パスワード方式, the tray's
// renewal loop and its notices, and 設定's browser copy and bank list. The agent
// does the work (agent.RunAutoRenew, agent.ProbeBank, agent.AddBank,
// agent.RemoveBank); this file only asks the user and shows the outcome.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
)

// MultiBank is what a Backend serving several banks offers besides [Backend]:
// the banks, and pickup and password login at the one the user chose.
type MultiBank interface {
	// Banks are the configured banks, by bank code.
	Banks() []agent.Config
	// PickupAt picks up loginID's certificate at the bank with this code.
	PickupAt(ctx context.Context, code, loginID, password string, progress agent.ProgressFunc) (*agent.Identity, error)
	// PasswordLoginAt logs in the ID・パスワード方式 way at the bank with this code.
	PasswordLoginAt(ctx context.Context, code, loginID, password string) (*agent.Session, error)
	// BankIdentities lists the certificates of the bank with this code.
	BankIdentities(ctx context.Context, code string) ([]*agent.Identity, error)
}

// AutoRenewer is what a Backend that renews by itself and keeps the browser's
// copy offers; *agent.Agent has it.
type AutoRenewer interface {
	// RunAutoRenew renews silently until ctx ends, telling notify of each
	// renewal and failure (agent.Agent.RunAutoRenew).
	RunAutoRenew(ctx context.Context, interval time.Duration, notify func(agent.Renewal))
	// BrowserCopyProblem is why the browser's copy failed last, nil when it is fine or off.
	BrowserCopyProblem() error
	// BrowserCopyDir is the browser's NSS database, "" when the copy is off.
	BrowserCopyDir() string
}

// Preference keys of the browser copy (設定 → ブラウザー), applied by
// [ApplyBrowserPreferences] to every bank's configuration when the agent opens.
const (
	prefBrowserCopy = "browser_copy"    // "on", "off", or "" for the agent's default
	prefTrustRoot   = "trust_bank_root" // true once the user agreed
)

// ApplyBrowserPreferences sets, in cfg, what 設定 chose for the browser's copy:
// browser_copy when the user switched it, and trust_bank_root when they agreed
// to it. The program's Open calls it for each bank before starting the agent.
func ApplyBrowserPreferences(prefs fyne.Preferences, cfg *agent.Config) {
	switch prefs.String(prefBrowserCopy) {
	case "on":
		on := true
		cfg.BrowserCopy = &on
	case "off":
		off := false
		cfg.BrowserCopy = &off
	}
	if prefs.Bool(prefTrustRoot) {
		cfg.TrustBankRoot = true
	}
}

// BankDir is the folder of the bank configurations added in 設定 (and by
// inkanctl bank add): banks/ beside the configuration file.
func BankDir(configPath string) string {
	return filepath.Join(filepath.Dir(configPath), "banks")
}

// banks are the configured banks, nil with fewer than two.
func (u *UI) banks() []agent.Config {
	m, ok := u.backend.(MultiBank)
	if !ok {
		return nil
	}
	if cfgs := m.Banks(); len(cfgs) > 1 {
		return cfgs
	}
	return nil
}

// bankChoice is the 金融機関 drop-down of a form when several banks are
// configured: the item to add to the form (nil with one bank), the chosen
// bank's code, and follow, for the form's login-ID field to call as the ID
// changes. Nothing is chosen at first, so the user picks on purpose; but when
// the form of the ID typed fits one bank only (the login_id_pattern each bank
// publishes), follow chooses that bank and says so, until the user chooses
// one themselves. With several banks fitting it asks, naming them.
func (u *UI) bankChoice() (*widget.FormItem, func() string, func(loginID string)) {
	cfgs := u.banks()
	if cfgs == nil {
		return nil, func() string { return "" }, func(string) {}
	}
	names := make([]string, len(cfgs))
	for i, c := range cfgs {
		names[i] = c.BankName + "（" + c.BankCode + "）"
	}
	hint := widget.NewLabel("")
	hint.Wrapping = fyne.TextWrapWord
	hint.Hide()
	inferring, chosen := false, false
	sel := u.newChoice(names, func(string) {
		if !inferring {
			chosen = true // the user's own choice stands from now on
			hint.Hide()
		}
	})
	sel.PlaceHolder = t("bank.choose")
	follow := func(loginID string) {
		id := strings.TrimSpace(loginID)
		if chosen {
			return
		}
		inferring = true
		defer func() { inferring = false }()
		fit := agent.BanksFor(cfgs, id)
		switch {
		case id == "" || len(fit) == len(cfgs):
			// Every bank may have issued it: nothing to say yet.
			sel.ClearSelected()
			hint.Hide()
		case len(fit) == 1:
			sel.SetSelectedIndex(slices.IndexFunc(cfgs, func(c agent.Config) bool { return c.BankCode == fit[0].BankCode }))
			hint.Importance = widget.MediumImportance
			hint.SetText(t("bank.inferred", map[string]any{"Bank": fit[0].BankName}))
			hint.Show()
		case len(fit) == 0:
			sel.ClearSelected()
			hint.Importance = widget.WarningImportance
			hint.SetText(t("bank.inferred.none"))
			hint.Show()
		default:
			sel.ClearSelected()
			var names []string
			for _, c := range fit {
				names = append(names, c.BankName)
			}
			hint.Importance = widget.MediumImportance
			hint.SetText(t("bank.inferred.several", map[string]any{"Banks": strings.Join(names, "・")}))
			hint.Show()
		}
	}
	return widget.NewFormItem(t("field.bank"), container.NewVBox(sel, hint)), func() string {
		if i := sel.SelectedIndex(); i >= 0 {
			return cfgs[i].BankCode
		}
		return ""
	}, follow
}

// pickupAt picks up at the bank chosen (code "" with one bank).
func (u *UI) pickupAt(ctx context.Context, code, loginID, password string, progress agent.ProgressFunc) (*agent.Identity, error) {
	if m, ok := u.backend.(MultiBank); ok && code != "" {
		return m.PickupAt(ctx, code, loginID, password, progress)
	}
	return u.backend.Pickup(ctx, loginID, password, progress)
}

// passwordLoginAt logs in at the bank chosen (code "" with one bank).
func (u *UI) passwordLoginAt(ctx context.Context, code, loginID, password string) (*agent.Session, error) {
	if m, ok := u.backend.(MultiBank); ok && code != "" {
		return m.PasswordLoginAt(ctx, code, loginID, password)
	}
	return u.backend.PasswordLogin(ctx, loginID, password)
}

// autoRenew runs the backend's silent renewal while it is the window's backend.
type autoRenew struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	// copyProblem is the browser copy problem last notified, so it is sent once.
	copyProblem string
}

// startAutoRenew (re)starts the silent renewal for the current backend; the
// loop of a backend 設定 replaced stops first.
func (u *UI) startAutoRenew() {
	u.renewal.mu.Lock()
	defer u.renewal.mu.Unlock()
	if u.renewal.cancel != nil {
		u.renewal.cancel()
		u.renewal.cancel = nil
	}
	r, ok := u.backend.(AutoRenewer)
	if !ok || !u.tray.running {
		return
	}
	ctx, cancel := context.WithCancel(u.ctx)
	u.renewal.cancel = cancel
	go r.RunAutoRenew(ctx, 0, func(res agent.Renewal) {
		fyne.Do(func() {
			if ctx.Err() != nil {
				return
			}
			body := agent.RenewedNotice(res, u.lang) // the window's language now, not at start
			title := t("renewed.title")
			if res.Err != nil {
				title = t("renewed.failed.title")
			}
			u.app.SendNotification(fyne.NewNotification(title, body))
			u.afterRenewal()
		})
	})
}

// afterRenewal shows the renewed certificates: the tray menu, and the start
// screen or the chooser when the user is on one.
func (u *UI) afterRenewal() {
	u.refreshWarnings()
	if u.session != nil || u.dialog != nil {
		return
	}
	switch u.title {
	case t("start.title"):
		u.showStart()
	case t("chooser.title"):
		u.showChooser()
	}
}

// copyProblem is the browser copy's last problem, "" when there is none.
func (u *UI) copyProblem() string {
	r, ok := u.backend.(AutoRenewer)
	if !ok {
		return ""
	}
	if err := r.BrowserCopyProblem(); err != nil {
		return u.message(err)
	}
	return ""
}

// notifyCopyProblem sends the browser copy's problem as a desktop notification,
// once for each new problem.
func (u *UI) notifyCopyProblem() {
	p := u.copyProblem()
	u.renewal.mu.Lock()
	changed := p != u.renewal.copyProblem
	u.renewal.copyProblem = p
	u.renewal.mu.Unlock()
	if changed && p != "" {
		u.app.SendNotification(fyne.NewNotification(t("browser.problem.title"), p))
	}
}

// browserSection is 設定's ブラウザー box: whether the browser gets a copy of the
// certificates, whether the bank's root is trusted there, and the copy's problem.
// A change reopens the agent with it, as a changed store does.
func (u *UI) browserSection() fyne.CanvasObject {
	r, ok := u.backend.(AutoRenewer)
	if !ok {
		return nil
	}
	prefs := u.app.Preferences()
	var copyOn, trust *check
	copyOn = u.newCheck(t("browser.copy"), nil)
	copyOn.SetChecked(r.BrowserCopyDir() != "")
	trust = u.newCheck(t("browser.trust"), nil)
	trust.SetChecked(prefs.Bool(prefTrustRoot) || u.backend.Config().TrustBankRoot)
	if !copyOn.Checked {
		trust.Disable()
	}
	copyOn.OnChanged = func(on bool) {
		if on {
			prefs.SetString(prefBrowserCopy, "on")
		} else {
			prefs.SetString(prefBrowserCopy, "off")
		}
		u.reopen()
	}
	trust.OnChanged = func(on bool) {
		prefs.SetBool(prefTrustRoot, on)
		u.reopen()
	}
	parts := []fyne.CanvasObject{wrapped(t("browser.text")), copyOn, trust}
	if dir := r.BrowserCopyDir(); dir != "" {
		parts = append(parts, wrapped(t("browser.dir", map[string]any{"Dir": dir})))
	}
	if p := u.copyProblem(); p != "" {
		l := errorLabel()
		l.SetText(p)
		l.Show()
		parts = append(parts, l)
	}
	return section(t("browser.title"), parts...)
}

// reopen opens the agent again with the same configuration and store (after a
// bank was added or removed, or the browser copy changed), then shows 設定.
func (u *UI) reopen() {
	configPath, store := u.opts.ConfigPath, u.opts.Store
	u.screen(t("connect.title"), container.NewVBox(wrapped(t("connect.text")), widget.NewProgressBarInfinite()), nil, nil)
	u.run(func(context.Context) (any, error) {
		return u.opts.Open(configPath, store)
	}, func(res any, err error) {
		if u.backend != nil {
			_ = u.backend.Close() // replaced below; nothing the user can act on
		}
		if err != nil {
			u.backend, u.openErr = nil, err
		} else {
			u.backend, u.openErr = res.(Backend), nil
		}
		u.tray.rebuild()
		u.startAutoRenew()
		u.refreshWarnings()
		u.showSettings()
	})
}

// bankSection is 設定's 金融機関 box: every configured bank with its code and
// server as the agent runs with them, 削除 for each, and 金融機関の追加.
func (u *UI) bankSection() fyne.CanvasObject {
	cfgs := []agent.Config{u.backend.Config()}
	if m, ok := u.backend.(MultiBank); ok {
		cfgs = m.Banks()
	}
	rows := []fyne.CanvasObject{wrapped(t("bank.list.text"))}
	for _, cfg := range cfgs {
		info := widget.NewForm(
			widget.NewFormItem(t("field.bankname"), widget.NewLabel(cfg.BankName)),
			widget.NewFormItem(t("field.bankcode"), widget.NewLabel(cfg.BankCode)),
			widget.NewFormItem(t("field.server"), widget.NewLabel(cfg.ServerURL)),
		)
		remove := u.newButton(t("bank.remove"), false, func() { u.removeBank(cfg, len(cfgs)) })
		rows = append(rows, container.NewBorder(nil, nil, nil, container.NewVBox(remove), info), widget.NewSeparator())
	}
	rows = append(rows, buttons(u.newButton(t("bank.add"), false, u.showAddBank)))
	return section(t("settings.bank"), rows...)
}

// showAddBank is 金融機関の追加: the configuration file the bank sent, or its
// URL and the fingerprint of its root, checked against the bank's server
// (agent.ProbeBank) before anything is written.
func (u *UI) showAddBank() {
	file, fileRow := u.fileField(false, "", ".json")
	url := u.newEntry("https://", nil)
	fp := u.newEntry(t("bank.fingerprint.hint"), nil)
	code := u.newEntry("", nil)
	name := u.newEntry("", nil)
	errText := errorLabel()
	form := container.NewVBox(
		wrapped(t("bank.add.text")),
		widget.NewForm(widget.NewFormItem(t("field.configfile"), fileRow)),
		wrapped(t("bank.add.or")),
		widget.NewForm(
			widget.NewFormItem(t("field.server"), url),
			widget.NewFormItem(t("field.rootfingerprint"), fp),
			widget.NewFormItem(t("field.bankcode"), code),
			widget.NewFormItem(t("field.bankname"), name),
		),
		errText,
	)
	var d *dialog.CustomDialog
	add := u.newButton(t("bank.add.button"), true, nil)
	add.OnTapped = func() {
		path := strings.TrimSpace(file.Text)
		byURL := strings.TrimSpace(url.Text) != "" && strings.TrimSpace(url.Text) != "https://"
		if (path == "") == !byURL {
			errText.SetText(t("bank.add.missing"))
			errText.Show()
			return
		}
		cfg := agent.Config{}
		cfg.ServerURL = strings.TrimRight(strings.TrimSpace(url.Text), "/")
		cfg.CAFingerprint = strings.TrimSpace(fp.Text)
		cfg.BankCode, cfg.BankName = strings.TrimSpace(code.Text), strings.TrimSpace(name.Text)
		add.Disable()
		dir := BankDir(u.opts.ConfigPath)
		u.run(func(ctx context.Context) (any, error) {
			var err error
			if path != "" {
				cfg, err = agent.LoadConfig(path)
			} else {
				cfg, err = agent.ProbeBank(ctx, cfg)
			}
			if err != nil {
				return nil, err
			}
			return cfg, agent.AddBank(dir, cfg)
		}, func(res any, err error) {
			add.Enable()
			if err != nil {
				u.setError(errText, err)
				return
			}
			d.Hide()
			u.reopen()
		})
	}
	d = dialog.NewCustomWithoutButtons(t("bank.add.title"), container.NewVBox(form,
		buttons(u.newButton(t("button.cancel"), false, func() { d.Hide() }), add)), u.win)
	u.showDialog(d, 620)
}

// removeBank asks, then removes the bank cfg from this PC: with its
// certificates deleted, or kept in the store (usable again once the bank is
// added back). The last bank cannot go, nor the bank of the configuration file
// chosen in 設定 (choose another file instead).
func (u *UI) removeBank(cfg agent.Config, banks int) {
	path := filepath.Join(BankDir(u.opts.ConfigPath), cfg.BankCode+".json")
	if _, err := os.Stat(path); err != nil || banks < 2 {
		u.showMessage(t("bank.remove.title"), t("bank.remove.cannot", map[string]any{"Bank": cfg.BankName}))
		return
	}
	u.run(func(ctx context.Context) (any, error) {
		if m, ok := u.backend.(MultiBank); ok {
			return m.BankIdentities(ctx, cfg.BankCode)
		}
		return []*agent.Identity(nil), nil
	}, func(res any, err error) {
		if err != nil {
			u.showError(err)
			return
		}
		ids := res.([]*agent.Identity)
		var labels []string
		for _, id := range ids {
			labels = append(labels, id.Label)
		}
		data := map[string]any{"Bank": cfg.BankName, "Code": cfg.BankCode, "Count": len(ids), "Labels": strings.Join(labels, "、")}
		text := t("bank.remove.text", data)
		var d *dialog.CustomDialog
		done := func(deleteCerts bool) {
			d.Hide()
			u.run(func(ctx context.Context) (any, error) {
				if deleteCerts {
					for _, id := range ids {
						if err := u.backend.Delete(ctx, id.Fingerprint); err != nil {
							return nil, fmt.Errorf("remove bank %s: %w", cfg.BankCode, err)
						}
					}
				}
				return nil, agent.RemoveBank(BankDir(u.opts.ConfigPath), cfg.BankCode)
			}, func(_ any, err error) {
				if err != nil {
					u.showError(err)
					return
				}
				u.reopen()
			})
		}
		row := []fyne.CanvasObject{u.newButton(t("button.cancel"), false, func() { d.Hide() })}
		if len(ids) > 0 {
			text = t("bank.remove.certs", data)
			row = append(row,
				u.newButton(t("bank.remove.keep"), false, func() { done(false) }),
				u.newButton(t("bank.remove.delete"), true, func() { done(true) }))
		} else {
			row = append(row, u.newButton(t("bank.remove"), true, func() { done(false) }))
		}
		d = dialog.NewCustomWithoutButtons(t("bank.remove.title"), container.NewVBox(wrapped(text), buttons(row...)), u.win)
		u.showDialog(d, 560)
	})
}

// allIdentities is the tray's 電子証明書の一覧 submenu: every certificate on this
// PC, of every bank, each with its bank's name and expiry; choosing one opens
// the certificate list. nil when there is none.
func (tr *tray) allIdentities() *fyne.MenuItem {
	if len(tr.ids) == 0 {
		return nil
	}
	u := tr.u
	var children []*fyne.MenuItem
	for _, id := range tr.ids {
		label := t("tray.identity", map[string]any{"Label": id.Label, "Bank": id.BankName, "Date": date(id.NotAfter)})
		if id.State == agent.StateRevoked {
			label = t("tray.identity.revoked", map[string]any{"Label": id.Label, "Bank": id.BankName})
		}
		children = append(children, fyne.NewMenuItem(label, func() {
			u.win.Show()
			u.win.RequestFocus()
			u.showCertificates()
		}))
	}
	item := fyne.NewMenuItem(t("tray.all"), nil)
	item.ChildMenu = fyne.NewMenu("", children...)
	return item
}
