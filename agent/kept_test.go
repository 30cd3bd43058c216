package agent

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// csrKey returns the public key of the i-th CSR the fake bank received.
func (b *fakeBank) csrKey(t *testing.T, i int) crypto.PublicKey {
	t.Helper()
	if i >= len(b.csrs) {
		t.Fatalf("the bank received %d CSRs, want at least %d", len(b.csrs), i+1)
	}
	der, err := base64.StdEncoding.DecodeString(b.csrs[i])
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr.PublicKey
}

func samePublicKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// wantNotSaved fails the test unless err says the certificate was issued but not
// saved, for a renewal or a pickup, with a message to try the same again.
func wantNotSaved(t *testing.T, err error, renewal bool) {
	t.Helper()
	var ns *NotSavedError
	if !errors.As(err, &ns) || ns.Renewal != renewal || !errors.Is(err, errInjected) {
		t.Fatalf("failed install: %v, want a *NotSavedError (renewal %v) wrapping the store's error", err, renewal)
	}
	if Classify(err) != CategoryStore {
		t.Errorf("Classify = %v, want CategoryStore", Classify(err))
	}
	again, againEN := "「取得」", "pick it up (取得) again"
	if renewal {
		again, againEN = "「更新」", "renew (更新) again"
	}
	ja, en := Message(err, "ja"), Message(err, "en")
	for _, want := range []string{"発行されましたが", "保存できませんでした", again, "再発行を依頼する必要はありません"} {
		if !strings.Contains(ja, want) {
			t.Errorf("Message(ja) = %q, want it to say %q", ja, want)
		}
	}
	for _, want := range []string{"issued but could not be saved on this PC", againEN, "no need to ask for a reissue"} {
		if !strings.Contains(en, want) {
			t.Errorf("Message(en) = %q, want it to say %q", en, want)
		}
	}
}

func TestRenewalWhoseInstallFailedIsRetriedWithTheKeptKey(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)
	old, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.add(340 * day)

	store.failAttaches = 1
	first := len(b.csrs)
	_, err = a.Renew(t.Context(), old.Fingerprint, nil)
	wantNotSaved(t, err, true)
	ids, _ := a.Identities(t.Context())
	if len(ids) != 1 || ids[0].Fingerprint != old.Fingerprint {
		t.Fatalf("after a failed install the PC holds %v, want the old certificate alone", labels(ids))
	}
	if store.discarded != 0 {
		t.Fatalf("the pending key was discarded %d times after a failed install, want it kept", store.discarded)
	}

	c.add(time.Hour)
	var steps []Step
	renewed, err := a.Renew(t.Context(), old.Fingerprint, func(s Step) { steps = append(steps, s) })
	if err != nil {
		t.Fatalf("renewal tried again: %v", err)
	}
	if len(b.csrs) != first+2 || b.csrs[first] != b.csrs[first+1] {
		t.Fatalf("the bank received %d renewal CSRs, want 2, the same twice", len(b.csrs)-first)
	}
	if !samePublicKey(renewed.Certificate.PublicKey, b.csrKey(t, first)) {
		t.Fatal("the renewed certificate is not for the key of the first attempt's CSR")
	}
	for _, s := range steps {
		if s == StepGenerateKey {
			t.Errorf("steps %v: a key pair was generated again", steps)
		}
	}
	ids, _ = a.Identities(t.Context())
	if len(ids) != 1 || ids[0].Fingerprint != renewed.Fingerprint {
		t.Fatalf("after the renewal the PC holds %v, want the renewed certificate alone", labels(ids))
	}
	if store.discarded != 0 {
		t.Fatalf("a pending key was discarded %d times, want 0", store.discarded)
	}

	// Installed, the kept key is dropped: the next renewal has a key of its own.
	c.add(335 * day)
	next, err := a.Renew(t.Context(), renewed.Fingerprint, nil)
	if err != nil {
		t.Fatal(err)
	}
	if samePublicKey(next.Certificate.PublicKey, renewed.Certificate.PublicKey) {
		t.Fatal("the next renewal used the kept key again")
	}
}

func TestPickupWhoseInstallFailedIsRetriedWithTheKeptKey(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)

	store.failAttaches = 1
	_, err := a.Pickup(t.Context(), "alice", "pw", nil)
	wantNotSaved(t, err, false)
	if ids, _ := a.Identities(t.Context()); len(ids) != 0 {
		t.Fatalf("after a failed install the PC holds %v, want nothing", labels(ids))
	}
	if store.discarded != 0 {
		t.Fatalf("the pending key was discarded %d times after a failed install, want it kept", store.discarded)
	}

	// Another ID does not get alice's key, and a wrong password does not lose it.
	bob, err := a.Pickup(t.Context(), "bob", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if samePublicKey(bob.Certificate.PublicKey, b.csrKey(t, 0)) {
		t.Fatal("bob's pickup used the key kept for alice")
	}
	if _, err := a.Pickup(t.Context(), "alice", "wrong", nil); Code(err) != wire.CodeInvalidCredentials {
		t.Fatalf("pickup with a wrong password: %v", err)
	}
	if store.discarded != 0 {
		t.Fatalf("a wrong password discarded the kept key (%d discarded)", store.discarded)
	}

	id, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatalf("pickup tried again: %v", err)
	}
	last := len(b.csrs) - 1
	if b.csrs[last] != b.csrs[0] {
		t.Fatal("the pickup tried again sent another CSR than the first attempt")
	}
	if !samePublicKey(id.Certificate.PublicKey, b.csrKey(t, 0)) {
		t.Fatal("the certificate picked up is not for the key of the first attempt's CSR")
	}
	ids, _ := a.Identities(t.Context())
	if len(ids) != 2 {
		t.Fatalf("after the pickups the PC holds %v, want alice and bob", labels(ids))
	}

	// Installed, the kept key is dropped: a later pickup has a key of its own.
	again, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if samePublicKey(again.Certificate.PublicKey, id.Certificate.PublicKey) {
		t.Fatal("a later pickup used the kept key again")
	}
}

func TestKeptKeysOlderThanTheGracePeriodAreDiscardedAndNotReused(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)

	store.failAttaches = 1
	_, err := a.Pickup(t.Context(), "alice", "pw", nil)
	wantNotSaved(t, err, false)
	c.add(KeptKeyGrace + time.Second)
	id, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if store.discarded != 1 {
		t.Fatalf("%d keys discarded, want the one kept past the grace period", store.discarded)
	}
	if b.csrs[len(b.csrs)-1] == b.csrs[0] || samePublicKey(id.Certificate.PublicKey, b.csrKey(t, 0)) {
		t.Fatal("a key kept past the grace period was used again")
	}

	// Just within the grace period it is still used.
	store.failAttaches = 1
	_, err = a.Pickup(t.Context(), "bob", "pw", nil)
	wantNotSaved(t, err, false)
	kept := b.csrKey(t, len(b.csrs)-1)
	c.add(KeptKeyGrace)
	bob, err := a.Pickup(t.Context(), "bob", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !samePublicKey(bob.Certificate.PublicKey, kept) {
		t.Fatal("a key kept exactly the grace period was not used again")
	}
}

func TestCloseDiscardsTheKeptKeys(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)

	store.failAttaches = 1
	_, err := a.Pickup(t.Context(), "alice", "pw", nil)
	wantNotSaved(t, err, false)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if store.discarded != 1 {
		t.Fatalf("Close discarded %d kept keys, want 1", store.discarded)
	}
	id, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if samePublicKey(id.Certificate.PublicKey, b.csrKey(t, 0)) {
		t.Fatal("a key discarded by Close was used again")
	}
	if ids, _ := store.List(t.Context(), certstore.ListOptions{}); len(ids) != 1 {
		t.Fatalf("the store holds %d identities, want 1", len(ids))
	}
}
