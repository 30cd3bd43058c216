package server

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/internal/testsmtp"
	"github.com/inkan-dev/inkan/wire"
)

func TestExpiryMailAtThirtyAndTenDaysOncePerCertificate(t *testing.T) {
	box := testsmtp.Start(t)
	e := newEnv(t, func(c *Config) {
		c.SMTP.Host, c.SMTP.Port, c.SMTP.From = "127.0.0.1", box.Port, "noreply@bank.example.jp"
		c.SMTP.SweepMinutes = 24 * 60 // the test drives the sweep itself
	})
	cid := e.contract("Sato Shoji", "admin1")
	if err := e.op.CreateUser(e.ctx, cid, "nomail1", wire.RoleGeneral, "", "", pw("nomail1")); err != nil {
		t.Fatal(err)
	}
	admin := e.pickup("admin1", pw("admin1"))
	// serve sweeps once as it starts; on a loaded machine that sweep can
	// still hold the claim, or not have begun, when the clock moves below.
	select {
	case <-e.srv.firstSweep:
	case <-time.After(30 * time.Second):
		t.Fatal("serve's first expiry sweep did not end in 30 s")
	}
	sweep := func() int {
		t.Helper()
		n, err := e.srv.SendExpiryNotices(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	e.clock.Set(admin.cert.NotAfter.Add(-30*day - time.Second))
	if n := sweep(); n != 0 {
		t.Fatalf("%d notices 30 days and a second before expiry", n)
	}
	e.clock.Advance(time.Second)
	if n := sweep(); n != 1 {
		t.Fatalf("%d notices at 30 days before expiry, want 1", n)
	}
	if n := sweep(); n != 0 {
		t.Fatalf("the 30-day notice was sent again (%d)", n)
	}
	// A restart forgets nothing: the sends are in the database.
	reopened, err := Open(e.dir, Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Shutdown(e.ctx)
	if n, err := reopened.SendExpiryNotices(e.ctx); err != nil || n != 0 {
		t.Fatalf("after a restart: %d notices, %v", n, err)
	}
	e.clock.Set(admin.cert.NotAfter.Add(-10*day - time.Second))
	if n := sweep(); n != 0 {
		t.Fatalf("%d notices between the thresholds", n)
	}
	e.clock.Advance(time.Second)
	if n := sweep(); n != 1 {
		t.Fatalf("%d notices at 10 days before expiry, want 1", n)
	}
	e.clock.Advance(day)
	if n := sweep(); n != 0 {
		t.Fatalf("the 10-day notice was sent again (%d)", n)
	}
	msgs := box.Messages()
	if len(msgs) != 2 {
		t.Fatalf("mailbox holds %d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		if m.To != "admin1@example.jp" || !strings.Contains(m.Body, "admin1") {
			t.Fatalf("message to %s: %s", m.To, m.Body)
		}
	}
	if !strings.Contains(msgs[0].Body, "(30 days left)") || !strings.Contains(msgs[1].Body, "(10 days left)") {
		t.Fatalf("messages do not say the days left:\n%s\n%s", msgs[0].Body, msgs[1].Body)
	}
}

// TestShutdownDoesNotWaitForASilentSMTPRelay: a relay that accepts the
// connection and never greets must not hold up Shutdown.
func TestShutdownDoesNotWaitForASilentSMTPRelay(t *testing.T) {
	relay, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := relay.Accept()
			if err != nil {
				return
			}
			accepted <- c // held open, never written to
		}
	}()
	_, port, _ := net.SplitHostPort(relay.Addr().String())
	n, _ := strconv.Atoi(port)
	e := newEnv(t, func(c *Config) {
		c.SMTP.Host, c.SMTP.Port, c.SMTP.SweepMinutes = "127.0.0.1", n, 24*60
	})
	e.contract("Sato Shoji", "admin1")
	admin := e.pickup("admin1", pw("admin1"))
	e.clock.Set(admin.cert.NotAfter.Add(-30 * day)) // a notice is due: the next sweep dials the relay

	srv, err := Open(e.dir, Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }() // its first sweep starts at once
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("the sweep never connected to the relay")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("shutdown took %s with a silent relay", took)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
