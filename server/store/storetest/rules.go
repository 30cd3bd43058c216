package storetest

// The parts of the suite that run the life-cycle rules (package lifecycle) on
// the store, each through two or three handles, as several servers would.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/internal/testsmtp"
	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/server/mail"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

const password = "kanri-Pass-2026"

// clock is a time tests move, shared by the services of one test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// bank is one database with a CA, the contract of admin kanri (its pickup
// window open) and one lifecycle.Service per handle.
type bank struct {
	t        *testing.T
	clock    *clock
	svcs     []*lifecycle.Service
	handles  []store.Store
	contract string
}

func newBank(t *testing.T, open Opener, handles int) *bank {
	t.Helper()
	dir := t.TempDir()
	c := &clock{now: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	if err := ca.Create(dir, ca.CreateOptions{BankCode: "1376", BankName: "Inkan Shinkin Bank", BaseURL: "http://pki.bank.example.jp", PolicyOID: "2.999.1376.1", Now: c.Now()}); err != nil {
		t.Fatal(err)
	}
	authority, err := ca.Load(dir, ca.LoadOptions{BaseURL: "http://pki.bank.example.jp", Now: c.Now()})
	if err != nil {
		t.Fatal(err)
	}
	p := lifecycle.DefaultPolicy("1376")
	p.Argon2 = lifecycle.Argon2Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32}
	b := &bank{t: t, clock: c}
	for range handles {
		h := open(t)
		svc, err := lifecycle.New(h, authority, p, c.Now)
		if err != nil {
			t.Fatal(err)
		}
		svc.LimitPasswordChecks(64, 30*time.Second)
		b.svcs, b.handles = append(b.svcs, svc), append(b.handles, h)
	}
	op := lifecycle.OperatorActor()
	if b.contract, err = b.svcs[0].CreateContract(ctx, op, "佐藤商事"); err != nil {
		t.Fatal(err)
	}
	if err := b.svcs[0].CreateUser(ctx, op, lifecycle.NewUser{ContractID: b.contract, LoginID: "kanri", Role: wire.RoleAdmin,
		Email: "kanri@example.co.jp", Password: password, IssueCertificate: true}); err != nil {
		t.Fatal(err)
	}
	return b
}

// svc is the service of handle i (any i: it wraps around).
func (b *bank) svc(i int) *lifecycle.Service { return b.svcs[i%len(b.svcs)] }

func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func csr(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kanri"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (b *bank) user(loginID string) store.User {
	b.t.Helper()
	var u store.User
	view(b.t, b.handles[0], func(tx store.Tx) error {
		var err error
		u, err = tx.User(loginID)
		return err
	})
	return u
}

func (b *bank) certs(loginID string) []store.Certificate {
	b.t.Helper()
	var cs []store.Certificate
	view(b.t, b.handles[0], func(tx store.Tx) error {
		var err error
		cs, err = tx.Certificates(loginID)
		return err
	})
	return cs
}

func (b *bank) auditCount(action string) int {
	b.t.Helper()
	n := 0
	view(b.t, b.handles[0], func(tx store.Tx) error {
		es, err := tx.Audit(1 << 20)
		for _, e := range es {
			if e.Action == action {
				n++
			}
		}
		return err
	})
	return n
}

// checkOneCurrent fails unless loginID has at most one record waiting or
// active, and that record is its current one.
func (b *bank) checkOneCurrent(loginID string) {
	b.t.Helper()
	u := b.user(loginID)
	live := 0
	for _, c := range b.certs(loginID) {
		if c.Status == store.CertActive || c.Status == store.CertAwaitingPickup {
			live++
			if u.CurrentCertID == nil || *u.CurrentCertID != c.ID {
				b.t.Fatalf("%s: live certificate %d is not its current one (%v)", loginID, c.ID, u.CurrentCertID)
			}
		}
	}
	if live > 1 {
		b.t.Fatalf("%s has %d live certificates", loginID, live)
	}
}

// parallel runs fn(i) for i in [0, n) at once and returns the errors by i.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// testLockout: 32 wrong passwords at once through three servers lock the ID
// at exactly the limit, with one lock audit row, and the right password then
// gets no certificate.
func testLockout(t *testing.T, open Opener) {
	b := newBank(t, open, 3)
	limit := b.svc(0).Policy.MaxFailedLogins
	errs := parallel(32, func(i int) error {
		_, err := b.svc(i).Pickup(ctx, "192.0.2.1:50000", "kanri", "wrong-password", csr(t, newKey(t)))
		return err
	})
	for i, err := range errs {
		if !errors.Is(err, lifecycle.ErrInvalidCredentials) {
			t.Fatalf("wrong password %d: %v, want invalid credentials", i, err)
		}
	}
	u := b.user("kanri")
	if !u.Locked || u.FailedLogins != limit {
		t.Fatalf("after 32 concurrent wrong passwords: locked %v with %d failures, want locked at exactly %d", u.Locked, u.FailedLogins, limit)
	}
	if n := b.auditCount("user.lock"); n != 1 {
		t.Fatalf("%d lock audit rows, want 1", n)
	}
	if _, err := b.svc(1).Pickup(ctx, "192.0.2.1:50000", "kanri", password, csr(t, newKey(t))); !errors.Is(err, lifecycle.ErrLocked) {
		t.Fatalf("right password on a locked ID: %v, want locked", err)
	}
	for _, c := range b.certs("kanri") {
		if c.Serial != "" {
			t.Fatalf("a certificate was signed for a locked ID: %s", c.Serial)
		}
	}
}

// testOneCurrent: 16 renewals of one certificate at once through three servers
// with different keys: one wins, the others learn it was replaced; then issues,
// reissues and revocations at once leave at most one live certificate, and the
// CRL number grew once per picked-up certificate withdrawn.
func testOneCurrent(t *testing.T, open Opener) {
	b := newBank(t, open, 3)
	cert, err := b.svc(0).Pickup(ctx, "192.0.2.1:50000", "kanri", password, csr(t, newKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	b.clock.set(cert.NotAfter.Add(-10 * lifecycle.Day))
	crlBefore := crlNumber(t, b.handles[0])
	renewed := make([]*x509.Certificate, 16)
	errs := parallel(16, func(i int) error {
		var err error
		renewed[i], err = b.svc(i).Renew(ctx, "192.0.2.1:50000", cert, csr(t, newKey(t)))
		return err
	})
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, lifecycle.ErrSuperseded):
			t.Fatalf("renewal %d: %v, want success or replaced", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of 16 concurrent renewals of one certificate succeeded, want 1", wins)
	}
	b.checkOneCurrent("kanri")
	if n := crlNumber(t, b.handles[0]); n != crlBefore+1 {
		t.Fatalf("CRL number %d after one renewal from %d", n, crlBefore)
	}
	op := lifecycle.OperatorActor()
	errs = parallel(24, func(i int) error {
		s := b.svc(i)
		switch i % 3 {
		case 0:
			return s.Issue(ctx, op, "kanri")
		case 1:
			return s.Reissue(ctx, op, "kanri")
		}
		err := s.Revoke(ctx, op, "kanri")
		if errors.Is(err, lifecycle.ErrNoCertificate) {
			return nil // revoked by another first
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	b.checkOneCurrent("kanri")
	// Only the one picked-up certificate left the CRL's scope among these.
	if n := crlNumber(t, b.handles[0]); n != crlBefore+2 {
		t.Fatalf("CRL number %d, want %d: one bump per picked-up certificate withdrawn", n, crlBefore+2)
	}
	var withdrawn []store.Certificate
	view(t, b.handles[2], func(tx store.Tx) error {
		withdrawn, err = tx.WithdrawnCertificates()
		return err
	})
	if len(withdrawn) != 2 {
		t.Fatalf("%d picked-up certificates withdrawn, want 2", len(withdrawn))
	}
}

// testRepeat: a pickup and a renewal whose answers were lost, repeated with
// the same key through the other servers at once, get the certificate already
// issued and change nothing; another key, or the same one after the grace, does not.
func testRepeat(t *testing.T, open Opener) {
	b := newBank(t, open, 3)
	key := newKey(t)
	first, err := b.svc(0).Pickup(ctx, "192.0.2.1:50000", "kanri", password, csr(t, key))
	if err != nil {
		t.Fatal(err)
	}
	// One wrong password short of the lock, then twelve right ones at once,
	// more than twice the limit: a right password never counts as a failure,
	// however many are in flight on however many servers.
	limit := b.svc(0).Policy.MaxFailedLogins
	for i := range limit - 1 {
		if _, err := b.svc(i).Pickup(ctx, "192.0.2.1:50000", "kanri", "wrong-password", csr(t, key)); !errors.Is(err, lifecycle.ErrInvalidCredentials) {
			t.Fatalf("wrong password %d: %v, want invalid credentials", i, err)
		}
	}
	got := make([]*x509.Certificate, 12)
	errs := parallel(12, func(i int) error {
		var err error
		got[i], err = b.svc(i).Pickup(ctx, "192.0.2.1:50000", "kanri", password, csr(t, key))
		return err
	})
	for i, err := range errs {
		if err != nil || got[i].SerialNumber.Cmp(first.SerialNumber) != 0 {
			t.Fatalf("repeated pickup %d: %v, %v; want the certificate already picked up", i, got[i], err)
		}
	}
	if u := b.user("kanri"); u.Locked || u.FailedLogins != 0 {
		t.Fatalf("after twelve right passwords at once: locked %v with %d failures, want neither", u.Locked, u.FailedLogins)
	}
	if _, err := b.svc(1).Pickup(ctx, "192.0.2.1:50000", "kanri", password, csr(t, newKey(t))); !errors.Is(err, lifecycle.ErrNoPickupOpen) {
		t.Fatalf("second pickup with another key: %v, want no pickup open", err)
	}
	b.clock.set(first.NotAfter.Add(-10 * lifecycle.Day))
	newKey2 := newKey(t)
	next, err := b.svc(0).Renew(ctx, "192.0.2.1:50000", first, csr(t, newKey2))
	if err != nil {
		t.Fatal(err)
	}
	records := len(b.certs("kanri"))
	got = make([]*x509.Certificate, 8) // renewals check no password: eight at once
	errs = parallel(8, func(i int) error {
		var err error
		got[i], err = b.svc(i).Renew(ctx, "192.0.2.1:50000", first, csr(t, newKey2))
		return err
	})
	for i, err := range errs {
		if err != nil || got[i].SerialNumber.Cmp(next.SerialNumber) != 0 {
			t.Fatalf("repeated renewal %d: %v, %v; want the certificate already issued", i, got[i], err)
		}
	}
	if n := len(b.certs("kanri")); n != records {
		t.Fatalf("repeated renewals made records: %d, had %d", n, records)
	}
	if n := b.auditCount("certificate.renew.repeat"); n != 8 {
		t.Fatalf("%d repeat audit rows, want 8", n)
	}
	if _, err := b.svc(2).Renew(ctx, "192.0.2.1:50000", first, csr(t, newKey(t))); !errors.Is(err, lifecycle.ErrSuperseded) {
		t.Fatalf("renewal of the superseded certificate with another key: %v, want replaced", err)
	}
	b.clock.set(next.NotBefore.Add(b.svc(0).Policy.RepeatGrace + time.Second))
	if _, err := b.svc(1).Renew(ctx, "192.0.2.1:50000", first, csr(t, newKey2)); !errors.Is(err, lifecycle.ErrSuperseded) {
		t.Fatalf("repeated renewal after the grace: %v, want replaced", err)
	}
	b.checkOneCurrent("kanri")
}

// testMailOnce: three servers sweeping at once, again and again, send each
// holder's 30-day notice once.
func testMailOnce(t *testing.T, open Opener) {
	b := newBank(t, open, 3)
	op := lifecycle.OperatorActor()
	holders := []string{"kanri"}
	for i := range 5 {
		id := "ippan" + strconv.Itoa(i)
		if err := b.svc(0).CreateUser(ctx, op, lifecycle.NewUser{ContractID: b.contract, LoginID: id, Role: wire.RoleGeneral,
			Email: id + "@example.co.jp", Password: password, IssueCertificate: true}); err != nil {
			t.Fatal(err)
		}
		holders = append(holders, id)
	}
	var notAfter time.Time
	for _, id := range holders {
		c, err := b.svc(0).Pickup(ctx, "192.0.2.1:50000", id, password, csr(t, newKey(t)))
		if err != nil {
			t.Fatalf("pickup %s: %v", id, err)
		}
		notAfter = c.NotAfter
	}
	b.clock.set(notAfter.Add(-29 * lifecycle.Day))
	box := testsmtp.Start(t)
	addr := box.Addr
	sweepers := make([]*mail.Sweeper, len(b.handles))
	for i, h := range b.handles {
		sweepers[i] = &mail.Sweeper{Store: h, Now: b.clock.Now, NoticeDays: []int{30, 10}, BankName: "Inkan Shinkin Bank",
			SMTP: mail.SMTP{Addr: addr, From: "noreply@example.co.jp"}}
	}
	for round := range 3 {
		errs := parallel(6, func(i int) error {
			_, err := sweepers[i%len(sweepers)].Sweep(ctx)
			if errors.Is(err, mail.ErrBusy) { // another handle is sweeping: that is the point
				return nil
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d sweep %d: %v", round, i, err)
			}
		}
	}
	for _, id := range holders {
		if n := len(box.To(id + "@example.co.jp")); n != 1 {
			t.Fatalf("%s got %d 30-day notices, want 1 (all: %d messages)", id, n, len(box.Messages()))
		}
	}
	if n := b.auditCount("mail.expiry_notice"); n != len(holders) {
		t.Fatalf("%d notice audit rows, want %d", n, len(holders))
	}
}

// testLifecyclePurge: a session past its TTL is purged, a live one stays.
func testLifecyclePurge(t *testing.T, open Opener) {
	b := newBank(t, open, 2)
	old, err := b.svc(0).Login(ctx, "192.0.2.1:50000", nil, "kanri", password)
	if err != nil {
		t.Fatal(err)
	}
	b.clock.set(b.clock.Now().Add(b.svc(0).Policy.SessionTTL - time.Minute))
	live, err := b.svc(1).Login(ctx, "192.0.2.1:50000", nil, "kanri", password)
	if err != nil {
		t.Fatal(err)
	}
	b.clock.set(b.clock.Now().Add(2 * time.Minute))
	n, err := b.svc(1).PurgeExpiredSessions(ctx)
	if err != nil || n != 1 {
		t.Fatalf("purge: %d, %v; want the one expired session", n, err)
	}
	if _, err := b.svc(0).Authorize(ctx, "192.0.2.1:50000", old.Token, nil); !errors.Is(err, lifecycle.ErrUnauthenticated) {
		t.Fatalf("purged session: %v", err)
	}
	if _, err := b.svc(0).Authorize(ctx, "192.0.2.1:50000", live.Token, nil); err != nil {
		t.Fatalf("live session opened on another server: %v", err)
	}
}

// testAuditPerChange: each change commits with exactly one audit row, and a
// refused change leaves neither records nor audit.
func testAuditPerChange(t *testing.T, open Opener) {
	b := newBank(t, open, 1)
	s, op := b.svc(0), lifecycle.OperatorActor()
	steps := []struct {
		action string
		do     func() error
	}{
		{"certificate.revoke", func() error { return s.Revoke(ctx, op, "kanri") }},
		{"certificate.reissue", func() error { return s.Reissue(ctx, op, "kanri") }},
		{"certificate.issue", func() error { return s.Issue(ctx, op, "kanri") }},
		{"certificate.pickup", func() error {
			_, err := s.Pickup(ctx, "192.0.2.1:50000", "kanri", password, csr(t, newKey(t)))
			return err
		}},
		{"user.unlock", func() error { return s.Unlock(ctx, op, "kanri") }},
		{"user.set_password", func() error { return s.SetPassword(ctx, op, "kanri", "new-Pass-2026") }},
	}
	for _, st := range steps {
		before := b.auditCount(st.action)
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.action, err)
		}
		if n := b.auditCount(st.action) - before; n != 1 {
			t.Fatalf("%s wrote %d audit rows, want 1", st.action, n)
		}
	}
	if err := s.Revoke(ctx, op, "kanri"); err != nil {
		t.Fatal(err)
	}
	records, rows := len(b.certs("kanri")), b.auditCount("certificate.revoke")
	if err := s.Revoke(ctx, op, "kanri"); !errors.Is(err, lifecycle.ErrNoCertificate) {
		t.Fatalf("revoke with nothing to revoke: %v", err)
	}
	if len(b.certs("kanri")) != records || b.auditCount("certificate.revoke") != rows {
		t.Fatalf("a refused revoke changed records (%d→%d) or audit", records, len(b.certs("kanri")))
	}
}

// testAdminResetsPassword: the contract's admin, logged in on one server,
// resets a locked general ID's password through another: the ID is unlocked
// with the new password only, its session opened on a third server ends, and
// one audit row names the admin. Resetting an admin ID or another contract's ID
// changes nothing and writes no row.
func testAdminResetsPassword(t *testing.T, open Opener) {
	b := newBank(t, open, 3)
	op := lifecycle.OperatorActor()
	if err := b.svc(0).CreateUser(ctx, op, lifecycle.NewUser{ContractID: b.contract, LoginID: "ippan", Role: wire.RoleGeneral,
		Email: "ippan@example.co.jp", Password: password}); err != nil {
		t.Fatal(err)
	}
	other, err := b.svc(0).CreateContract(ctx, op, "鈴木工業")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.svc(0).CreateUser(ctx, op, lifecycle.NewUser{ContractID: other, LoginID: "yoso", Role: wire.RoleGeneral, Password: password}); err != nil {
		t.Fatal(err)
	}
	const addr = "192.0.2.1:50000"
	old, err := b.svc(2).Login(ctx, addr, nil, "ippan", password)
	if err != nil {
		t.Fatal(err)
	}
	for range b.svc(0).Policy.MaxFailedLogins {
		if _, err := b.svc(0).Login(ctx, addr, nil, "ippan", "wrong-password"); !errors.Is(err, lifecycle.ErrInvalidCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if !b.user("ippan").Locked {
		t.Fatal("ippan is not locked after the wrong passwords")
	}
	sess, err := b.svc(0).Login(ctx, addr, nil, "kanri", password)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := b.svc(1).Authorize(ctx, addr, sess.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	const fresh = "Shin-Pass-2026"
	rows := b.auditCount("user.set_password")
	for _, c := range []struct {
		who  string
		want error
	}{{"kanri", lifecycle.ErrForbidden}, {"yoso", lifecycle.ErrNotFound}, {"ippan", lifecycle.ErrWeakPassword}} {
		pw := fresh
		if c.who == "ippan" {
			pw = "ippan"
		}
		hash := b.user(c.who).PasswordHash
		if err := b.svc(1).SetPassword(ctx, admin, c.who, pw); !errors.Is(err, c.want) {
			t.Fatalf("the admin resets %s: %v, want %v", c.who, err, c.want)
		}
		if b.user(c.who).PasswordHash != hash {
			t.Fatalf("a refused reset changed %s's password", c.who)
		}
	}
	if b.auditCount("user.set_password") != rows || !b.user("ippan").Locked {
		t.Fatal("a refused reset wrote an audit row or unlocked ippan")
	}
	if err := b.svc(1).SetPassword(ctx, admin, "ippan", fresh); err != nil {
		t.Fatalf("the admin resets ippan: %v", err)
	}
	if u := b.user("ippan"); u.Locked || u.FailedLogins != 0 {
		t.Fatalf("after the reset: locked %v, %d failures", u.Locked, u.FailedLogins)
	}
	var last store.AuditEntry
	view(t, b.handles[0], func(tx store.Tx) error {
		es, err := tx.Audit(1)
		if len(es) == 1 {
			last = es[0]
		}
		return err
	})
	if b.auditCount("user.set_password") != rows+1 || last.Actor != "kanri" || last.Target != "ippan" || last.Detail != "unlocked" || last.RemoteAddr != addr {
		t.Fatalf("audit after the reset: %+v", last)
	}
	if _, err := b.svc(2).Authorize(ctx, addr, old.Token, nil); !errors.Is(err, lifecycle.ErrUnauthenticated) {
		t.Fatalf("ippan's session from before the reset: %v", err)
	}
	if _, err := b.svc(2).Login(ctx, addr, nil, "ippan", password); !errors.Is(err, lifecycle.ErrInvalidCredentials) {
		t.Fatalf("the old password after the reset: %v", err)
	}
	if _, err := b.svc(0).Login(ctx, addr, nil, "ippan", fresh); err != nil {
		t.Fatalf("the new password: %v", err)
	}
}
