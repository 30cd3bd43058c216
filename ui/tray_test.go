package ui

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/inkan-dev/inkan/agent"
)

func TestTrayMenuShowsTheNearestExpiryAndOpensItsRenewal(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	u.tray.update(f.ids)
	menu := u.tray.menu()
	item := menu.Items[0]
	if want := "yamada+1376：有効期限 2026年12月3日（あと 12 日）"; item.Label != want {
		t.Fatalf("tray item %q, want %q", item.Label, want)
	}
	item.Action()
	assertTitle(t, u, "電子証明書の更新")
}

func TestTrayMenuShowsAFarExpiryTooAndOpensTheCertificates(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	f.ids[0].State = agent.StateRevoked
	u := newTestUI(t, f)
	u.tray.update(f.ids)
	item := u.tray.menu().Items[0]
	if want := "suzuki+1376：有効期限 2027年6月21日（あと 212 日）"; item.Label != want {
		t.Fatalf("tray item %q, want %q", item.Label, want)
	}
	item.Action()
	u.wait()
	assertTitle(t, u, "電子証明書の管理")
}

func TestTrayMenuWithoutCertificatesSaysSo(t *testing.T) {
	u := newTestUI(t, newFakeBackend())
	u.tray.update(nil)
	if item := u.tray.menu().Items[0]; item.Label != "期限の近い電子証明書はありません" || !item.Disabled {
		t.Fatalf("tray item %q (disabled %v)", item.Label, item.Disabled)
	}
}

func TestExpiryNotificationsAt30And10DaysAndAtExpiryOncePerLevel(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	id := f.ids[0]
	warn := func(level agent.Level, days int) []agent.Warning {
		return []agent.Warning{{Identity: id, Level: level, DaysLeft: days, Renewable: true}}
	}
	expect := func(body string, ws []agent.Warning) {
		t.Helper()
		var want *fyne.Notification
		if body != "" {
			want = fyne.NewNotification("電子証明書の有効期限", body)
		}
		test.AssertNotificationSent(t, want, func() { u.tray.notify(ws) })
	}

	expect("電子証明書 yamada+1376 の有効期限は 2026年12月3日 です（あと 25 日）。お早めに更新してください。", warn(agent.LevelDays30, 25))
	expect("", warn(agent.LevelDays30, 24)) // the next day: already told
	expect("電子証明書 yamada+1376 の有効期限は 2026年12月3日 です（あと 10 日）。お早めに更新してください。", warn(agent.LevelDays10, 10))
	expect("", warn(agent.LevelDays10, 9))
	expect("電子証明書 yamada+1376 の有効期限が 2026年12月3日 に切れました。まだ更新できます。「電子証明書の更新はこちら」から更新してください。", warn(agent.LevelExpired, -1))
	expect("", warn(agent.LevelExpired, -2))
	expect("", []agent.Warning{{Identity: f.ids[1], Level: agent.LevelNone, DaysLeft: 212}})
}

func TestTrayMenuEndsWithQuitInTheWindowsLanguage(t *testing.T) {
	u := newTestUI(t, newFakeBackend())
	items := u.tray.menu().Items
	if last := items[len(items)-1]; last.Label != "終了" || !last.IsQuit {
		t.Fatalf("last tray item %q (quit %v), want 終了 marked as quit", last.Label, last.IsQuit)
	}
}

func TestTrayQuitEndsTheApp(t *testing.T) {
	u := newTestUI(t, newFakeBackend())
	items := u.tray.menu().Items
	quit := items[len(items)-1]
	if quit.Action == nil {
		t.Fatal("終了 has no action of its own: Fyne's systray copies the nil action before the driver fills in its quit")
	}
	quit.Action()
	if u.ctx.Err() == nil {
		t.Fatal("終了 left the app running")
	}
}

func TestAnExpiryNotificationThatFailedIsSentAgainAtTheNextCheck(t *testing.T) {
	f := newFakeBackend().withTwoIdentities()
	u := newTestUI(t, f)
	ws := []agent.Warning{{Identity: f.ids[0], Level: agent.LevelDays10, DaysLeft: 10, Renewable: true}}
	var tries int
	u.tray.send = func(*fyne.Notification) error { tries++; return errors.New("no session bus") }
	u.tray.notify(ws)
	u.tray.notify(ws)
	if tries != 2 {
		t.Fatalf("%d tries after two checks with a failing notifier, want 2 (a failed one is not recorded as sent)", tries)
	}
	if got := u.app.Preferences().Int(notifiedPrefix + string(f.ids[0].Fingerprint)); got != 0 {
		t.Fatalf("level %d recorded as notified though delivery failed", got)
	}

	var sent []string
	u.tray.send = func(n *fyne.Notification) error { sent = append(sent, n.Content); return nil }
	u.tray.notify(ws)
	u.tray.notify(ws)
	want := "電子証明書 yamada+1376 の有効期限は 2026年12月3日 です（あと 10 日）。お早めに更新してください。"
	if len(sent) != 1 || sent[0] != want {
		t.Fatalf("after the bus came back: sent %q, want once %q", sent, want)
	}
}

func TestDeliveringANotificationWithoutASessionBusFails(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux reports whether a notification was delivered")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	a := test.NewTempApp(t)
	if err := deliverNotification(a, fyne.NewNotification("電子証明書の有効期限", "test")); err == nil {
		t.Fatal("delivered a notification without a session bus")
	}
}
