package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"github.com/inkan-dev/inkan/agent"
)

// showRenewChoice is 電子証明書再取得・更新 on the start screen: it goes straight to
// the one certificate that can be renewed, lets the user choose among several, or
// says when renewal is possible.
func (u *UI) showRenewChoice() {
	u.withIdentities(t("renew.title"), func(ids []*agent.Identity) {
		var renewable []*agent.Identity
		for _, id := range ids {
			if id.State == agent.StateRenewable || id.State == agent.StateExpiredRenewable {
				renewable = append(renewable, id)
			}
		}
		switch len(renewable) {
		case 0:
			cfg := u.backend.Config()
			before, after := cfg.RenewBeforeDays, cfg.RenewAfterDays
			if before == 0 {
				before = agent.DefaultRenewBeforeDays
			}
			if after == 0 {
				after = agent.DefaultRenewAfterDays
			}
			back := u.newButton(t("button.back"), true, u.Home)
			body := container.NewVBox(wrapped(t("renew.none", map[string]any{"Before": before, "After": after})), buttons(back))
			u.screen(t("renew.title"), body, u.Home, back)
		case 1:
			u.showRenew(renewable[0])
		default:
			rows := container.NewVBox(wrapped(t("renew.choose")))
			for _, id := range renewable {
				rows.Add(u.newIdentityRow(id, u.showRenew))
			}
			rows.Add(buttons(u.newButton(t("button.back"), false, u.Home)))
			u.screen(t("renew.title"), rows, u.Home, nil)
		}
	})
}

// showRenew is 電子証明書の更新 of one certificate: what will happen, then the
// steps, then the new certificate. It returns to the logged-in screen when the
// renewal started from 重要なお知らせ, else to the start screen.
func (u *UI) showRenew(id *agent.Identity) {
	back := u.Home
	if s := u.session; s != nil {
		back = func() { u.showSession(s) }
	}
	renew := u.newButton(t("renew.button"), true, func() { u.showRenewProgress(id, back) })
	body := container.NewVBox(
		wrapped(t("renew.text", map[string]any{"Label": id.Label, "Date": date(id.NotAfter)})),
		u.newIdentityRow(id, func(*agent.Identity) {}),
		wrapped(t("renew.newkey")),
		buttons(u.newButton(t("button.cancel"), false, back), renew),
	)
	u.screen(t("renew.title"), body, back, renew)
}

func (u *UI) showRenewProgress(id *agent.Identity, back func()) {
	steps := newStepList(agent.StepPrepare, agent.StepGenerateKey, agent.StepIssue, agent.StepInstall)
	u.screen(t("renew.title"), container.NewVBox(wrapped(t("renew.progress")), steps.object()), nil, nil)
	u.run(func(ctx context.Context) (any, error) {
		return u.backend.Renew(ctx, id.Fingerprint, func(s agent.Step) {
			fyne.Do(func() { steps.reach(s) })
		})
	}, func(res any, err error) {
		if err != nil {
			steps.fail()
			u.showRenewFailed(err, back)
			return
		}
		steps.reach(agent.StepDone)
		renewed := res.(*agent.Identity)
		text := t("renew.done.text")
		done := u.newButton(t("button.ok"), true, back)
		if s := u.session; s != nil && s.Identity != nil && s.Identity.Fingerprint == id.Fingerprint {
			// The session was bound to the old certificate, which the bank has
			// now superseded: it is over. Log in again with the new one.
			u.session = nil
			back = u.Home
			text += "\n" + t("renew.done.relogin")
			done = u.newButton(t("start.login"), true, func() { u.showCertPassword(renewed, u.Home) })
		}
		body := container.NewVBox(wrapped(text), u.identityDetails(renewed), buttons(done))
		u.screen(t("renew.done.title"), body, back, done)
		u.refreshWarnings()
	})
}

func (u *UI) showRenewFailed(err error, back func()) {
	ok := u.newButton(t("button.ok"), true, back)
	u.screen(t("renew.failed.title"), container.NewVBox(u.errorBanner(err), buttons(ok)), back, ok)
}
