// Package mail sends the expiry notices of the Inkan server: an e-mail to the
// holder of each active certificate 30 and 10 days (policy) before it expires.
//
// Each notice goes out once per certificate and threshold; the sends are
// recorded in the store, so a restart neither repeats nor forgets them. The
// package decides nothing about certificates beyond "active and expiring"; it
// is not where renewal rules live (package lifecycle).
package mail

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/server/store"
)

// SMTP is the relay notices are handed to (no authentication, no TLS: a relay
// on the bank's own network).
type SMTP struct {
	Addr string // host:port
	From string
	// Timeout bounds the connection and each SMTP exchange with the relay, so a
	// relay that accepts and never answers cannot hold a sweep; 0 means DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout is the SMTP timeout when [SMTP.Timeout] is zero.
const DefaultTimeout = 30 * time.Second

// Sweeper finds the certificates whose notices are due and sends them.
type Sweeper struct {
	Store      store.Store
	Now        func() time.Time
	NoticeDays []int // e.g. 30 and 10
	BankName   string
	SMTP       SMTP
}

type due struct {
	certID   int64
	to       string
	loginID  string
	notAfter time.Time
	days     int   // the threshold being sent
	covers   []int // every threshold this send settles (a late first sweep skips the earlier ones)
}

// SweepLock is the name of the [store.Store.Exclusive] claim a sweep holds,
// so that of several servers sharing one database only one sweeps at a time
// and each notice still goes out once.
const SweepLock = "mail.expiry_sweep"

// ErrBusy is what [Sweeper.Sweep] returns when another sweep of the same
// store (another server, or a sweep still running in this one) holds the
// claim: nothing was sent, and that other sweep sends what is due.
var ErrBusy = errors.New("another expiry e-mail sweep is running on this database; it sends what is due")

// Sweep sends every notice due now and returns how many it sent. A failed
// send is retried at the next sweep. While another sweep of the store runs,
// it sends nothing and returns [ErrBusy].
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	sent := 0
	ran, err := s.Store.Exclusive(ctx, SweepLock, func(ctx context.Context) error {
		var err error
		sent, err = s.sweep(ctx)
		return err
	})
	if err == nil && !ran {
		return 0, ErrBusy
	}
	return sent, err
}

func (s *Sweeper) sweep(ctx context.Context) (int, error) {
	now := s.Now().UTC()
	pending, err := s.pending(ctx, now)
	if err != nil {
		return 0, fmt.Errorf("find expiry notices: %w", err)
	}
	sent := 0
	var errs []error
	for _, d := range pending {
		if err := s.send(ctx, d, now); err != nil {
			errs = append(errs, fmt.Errorf("send expiry notice to %s: %w", d.loginID, err))
			continue
		}
		err := s.Store.Update(ctx, func(tx store.Tx) error {
			for _, days := range d.covers {
				if err := tx.RecordMail(d.certID, days, now); err != nil && !errors.Is(err, store.ErrConflict) {
					return err
				}
			}
			return tx.AppendAudit(store.AuditEntry{At: now, Actor: "server", Action: "mail.expiry_notice", Target: d.loginID, Detail: fmt.Sprintf("%d days", d.days)})
		})
		if err != nil {
			return sent, fmt.Errorf("record expiry notice to %s: %w", d.loginID, err)
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

func (s *Sweeper) pending(ctx context.Context, now time.Time) ([]due, error) {
	thresholds := slices.Clone(s.NoticeDays)
	slices.Sort(thresholds) // smallest first: the most urgent notice wins
	if len(thresholds) == 0 {
		return nil, nil
	}
	var out []due
	err := s.Store.View(ctx, func(tx store.Tx) error {
		certs, err := tx.ActiveCertificatesExpiringBy(now.Add(time.Duration(thresholds[len(thresholds)-1]) * lifecycle.Day))
		if err != nil {
			return err
		}
		for _, c := range certs {
			if c.NotAfter.Before(now) { // valid through notAfter, as everywhere
				continue
			}
			u, err := tx.User(c.LoginID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if u.Email == "" || u.CurrentCertID == nil || *u.CurrentCertID != c.ID {
				continue
			}
			left := c.NotAfter.Sub(now)
			for i, t := range thresholds {
				if left > time.Duration(t)*lifecycle.Day {
					continue
				}
				sent, err := tx.MailSent(c.ID, t)
				if err != nil {
					return err
				}
				if !sent {
					out = append(out, due{certID: c.ID, to: u.Email, loginID: u.LoginID, notAfter: *c.NotAfter, days: t, covers: thresholds[i:]})
				}
				break
			}
		}
		return nil
	})
	return out, err
}

func (s *Sweeper) send(ctx context.Context, d due, now time.Time) error {
	to, err := mail.ParseAddress(d.to)
	if err != nil {
		return fmt.Errorf("bad address %q: %w", d.to, err)
	}
	left := lifecycle.DaysLeft(d.notAfter, now)
	jst := time.FixedZone("JST", 9*60*60)
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", s.SMTP.From)
	fmt.Fprintf(&b, "To: %s\r\n", to.Address)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.BEncoding.Encode("UTF-8", "【重要】電子証明書の有効期限のお知らせ"))
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	fmt.Fprintf(&b, "%s をご利用のお客さま（利用者ID: %s）\r\n\r\n", s.BankName, d.loginID)
	fmt.Fprintf(&b, "電子証明書の有効期限は %s です（残り%d日）。\r\n", d.notAfter.In(jst).Format("2006年01月02日 15:04"), left)
	b.WriteString("有効期限までに電子証明書を更新してください。\r\n\r\n")
	fmt.Fprintf(&b, "Your certificate for login ID %s expires on %s (%d days left). Please renew it.\r\n", d.loginID, d.notAfter.Format(time.RFC3339), left)
	timeout := s.SMTP.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", s.SMTP.Addr)
	if err != nil {
		return fmt.Errorf("connect to the SMTP relay: %w", err)
	}
	// Cancelling ctx (the server shutting down) closes the connection at once,
	// whatever exchange is waiting on it.
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	c := smtp.NewClient(conn)
	c.CommandTimeout, c.SubmissionTimeout = timeout, timeout
	defer c.Close()
	if err := c.SendMail(s.SMTP.From, []string{to.Address}, strings.NewReader(b.String())); err != nil {
		return fmt.Errorf("send through the SMTP relay: %w", err)
	}
	return c.Quit()
}
