package e2e

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/store/sqlite"
	"github.com/inkan-dev/inkan/wire"
)

// brokenStore is a PC's store whose next failAttaches installs fail, as with a
// full disk or a locked keyring, after the server has issued. It records the
// public key of every key it generated, in order.
type brokenStore struct {
	certstore.Store

	mu           sync.Mutex
	failAttaches int
	generated    []crypto.PublicKey
}

var errDiskFull = errors.New("no space left on device")

func newBrokenStore(t testing.TB) *brokenStore {
	t.Helper()
	s, err := certstore.Open("memory")
	if err != nil {
		t.Fatal(err)
	}
	return &brokenStore{Store: s}
}

func (s *brokenStore) failNextAttach() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAttaches = 1
}

func (s *brokenStore) keys() []crypto.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]crypto.PublicKey(nil), s.generated...)
}

func (s *brokenStore) GenerateKey(ctx context.Context, opts certstore.KeyOptions) (certstore.Key, error) {
	k, err := s.Store.GenerateKey(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.generated = append(s.generated, k.Signer().Public())
	s.mu.Unlock()
	return &brokenKey{Key: k, s: s}, nil
}

type brokenKey struct {
	certstore.Key
	s *brokenStore
}

func (k *brokenKey) Attach(ctx context.Context, chain []*x509.Certificate, label string) (*certstore.Identity, error) {
	k.s.mu.Lock()
	fail := k.s.failAttaches > 0
	if fail {
		k.s.failAttaches--
	}
	k.s.mu.Unlock()
	if fail {
		return nil, errDiskFull
	}
	return k.Key.Attach(ctx, chain, label)
}

// audited counts the server's audit records of action for loginID, read from
// its database.
func (b *bank) audited(action, loginID string) int {
	b.t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.dir, server.DatabaseFile))
	if err != nil {
		b.t.Fatal(err)
	}
	defer db.Close()
	n := 0
	err = db.View(ctx, func(tx store.Tx) error {
		entries, err := tx.Audit(1000)
		for _, e := range entries {
			if e.Action == action && e.Target == loginID {
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

// wantNotSaved fails the test unless err says the certificate was issued but
// could not be saved, and to try the same again rather than ask for a reissue.
func wantNotSaved(t testing.TB, what string, err error) {
	t.Helper()
	var ns *agent.NotSavedError
	if !errors.As(err, &ns) || !errors.Is(err, errDiskFull) {
		t.Fatalf("%s: got %v, want *agent.NotSavedError wrapping the store's failure", what, err)
	}
	if agent.Classify(err) != agent.CategoryStore {
		t.Fatalf("%s: Classify = %v, want CategoryStore", what, agent.Classify(err))
	}
}

func samePublicKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

func TestRenewalWhoseInstallFailedSucceedsOnRetryWithOneCertificateIssued(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	st := newBrokenStore(t)
	pc := b.pcWith(b.cfg.ServerURL, st)
	old := b.pickup(pc, "kanri")

	b.clock.t = old.NotAfter.Add(-10 * day)
	st.failNextAttach()
	_, err := pc.Renew(ctx, old.Fingerprint, nil)
	wantNotSaved(t, "renewal whose install failed", err)
	if n := b.signed("kanri"); n != 2 {
		t.Fatalf("%d certificates signed for kanri, want 2 (the pickup and the renewal)", n)
	}
	ids, err := pc.Identities(ctx)
	if err != nil || len(ids) != 1 || ids[0].Fingerprint != old.Fingerprint {
		t.Fatalf("after the failed install the PC holds %d certificates (%v), want the old one", len(ids), err)
	}
	// The server has superseded the old certificate: only the renewal's key helps now.
	_, err = pc.Login(ctx, old.Fingerprint, password("kanri"))
	wantCode(t, "login with the superseded certificate", err, wire.CodeCertificateReplaced)

	b.clock.add(time.Hour)
	renewed, err := pc.Renew(ctx, old.Fingerprint, nil)
	if err != nil {
		t.Fatalf("renewal tried again: %v", err)
	}
	keys := st.keys()
	if len(keys) != 2 || !samePublicKey(renewed.Certificate.PublicKey, keys[1]) {
		t.Fatalf("%d keys generated; want the pickup's and the renewal's, the renewed certificate for the latter", len(keys))
	}
	if n := b.signed("kanri"); n != 2 {
		t.Fatalf("%d certificates signed for kanri after the retry, want still 2", n)
	}
	if r, rr := b.audited("certificate.renew", "kanri"), b.audited("certificate.renew.repeat", "kanri"); r != 1 || rr != 1 {
		t.Fatalf("audit: %d renewals and %d repeats, want 1 and 1", r, rr)
	}
	u, err := b.op.User(ctx, "kanri")
	if err != nil || u.Certificate.Serial != renewed.Certificate.SerialNumber.Text(16) {
		t.Fatalf("the server's current certificate is not the one on the PC: %+v, %v", u.Certificate, err)
	}
	ids, err = pc.Identities(ctx)
	if err != nil || len(ids) != 1 || ids[0].Fingerprint != renewed.Fingerprint {
		t.Fatalf("after the renewal the PC holds %d certificates (%v), want only the renewed one", len(ids), err)
	}
	b.login(pc, renewed)
}

func TestPickupWhoseInstallFailedSucceedsOnRetryWithOneCertificateIssued(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	st := newBrokenStore(t)
	pc := b.pcWith(b.cfg.ServerURL, st)

	st.failNextAttach()
	_, err := pc.Pickup(ctx, "kanri", password("kanri"), nil)
	wantNotSaved(t, "pickup whose install failed", err)
	if n := b.signed("kanri"); n != 1 {
		t.Fatalf("%d certificates signed for kanri, want 1", n)
	}
	if ids, err := pc.Identities(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("after the failed install the PC holds %d certificates (%v), want none", len(ids), err)
	}
	// The pickup window is closed: a new key, as another agent would make, is refused.
	_, err = b.pc().Pickup(ctx, "kanri", password("kanri"), nil)
	wantCode(t, "pickup with another key", err, wire.CodeNoPickupOpen)

	b.clock.add(time.Hour)
	id, err := pc.Pickup(ctx, "kanri", password("kanri"), nil)
	if err != nil {
		t.Fatalf("pickup tried again: %v", err)
	}
	keys := st.keys()
	if len(keys) != 1 || !samePublicKey(id.Certificate.PublicKey, keys[0]) {
		t.Fatalf("%d keys generated on the PC, want 1, the certificate's", len(keys))
	}
	if n := b.signed("kanri"); n != 1 {
		t.Fatalf("%d certificates signed for kanri after the retry, want still 1", n)
	}
	if p, pr := b.audited("certificate.pickup", "kanri"), b.audited("certificate.pickup.repeat", "kanri"); p != 1 || pr != 1 {
		t.Fatalf("audit: %d pickups and %d repeats, want 1 and 1", p, pr)
	}
	u, err := b.op.User(ctx, "kanri")
	if err != nil || u.Certificate.Serial != id.Certificate.SerialNumber.Text(16) {
		t.Fatalf("the server's current certificate is not the one on the PC: %+v, %v", u.Certificate, err)
	}
	b.login(pc, id)
}

func TestAKeyKeptPastTheGracePeriodIsDiscardedAndNotReused(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	st := newBrokenStore(t)
	pc := b.pcWith(b.cfg.ServerURL, st)

	st.failNextAttach()
	_, err := pc.Pickup(ctx, "kanri", password("kanri"), nil)
	wantNotSaved(t, "pickup whose install failed", err)

	b.clock.add(agent.KeptKeyGrace + time.Second)
	_, err = pc.Pickup(ctx, "kanri", password("kanri"), nil)
	wantCode(t, "pickup past the grace period", err, wire.CodeNoPickupOpen)
	if keys := st.keys(); len(keys) != 2 {
		t.Fatalf("%d keys generated, want a new one after the grace period", len(keys))
	}
	if n := b.signed("kanri"); n != 1 {
		t.Fatalf("%d certificates signed for kanri, want 1", n)
	}
	if pr := b.audited("certificate.pickup.repeat", "kanri"); pr != 0 {
		t.Fatalf("%d repeats audited, want none", pr)
	}
}
