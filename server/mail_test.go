package server

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/inkan-dev/inkan/wire"
)

// mailbox is a real SMTP server (go-smtp) that keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	msgs []message
}

type message struct {
	to   string
	body string
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: m}, nil }

func (m *mailbox) received() []message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]message(nil), m.msgs...)
}

type mailSession struct {
	box *mailbox
	to  string
}

func (s *mailSession) Reset()                                    {}
func (s *mailSession) Logout() error                             { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = to; return nil }
func (s *mailSession) Data(r io.Reader) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.msgs = append(s.box.msgs, message{to: s.to, body: string(body)})
	return nil
}

// startMailbox runs an SMTP server on 127.0.0.1 for the test and returns its port.
func startMailbox(t *testing.T) (*mailbox, int) {
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	n, _ := strconv.Atoi(port)
	return box, n
}

func TestExpiryMailAtThirtyAndTenDaysOncePerCertificate(t *testing.T) {
	box, port := startMailbox(t)
	e := newEnv(t, func(c *Config) {
		c.SMTP.Host, c.SMTP.Port, c.SMTP.From = "127.0.0.1", port, "noreply@bank.example.jp"
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
	msgs := box.received()
	if len(msgs) != 2 {
		t.Fatalf("mailbox holds %d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		if m.to != "admin1@example.jp" || !strings.Contains(m.body, "admin1") {
			t.Fatalf("message to %s: %s", m.to, m.body)
		}
	}
	if !strings.Contains(msgs[0].body, "(30 days left)") || !strings.Contains(msgs[1].body, "(10 days left)") {
		t.Fatalf("messages do not say the days left:\n%s\n%s", msgs[0].body, msgs[1].body)
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
