package ui

import (
	"context"
	"errors"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/inkan-dev/inkan/agent"
)

// PickupChecker is what a Backend offers that can ask the bank whether an ID
// and password would be let in to 電子証明書取得 before anything is made on the
// PC (agent.Agent.CheckPickup): 電子証明書取得開始 then appears only for a login
// the bank accepted.
type PickupChecker interface {
	CheckPickup(ctx context.Context, loginID, password string) error
}

// checkPickupAt asks the bank with this code ("" with one bank) whether the
// ID and password would be let in, where the backend can ask.
func (u *UI) checkPickupAt(ctx context.Context, code, loginID, password string) error {
	if m, ok := u.backend.(interface {
		CheckPickupAt(ctx context.Context, code, loginID, password string) error
	}); ok && code != "" {
		return m.CheckPickupAt(ctx, code, loginID, password)
	}
	if c, ok := u.backend.(PickupChecker); ok {
		return c.CheckPickup(ctx, loginID, password)
	}
	return nil
}

// showPickup is the first page of 電子証明書取得, as the bank's own: the ID and the
// login password the bank or the company's admin gave out.
func (u *UI) showPickup() { u.showPickupForm("", nil) }

// showPickupForm is that page with the ID already typed in, and why the last
// try was refused, when err is not nil: a wrong password or a retry keeps the
// ID, so only the password is typed again.
func (u *UI) showPickupForm(typedID string, refused error) {
	var loginID, password *entry
	errText := errorLabel()
	var next *button
	bankItem, bank, followID := u.bankChoice()
	submit := func() {
		id := strings.TrimSpace(loginID.Text)
		if id == "" || password.Text == "" {
			errText.SetText(t("pickup.missing"))
			errText.Show()
			return
		}
		if bankItem != nil && bank() == "" {
			errText.SetText(t("bank.missing"))
			errText.Show()
			return
		}
		u.pickupBank = bank()
		u.showPickupPrepare(id, password.Text)
	}
	loginID = u.newEntry("", func() { u.win.Canvas().Focus(password) })
	loginID.OnChanged = followID
	password = u.newPasswordEntry(submit)
	next = u.newButton(t("pickup.get"), true, submit)
	form := widget.NewForm(
		widget.NewFormItem(t("field.customerid"), loginID),
		widget.NewFormItem(t("field.loginpassword"), password),
	)
	if bankItem != nil {
		form.Items = append([]*widget.FormItem{bankItem}, form.Items...)
	}
	body := container.NewVBox(
		wrapped(t("pickup.intro")),
		form,
		errText,
		buttons(u.newButton(t("button.cancel"), false, u.Home), next),
	)
	var focus fyne.Focusable = loginID
	if typedID != "" {
		loginID.SetText(typedID)
		focus = password
	}
	u.setError(errText, refused)
	u.screen(t("pickup.title"), body, u.Home, focus)
}

// pickupPlan is what 取得前処理中 finds out before anything changes: which PC and
// which store will hold the key, and whether this ID already has a certificate
// here that the new one will replace.
type pickupPlan struct {
	host     string
	store    string
	existing *agent.Identity
}

// showPickupPrepare is 電子証明書取得前処理中: it looks at this PC's store, then
// moves on to 取得開始 by itself, as the bank's page does.
func (u *UI) showPickupPrepare(loginID, password string) {
	bar := widget.NewProgressBarInfinite()
	body := container.NewVBox(
		wrapped(t("pickup.prepare.text")),
		bar,
		buttons(u.newButton(t("button.stop"), false, func() { u.showPickupForm(loginID, nil) })),
	)
	u.screen(t("pickup.prepare.title"), body, u.showPickup, nil)
	bank := u.pickupBank
	u.load(func(ctx context.Context) (any, error) {
		// The bank checks the ID and password first, so 取得開始 is shown
		// only for a login it accepted.
		if err := u.checkPickupAt(ctx, bank, loginID, password); err != nil {
			return nil, &refusedPickup{err}
		}
		ids, err := u.backend.Identities(ctx)
		if err != nil {
			return nil, err
		}
		host, _ := os.Hostname()
		plan := pickupPlan{host: host, store: u.storeName()}
		for _, id := range ids {
			if id.Subject.LoginID == loginID {
				plan.existing = id
			}
		}
		return plan, nil
	}, func(res any, err error) {
		bar.Stop()
		var refused *refusedPickup
		if errors.As(err, &refused) {
			u.showPickupForm(loginID, refused.err)
			return
		}
		if err != nil {
			u.showPickupForm(loginID, nil)
			u.showError(err)
			return
		}
		u.showPickupStart(loginID, password, res.(pickupPlan))
	})
}

// refusedPickup is the bank's refusal of the ID and password at
// 取得前処理中, which the pickup page shows under its form.
type refusedPickup struct{ err error }

func (r *refusedPickup) Error() string { return r.err.Error() }
func (r *refusedPickup) Unwrap() error { return r.err }

// storeName says in words where this agent keeps certificates.
func (u *UI) storeName() string {
	return storeLabel(u.backend.Config().Store)
}

// storeLabel says in words what a certificate store kind is.
func storeLabel(kind string) string {
	name, dir, _ := strings.Cut(kind, ":")
	switch name {
	case "windows", "keyring", "memory":
		return t("store." + name)
	case "dir":
		return t("store.dir", map[string]any{"Dir": dir})
	}
	return t("store.default")
}

// showPickupStart is 電子証明書取得開始: it says what will happen, where, and waits
// for the user to press 取得.
func (u *UI) showPickupStart(loginID, password string, plan pickupPlan) {
	host := plan.host
	if host == "" {
		host = t("pickup.thispc")
	}
	form := widget.NewForm(
		widget.NewFormItem(t("field.customerid"), widget.NewLabel(loginID)),
		widget.NewFormItem(t("field.pc"), widget.NewLabel(host)),
		widget.NewFormItem(t("field.store"), widget.NewLabel(plan.store)),
	)
	parts := []fyne.CanvasObject{wrapped(t("pickup.start.text")), form, wrapped(t("pickup.start.thispc"))}
	if plan.existing != nil {
		warn := wrapped(t("pickup.start.replace", map[string]any{"Label": plan.existing.Label, "Date": date(plan.existing.NotAfter)}))
		warn.Importance = widget.WarningImportance
		parts = append(parts, warn)
	}
	get := u.newButton(t("pickup.get"), true, func() { u.showPickupProgress(loginID, password) })
	parts = append(parts, buttons(u.newButton(t("button.cancel"), false, u.Home), get))
	u.screen(t("pickup.start.title"), container.NewVBox(parts...), u.Home, get)
}

// showPickupProgress runs the pickup, ticking off each step as the agent reports
// it, then shows インストール完了.
func (u *UI) showPickupProgress(loginID, password string) {
	steps := newStepList(agent.StepPrepare, agent.StepGenerateKey, agent.StepIssue, agent.StepInstall)
	body := container.NewVBox(wrapped(t("pickup.progress.text")), steps.object())
	u.screen(t("pickup.progress.title"), body, nil, nil)
	bank := u.pickupBank
	u.run(func(ctx context.Context) (any, error) {
		return u.pickupAt(ctx, bank, loginID, password, func(s agent.Step) {
			fyne.Do(func() { steps.reach(s) })
		})
	}, func(res any, err error) {
		if err != nil {
			steps.fail()
			u.showPickupFailed(loginID, err)
			return
		}
		steps.reach(agent.StepDone)
		u.showInstalled(t("pickup.done.title"), t("pickup.done.text"), res.(*agent.Identity))
	})
}

// showPickupFailed says what happened and what to do, in the agent's words;
// もう一度取得する goes back to the pickup page with the ID kept.
func (u *UI) showPickupFailed(loginID string, err error) {
	retry := u.newButton(t("pickup.retry"), true, func() { u.showPickupForm(loginID, nil) })
	body := container.NewVBox(
		u.errorBanner(err),
		buttons(u.newButton(t("button.back.start"), false, u.Home), retry),
	)
	u.screen(t("pickup.failed.title"), body, u.Home, retry)
}

// showInstalled is インストール完了: the certificate's details, so the user can see
// what arrived and where it is kept. Pickup and renewal both end here.
func (u *UI) showInstalled(title, text string, id *agent.Identity) {
	done := u.newButton(t("button.back.start"), true, u.Home)
	body := container.NewVBox(
		wrapped(text),
		u.identityDetails(id),
		wrapped(t("pickup.done.next")),
		buttons(done),
	)
	u.screen(title, body, u.Home, done)
}
