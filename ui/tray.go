package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/assets"
)

// checkEvery is how often the expiry warnings are checked while the app sits in
// the tray. A day would do for the rule ("30 and 10 days before, and at expiry"),
// but a PC that slept through the daily tick would then warn a day late; each
// level is notified once anyway.
const checkEvery = time.Hour

// notifiedPrefix keys, per certificate fingerprint, the highest warning level
// already sent as a desktop notification, so each level is sent once per
// certificate, across restarts.
const notifiedPrefix = "notified."

// tray is the system-tray icon, its menu with the nearest expiry, and the desktop
// notifications before a certificate expires.
type tray struct {
	u    *UI
	desk desktop.App // nil where there is no working system tray
	ids  []*agent.Identity
	// hintShown is set once the user was told that closing the window leaves the
	// app running in the tray.
	hintShown bool
	// running is set once the expiry checks have started (see start).
	running bool
	// send delivers an expiry notification and says whether it got there
	// (deliverNotification; tests replace it).
	send func(*fyne.Notification) error
}

// newTray installs the tray icon when the driver has one; closing the window then
// hides it to the tray instead of quitting, so the daily check keeps running.
func newTray(u *UI) *tray {
	tr := &tray{u: u, send: func(n *fyne.Notification) error { return deliverNotification(u.app, n) }}
	if desk, ok := u.app.(desktop.App); ok && trayAvailable() {
		tr.desk = desk
		desk.SetSystemTrayIcon(assets.Icon)
	}
	if tr.desk != nil {
		u.win.SetCloseIntercept(func() {
			u.win.Hide()
			if !tr.hintShown {
				tr.hintShown = true
				u.app.SendNotification(fyne.NewNotification(t("app.name"), t("tray.hidden")))
			}
		})
	}
	tr.rebuild()
	return tr
}

// start checks the warnings now and then every checkEvery until the app quits.
func (tr *tray) start() {
	tr.running = true
	tr.u.startAutoRenew()
	tr.u.refreshWarnings()
	go func() {
		tick := time.NewTicker(checkEvery)
		defer tick.Stop()
		for {
			select {
			case <-tr.u.ctx.Done():
				return
			case <-tick.C:
				fyne.Do(tr.u.refreshWarnings)
			}
		}
	}()
}

// refreshWarnings asks the agent for the expiry warnings, then updates the tray
// menu and sends the notifications that are due.
func (u *UI) refreshWarnings() {
	if u.backend == nil {
		return
	}
	u.run(func(ctx context.Context) (any, error) {
		ids, err := u.backend.Identities(ctx)
		if err != nil {
			return nil, err
		}
		ws, err := u.backend.Warnings(ctx, nil)
		return startInfo{ids: ids, warnings: ws}, err
	}, func(res any, err error) {
		if err != nil {
			fyne.LogError("checking certificate expiry", err)
			return
		}
		info := res.(startInfo)
		u.notifyCopyProblem()
		u.tray.update(info.ids)
		u.tray.notify(info.warnings)
	})
}

// update shows the nearest expiry among ids in the tray menu.
func (tr *tray) update(ids []*agent.Identity) {
	tr.ids = ids
	tr.rebuild()
}

// rebuild makes the tray menu in the window's language.
func (tr *tray) rebuild() {
	if tr.desk != nil {
		tr.desk.SetSystemTrayMenu(tr.menu())
	}
}

// menu is the tray menu: the nearest expiry, which opens its renewal (or the
// certificate list when it cannot be renewed), a way back to the window, and 終了.
// Fyne would add its own Quit, in the system's language rather than the window's.
func (tr *tray) menu() *fyne.Menu {
	u := tr.u
	var expiry *fyne.MenuItem
	if id := nearestExpiry(tr.ids); id == nil {
		expiry = fyne.NewMenuItem(t("tray.none"), nil)
		expiry.Disabled = true
	} else {
		expiry = fyne.NewMenuItem(t("tray.nearest", map[string]any{
			"Label": id.Label, "Date": date(id.NotAfter), "Days": daysText(id.DaysLeft),
		}), func() {
			u.win.Show()
			u.win.RequestFocus()
			if id.State == agent.StateRenewable || id.State == agent.StateExpiredRenewable {
				u.showRenew(id)
			} else {
				u.showCertificates()
			}
		})
	}
	open := fyne.NewMenuItem(t("tray.open"), func() {
		u.win.Show()
		u.win.RequestFocus()
	})
	// An action of its own: Fyne's systray copies each item's action before the
	// driver fills in its quit action for an IsQuit item left without one, so a nil
	// action here would make 終了 do nothing. IsQuit keeps Fyne from adding its own
	// Quit, in the system's language rather than the window's.
	quit := fyne.NewMenuItem(t("tray.quit"), u.quit)
	quit.IsQuit = true
	items := []*fyne.MenuItem{expiry}
	if all := tr.allIdentities(); all != nil { // ui/banks.go: every bank's certificates
		items = append(items, all)
	}
	return fyne.NewMenu(t("app.name"), append(items, fyne.NewMenuItemSeparator(), open, fyne.NewMenuItemSeparator(), quit)...)
}

// nearestExpiry is the certificate that expires first, leaving out revoked ones,
// which no renewal can save.
func nearestExpiry(ids []*agent.Identity) *agent.Identity {
	var nearest *agent.Identity
	for _, id := range ids {
		if id.State != agent.StateRevoked && (nearest == nil || id.NotAfter.Before(nearest.NotAfter)) {
			nearest = id
		}
	}
	return nearest
}

// notify sends a desktop notification for each certificate that reached a warning
// level not yet notified: 30 days before expiry, 10 days before, and at expiry.
// A level is recorded as notified only once the notification was delivered; one
// that failed (no session bus, no notification server) is sent again at the next
// check, checkEvery later.
func (tr *tray) notify(ws []agent.Warning) {
	prefs := tr.u.app.Preferences()
	for _, w := range ws {
		if w.Level == agent.LevelNone {
			continue
		}
		key := notifiedPrefix + string(w.Identity.Fingerprint)
		if agent.Level(prefs.Int(key)) >= w.Level {
			continue
		}
		data := map[string]any{"Label": w.Identity.Label, "Date": date(w.Identity.NotAfter), "Days": daysText(w.DaysLeft)}
		body := t("notify.expiring", data)
		switch {
		case w.Level == agent.LevelExpired && w.Renewable:
			body = t("banner.expired.renewable", data)
		case w.Level == agent.LevelExpired:
			body = t("banner.expired", data)
		}
		if err := tr.send(fyne.NewNotification(t("notify.title"), body)); err != nil {
			fyne.LogError("notifying that "+w.Identity.Label+" expires", err)
			continue
		}
		prefs.SetInt(key, int(w.Level))
	}
}
