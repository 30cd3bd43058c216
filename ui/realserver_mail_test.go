package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/internal/testsmtp"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/mail"
)

// testClock is a clock the test moves; the server reads it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) set(t time.Time)     { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func (c *testClock) add(d time.Duration) { c.set(c.Now().Add(d)) }

// TestTheEmailOfAddUserIsStoredAndGetsTheExpiryNotices follows the address an
// admin types into 利用者の追加 through the real agent and server: the
// server's record holds it, and the 30-day and 10-day expiry notices of the new
// ID's certificate go to it, through a real SMTP exchange.
func TestTheEmailOfAddUserIsStoredAndGetsTheExpiryNotices(t *testing.T) {
	box := testsmtp.Start(t)
	port := box.Port
	clock := &testClock{now: time.Now().Truncate(time.Second)}
	bank, password, srv := startRealBankWith(t, "1376", "いんかん信用金庫", func(c *server.Config) {
		c.SMTP.Host, c.SMTP.Port, c.SMTP.From = "127.0.0.1", port, "noreply@shinkin.example.jp"
		c.SMTP.SweepMinutes = 24 * 60 // the test sweeps itself
	}, clock.Now)

	u := newRealUI(t, bank)
	pickUpAndLogIn(t, u, "kanri", password)
	tap(t, u, "利用者管理")

	const address = "sato.ichiro@yamada-shoji.example.co.jp"
	tap(t, u, "利用者の追加")
	typeInto(t, u, true, 0, "sato")
	typeInto(t, u, true, 1, "佐藤 一郎")
	typeInto(t, u, true, 2, address)
	typeInto(t, u, true, 3, "Sato-Pass-2026")
	tap(t, u, "追加")
	assertShows(t, u, "利用者 sato を追加しました。")

	stored, err := srv.Operator().User(context.Background(), "sato")
	if err != nil || stored.Email != address {
		t.Fatalf("the server's record of sato: %+v, %v; want the e-mail %s", stored, err, address)
	}

	// sato picks the certificate up on a PC of their own.
	pc, err := agent.Open(agent.Config{BankConfig: bank, Store: "memory"}, agent.Options{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	id, err := pc.Pickup(context.Background(), "sato", "Sato-Pass-2026", nil)
	if err != nil {
		t.Fatalf("sato's pickup: %v", err)
	}
	for _, days := range []int{30, 10} {
		clock.set(id.NotAfter.Add(-time.Duration(days) * 24 * time.Hour))
		// serve's own first sweep may still hold the claim (mail.ErrBusy);
		// whichever sweep sends, the mailbox below is what counts.
		for {
			_, err := srv.SendExpiryNotices(context.Background())
			if errors.Is(err, mail.ErrBusy) {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if err != nil {
				t.Fatalf("the %d-day sweep: %v", days, err)
			}
			break
		}
		got := box.To(address)
		if len(got) != map[int]int{30: 1, 10: 2}[days] {
			t.Fatalf("%d days before expiry, %s has %d messages: %q", days, address, len(got), got)
		}
		if msg := got[len(got)-1]; !strings.Contains(msg, "To: "+address) || !strings.Contains(msg, "sato") {
			t.Fatalf("the %d-day notice:\n%s", days, msg)
		}
		clock.add(time.Hour)
	}
}
