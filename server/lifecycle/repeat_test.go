package lifecycle

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/ca"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/store/testdb"
	"github.com/inkan-dev/inkan/wire"
)

// bench is a Service over a fresh database and CA, with a clock tests move.
type bench struct {
	t   *testing.T
	ctx context.Context
	svc *Service
	now time.Time
}

func newBench(t *testing.T, policy func(*Policy)) *bench {
	t.Helper()
	dir := t.TempDir()
	b := &bench{t: t, ctx: context.Background(), now: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	if err := ca.Create(dir, ca.CreateOptions{BankCode: "1376", BankName: "Inkan Shinkin Bank", BaseURL: "http://pki.bank.example.jp", PolicyOID: "2.999.1376.1", Now: b.now}); err != nil {
		t.Fatal(err)
	}
	authority, err := ca.Load(dir, ca.LoadOptions{BaseURL: "http://pki.bank.example.jp", Now: b.now})
	if err != nil {
		t.Fatal(err)
	}
	db := testdb.Open(t) // SQLite, or PostgreSQL under INKAN_TEST_DB=postgres
	p := DefaultPolicy("1376")
	p.Argon2 = Argon2Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32}
	if policy != nil {
		policy(&p)
	}
	if b.svc, err = New(db, authority, p, func() time.Time { return b.now }); err != nil {
		t.Fatal(err)
	}
	op := OperatorActor()
	contract, err := b.svc.CreateContract(b.ctx, op, "Sato Shoji")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.svc.CreateUser(b.ctx, op, NewUser{ContractID: contract, LoginID: "kanri", Role: wire.RoleAdmin, Password: "kanri-Pass-2026"}); err != nil {
		t.Fatal(err)
	}
	b.issue()
	return b
}

func (b *bench) issue() {
	b.t.Helper()
	if err := b.svc.Issue(b.ctx, OperatorActor(), "kanri"); err != nil {
		b.t.Fatal(err)
	}
}

func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// csr is a fresh request for key: each call is signed anew, as a retry's would be.
func csr(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kanri"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func (b *bench) pickup(key crypto.Signer) (*x509.Certificate, error) {
	return b.svc.Pickup(b.ctx, "192.0.2.1:50000", "kanri", "kanri-Pass-2026", csr(b.t, key))
}

func (b *bench) mustPickup(key crypto.Signer) *x509.Certificate {
	b.t.Helper()
	cert, err := b.pickup(key)
	if err != nil {
		b.t.Fatalf("pickup: %v", err)
	}
	return cert
}

func (b *bench) renew(current *x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	return b.svc.Renew(b.ctx, "192.0.2.1:50000", current, csr(b.t, key))
}

// renewed picks up a certificate, moves to its renewal window and renews it
// with a new key: it returns the old certificate, the new one and its key.
func (b *bench) renewed() (old, next *x509.Certificate, key crypto.Signer) {
	b.t.Helper()
	old = b.mustPickup(newKey(b.t))
	b.now = old.NotAfter.Add(-10 * Day)
	key = newKey(b.t)
	next, err := b.renew(old, key)
	if err != nil {
		b.t.Fatalf("renew: %v", err)
	}
	return old, next, key
}

// issued counts the X.509 certificates signed for kanri.
func (b *bench) issued() int {
	b.t.Helper()
	n := 0
	err := b.svc.Store.View(b.ctx, func(tx store.Tx) error {
		certs, err := tx.Certificates("kanri")
		for _, c := range certs {
			if c.Serial != "" {
				n++
			}
		}
		return err
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// audited counts the audit rows of action.
func (b *bench) audited(action string) int {
	b.t.Helper()
	n := 0
	err := b.svc.Store.View(b.ctx, func(tx store.Tx) error {
		rows, err := tx.Audit(1000)
		for _, r := range rows {
			if r.Action == action {
				n++
			}
		}
		return err
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

func wantRefusal(t *testing.T, what string, cert *x509.Certificate, err, want error) {
	t.Helper()
	if cert != nil || !errors.Is(err, want) {
		t.Fatalf("%s: got %v, %v; want refusal %q", what, cert != nil, err, want)
	}
}

func TestRepeatedPickupWithTheSameKeyAnswersTheSameCertificate(t *testing.T) {
	b := newBench(t, nil)
	key := newKey(t)
	first := b.mustPickup(key)
	b.now = b.now.Add(time.Hour)
	again := b.mustPickup(key)
	if !bytes.Equal(again.Raw, first.Raw) {
		t.Fatalf("repeat answered serial %x, want the picked-up %x", again.SerialNumber, first.SerialNumber)
	}
	if n := b.issued(); n != 1 {
		t.Fatalf("%d certificates signed, want 1", n)
	}
	if p, r := b.audited("certificate.pickup"), b.audited("certificate.pickup.repeat"); p != 1 || r != 1 {
		t.Fatalf("audit: %d pickups, %d repeats; want 1 and 1", p, r)
	}
}

func TestRepeatedPickupWithAnotherKeyIsRefused(t *testing.T) {
	b := newBench(t, nil)
	b.mustPickup(newKey(t))
	cert, err := b.pickup(newKey(t))
	wantRefusal(t, "second pickup with another key", cert, err, ErrNoPickupOpen)
	if n := b.audited("certificate.pickup.repeat"); n != 0 {
		t.Fatalf("%d repeats audited for a refusal", n)
	}
}

func TestRepeatedPickupAfterTheGracePeriodIsRefused(t *testing.T) {
	b := newBench(t, nil)
	key := newKey(t)
	first := b.mustPickup(key)
	b.now = first.NotBefore.Add(DefaultRepeatGrace)
	b.mustPickup(key)
	b.now = b.now.Add(time.Second)
	cert, err := b.pickup(key)
	wantRefusal(t, "repeat one second after the grace period", cert, err, ErrNoPickupOpen)
}

func TestRepeatedPickupNeedsTheLoginPassword(t *testing.T) {
	b := newBench(t, nil)
	key := newKey(t)
	b.mustPickup(key)
	cert, err := b.svc.Pickup(b.ctx, "192.0.2.1:50000", "kanri", "wrong-Pass-2026", csr(t, key))
	wantRefusal(t, "repeat with a wrong password", cert, err, ErrInvalidCredentials)
}

func TestRepeatedPickupOfARevokedCertificateIsRefused(t *testing.T) {
	b := newBench(t, nil)
	key := newKey(t)
	b.mustPickup(key)
	if err := b.svc.Revoke(b.ctx, OperatorActor(), "kanri"); err != nil {
		t.Fatal(err)
	}
	cert, err := b.pickup(key)
	wantRefusal(t, "repeat after revocation", cert, err, ErrNoPickupOpen)
}

func TestPickupOfANewIssuanceWithTheSameKeySignsANewCertificate(t *testing.T) {
	b := newBench(t, nil)
	key := newKey(t)
	first := b.mustPickup(key)
	b.issue()
	second := b.mustPickup(key)
	if second.SerialNumber.Cmp(first.SerialNumber) == 0 || b.issued() != 2 {
		t.Fatalf("the new issuance was answered with the superseded certificate (%d signed)", b.issued())
	}
}

func TestRepeatedPickupIsOffWithAZeroGracePeriod(t *testing.T) {
	b := newBench(t, func(p *Policy) { p.RepeatGrace = 0 })
	key := newKey(t)
	b.mustPickup(key)
	cert, err := b.pickup(key)
	wantRefusal(t, "repeat with repeats off", cert, err, ErrNoPickupOpen)
}

func TestPickupWithTheKeyOfARenewedCertificateIsRefused(t *testing.T) {
	b := newBench(t, nil)
	_, _, key := b.renewed()
	cert, err := b.pickup(key)
	wantRefusal(t, "pickup with the renewal's key", cert, err, ErrNoPickupOpen)
}

func TestRepeatedRenewalWithTheSameKeyAnswersTheNewCertificate(t *testing.T) {
	b := newBench(t, nil)
	old, next, key := b.renewed()
	b.now = b.now.Add(time.Hour)
	again, err := b.renew(old, key)
	if err != nil {
		t.Fatalf("repeated renewal: %v", err)
	}
	if !bytes.Equal(again.Raw, next.Raw) {
		t.Fatalf("repeat answered serial %x, want the renewal's %x", again.SerialNumber, next.SerialNumber)
	}
	if n := b.issued(); n != 2 {
		t.Fatalf("%d certificates signed, want 2 (pickup and renewal)", n)
	}
	if r, rr := b.audited("certificate.renew"), b.audited("certificate.renew.repeat"); r != 1 || rr != 1 {
		t.Fatalf("audit: %d renewals, %d repeats; want 1 and 1", r, rr)
	}
}

func TestRepeatedRenewalWithAnotherKeyIsRefused(t *testing.T) {
	b := newBench(t, nil)
	old, _, _ := b.renewed()
	cert, err := b.renew(old, newKey(t))
	wantRefusal(t, "renewing the superseded certificate with another key", cert, err, ErrSuperseded)
}

func TestRepeatedRenewalAfterTheGracePeriodIsRefused(t *testing.T) {
	b := newBench(t, nil)
	old, next, key := b.renewed()
	b.now = next.NotBefore.Add(DefaultRepeatGrace)
	if _, err := b.renew(old, key); err != nil {
		t.Fatalf("repeat at the end of the grace period: %v", err)
	}
	b.now = b.now.Add(time.Second)
	cert, err := b.renew(old, key)
	wantRefusal(t, "repeat one second after the grace period", cert, err, ErrSuperseded)
}

func TestRenewalWithARevokedSupersededCertificateIsRefused(t *testing.T) {
	b := newBench(t, nil)
	old, _, key := b.renewed()
	if err := b.svc.Revoke(b.ctx, OperatorActor(), "kanri"); err != nil {
		t.Fatal(err)
	}
	cert, err := b.renew(old, key)
	wantRefusal(t, "repeat after the renewed certificate was revoked", cert, err, ErrSuperseded)
}

func TestRenewalWithACertificateSupersededByANewIssueIsRefused(t *testing.T) {
	b := newBench(t, nil)
	old := b.mustPickup(newKey(t))
	b.now = old.NotAfter.Add(-10 * Day)
	b.issue()
	key := newKey(t)
	b.mustPickup(key)
	cert, err := b.renew(old, key)
	wantRefusal(t, "renewal with a certificate superseded by an issue", cert, err, ErrSuperseded)
}

func TestRepeatGraceIsValidated(t *testing.T) {
	for _, g := range []time.Duration{-time.Hour, MaxRepeatGrace + time.Hour} {
		p := DefaultPolicy("1376")
		p.RepeatGrace = g
		if err := p.Validate(); err == nil || !strings.HasPrefix(err.Error(), "repeat_grace_hours:") {
			t.Errorf("repeat grace %s: %v", g, err)
		}
	}
}
