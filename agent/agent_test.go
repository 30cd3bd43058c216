package agent

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

// clock is a fake clock tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{t: time.Now().Truncate(time.Second)} }
func memoryStore(t testing.TB) certstore.Store {
	t.Helper()
	s, err := certstore.Open("memory")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTestAgent(t testing.TB, b *fakeBank, store certstore.Store, c *clock) *Agent {
	t.Helper()
	a, err := New(b.config(), store, Options{Now: c.now, StateDir: t.TempDir(), RetryWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestPickupInstallsTheCertificateUnderLoginIDPlusBankCode(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a := newTestAgent(t, b, memoryStore(t), c)
	var steps []Step
	id, err := a.Pickup(t.Context(), "alice", "pw", func(s Step) { steps = append(steps, s) })
	if err != nil {
		t.Fatal(err)
	}
	if id.Label != "alice+1376" || id.State != StateValid || id.DaysLeft != 365 {
		t.Errorf("picked up %s state %s days %d; want alice+1376 valid 365", id.Label, id.State, id.DaysLeft)
	}
	want := []Step{StepPrepare, StepGenerateKey, StepIssue, StepInstall, StepDone}
	if len(steps) != len(want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("steps %v, want %v", steps, want)
		}
	}
	ids, err := a.Identities(t.Context())
	if err != nil || len(ids) != 1 || ids[0].Fingerprint != id.Fingerprint {
		t.Fatalf("Identities() = %v, %v", ids, err)
	}
	if only, ok := AutoChoice(ids); !ok || only.Fingerprint != id.Fingerprint {
		t.Errorf("AutoChoice with one usable identity = %v, %v", only, ok)
	}
}

func TestRefusedPickupLeavesNoKeyBehind(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)
	_, err := a.Pickup(t.Context(), "alice", "wrong", nil)
	if Code(err) != wire.CodeInvalidCredentials {
		t.Fatalf("Pickup with a wrong password: code %q (%v), want invalid_credentials from the EST header", Code(err), err)
	}
	if !strings.Contains(err.Error(), "pick up certificate for alice") {
		t.Errorf("error lacks context: %v", err)
	}
	// The password is checked by csrattrs, before a key is made.
	if len(store.generated) != 0 || store.discarded != 0 {
		t.Errorf("a wrong password made %d keys and discarded %d, want none", len(store.generated), store.discarded)
	}
	if ids, _ := store.List(t.Context(), certstore.ListOptions{}); len(ids) != 0 {
		t.Errorf("store holds %d identities after a refused pickup", len(ids))
	}
	if !strings.Contains(Message(err, "ja"), "お客様IDまたはログインパスワード") {
		t.Errorf("Message(ja) = %q", Message(err, "ja"))
	}
}

func TestCheckPickupAsksTheBankAndMakesNothing(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)
	if err := a.CheckPickup(t.Context(), "alice", "wrong"); Code(err) != wire.CodeInvalidCredentials {
		t.Fatalf("CheckPickup with a wrong password: code %q (%v), want invalid_credentials", Code(err), err)
	}
	if err := a.CheckPickup(t.Context(), "alice", "pw"); err != nil {
		t.Fatalf("CheckPickup with the right password: %v", err)
	}
	if len(store.generated) != 0 {
		t.Errorf("CheckPickup made %d keys, want none", len(store.generated))
	}
	if ids, _ := store.List(t.Context(), certstore.ListOptions{}); len(ids) != 0 {
		t.Errorf("store holds %d identities after CheckPickup", len(ids))
	}
}

func TestPickupRefusesACertificateFromAnotherCA(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	cfg := b.config()
	other := newTestCA(t, "other CA")
	b.ca.key = other.key // the bank's server signs with a key the agent does not trust
	b.ca.cert = other.cert
	store := &faultyStore{Store: memoryStore(t)}
	a, err := New(cfg, store, Options{Now: c.now, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Pickup(t.Context(), "alice", "pw", nil)
	if !errors.Is(err, ErrNotFromBank) {
		t.Fatalf("Pickup of a foreign certificate: %v, want ErrNotFromBank", err)
	}
	if store.discarded != 1 {
		t.Errorf("pending key discarded %d times, want 1", store.discarded)
	}
}

func TestChooserOffersTheLastUsedIdentityFirst(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a := newTestAgent(t, b, memoryStore(t), c)
	alice, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := a.Pickup(t.Context(), "bob", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := a.Identities(t.Context())
	if len(ids) != 2 || ids[0].Label != "alice+1376" {
		t.Fatalf("never used: want alphabetical, got %v", labels(ids))
	}
	if _, ok := AutoChoice(ids); ok {
		t.Error("AutoChoice chose among two usable identities")
	}
	c.add(time.Hour)
	if _, err := a.Login(t.Context(), bob.Fingerprint, "pw"); err != nil {
		t.Fatal(err)
	}
	ids, _ = a.Identities(t.Context())
	if ids[0].Fingerprint != bob.Fingerprint || !ids[0].LastUsed.Equal(c.t) {
		t.Fatalf("after bob's login: got %v", labels(ids))
	}
	if ids[1].Fingerprint != alice.Fingerprint {
		t.Fatalf("alice not second: %v", labels(ids))
	}
}

func TestLoginRefusedAsRevokedLabelsTheCertificateRevoked(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a := newTestAgent(t, b, memoryStore(t), c)
	id, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	b.revoked[id.Certificate.SerialNumber.String()] = true
	_, err = a.Login(t.Context(), id.Fingerprint, "pw")
	if Code(err) != wire.CodeCertificateRevoked {
		t.Fatalf("Login with a revoked certificate: %v", err)
	}
	if msg := Message(err, "en"); !strings.Contains(msg, "revoked") || !strings.Contains(msg, "reissue") {
		t.Errorf("Message(en) = %q", msg)
	}
	ids, _ := a.Identities(t.Context())
	if ids[0].State != StateRevoked || ids[0].State.Usable() {
		t.Errorf("state after revoked refusal = %s", ids[0].State)
	}
	if _, ok := AutoChoice(ids); ok {
		t.Error("AutoChoice offered a revoked certificate")
	}
}

// faultyStore fails the next failAttaches calls of Attach, and Delete of
// failDelete, and counts the pending keys discarded.
type faultyStore struct {
	certstore.Store
	failAttaches int
	failDelete   certstore.Fingerprint
	discarded    int
	generated    []certstore.KeyOptions // the options of every GenerateKey
}

var errInjected = errors.New("injected store failure")

func (f *faultyStore) GenerateKey(ctx context.Context, opts certstore.KeyOptions) (certstore.Key, error) {
	f.generated = append(f.generated, opts)
	k, err := f.Store.GenerateKey(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &faultyKey{Key: k, f: f}, nil
}

func (f *faultyStore) Delete(ctx context.Context, fp certstore.Fingerprint) error {
	if fp == f.failDelete {
		return fmt.Errorf("delete %s: %w", fp, errInjected)
	}
	return f.Store.Delete(ctx, fp)
}

type faultyKey struct {
	certstore.Key
	f *faultyStore
}

func (k *faultyKey) Attach(ctx context.Context, chain []*x509.Certificate, label string) (*certstore.Identity, error) {
	if k.f.failAttaches > 0 {
		k.f.failAttaches--
		return nil, fmt.Errorf("attach: %w", errInjected)
	}
	return k.Key.Attach(ctx, chain, label)
}

func (k *faultyKey) Discard(ctx context.Context) error {
	k.f.discarded++
	return k.Key.Discard(ctx)
}

func TestRenewalInstallsTheNewCertificateBeforeRemovingTheOld(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)
	old, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.add(340 * day)

	b.refuse = wire.CodeNotRenewableYet
	if _, err := a.Renew(t.Context(), old.Fingerprint, nil); Code(err) != wire.CodeNotRenewableYet {
		t.Fatalf("refused renewal: %v", err)
	}
	ids, _ := a.Identities(t.Context())
	if len(ids) != 1 || ids[0].Fingerprint != old.Fingerprint {
		t.Fatalf("a refused renewal changed the store: %v", labels(ids))
	}
	b.refuse = ""

	// The server issues, but the store fails to install the new certificate:
	// the old one must still be there, and work, and the pending key be kept.
	store.failAttaches = 1
	store.discarded = 0
	if _, err := a.Renew(t.Context(), old.Fingerprint, nil); !errors.Is(err, errInjected) {
		t.Fatalf("renewal whose install fails: %v, want the store's error", err)
	}
	ids, _ = a.Identities(t.Context())
	if len(ids) != 1 || ids[0].Fingerprint != old.Fingerprint {
		t.Fatalf("after a failed install the store holds %v, want the old certificate alone", labels(ids))
	}
	if store.discarded != 0 {
		t.Fatalf("pending key discarded %d times after a failed install, want it kept", store.discarded)
	}
	if _, err := a.Login(t.Context(), old.Fingerprint, "pw"); err != nil {
		t.Fatalf("login with the old certificate after a failed install: %v", err)
	}

	renewed, err := a.Renew(t.Context(), old.Fingerprint, nil)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Fingerprint == old.Fingerprint || renewed.Certificate.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(old.Certificate.PublicKey) {
		t.Fatal("renewal kept the old certificate or key")
	}
	ids, _ = a.Identities(t.Context())
	if len(ids) != 1 || ids[0].Fingerprint != renewed.Fingerprint || ids[0].DaysLeft != 365 {
		t.Fatalf("after renewal the store holds %v", labels(ids))
	}
}

func TestRenewalKeepsTheNewCertificateWhenTheOldCannotBeRemoved(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)
	old, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.add(340 * day)

	store.failDelete = certstore.Fingerprint(old.Fingerprint)
	renewed, err := a.Renew(t.Context(), old.Fingerprint, nil)
	if !errors.Is(err, errInjected) || !strings.Contains(err.Error(), "the new certificate is installed, the old one could not be removed") {
		t.Fatalf("renewal whose removal of the old certificate fails: %v", err)
	}
	if renewed == nil || renewed.Fingerprint == old.Fingerprint {
		t.Fatalf("renewal returned %v with the error, want the new identity", renewed)
	}
	ids, _ := a.Identities(t.Context())
	found := map[Fingerprint]bool{}
	for _, id := range ids {
		found[id.Fingerprint] = true
	}
	if !found[renewed.Fingerprint] {
		t.Fatalf("the new certificate is not kept: %v", labels(ids))
	}
	if store.discarded != 0 {
		t.Fatalf("a pending key was discarded %d times after a successful install", store.discarded)
	}
	if _, err := a.Login(t.Context(), renewed.Fingerprint, "pw"); err != nil {
		t.Fatalf("login with the new certificate: %v", err)
	}
}

func TestStatesFollowTheRenewalWindow(t *testing.T) {
	notAfter := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
	id := &Identity{
		NotBefore:  notAfter.Add(-365 * day),
		NotAfter:   notAfter,
		RenewFrom:  notAfter.Add(-20 * day), // a bank whose window opens 20 days before
		RenewUntil: notAfter.Add(90 * day),
	}
	for _, tc := range []struct {
		at      time.Time
		revoked bool
		want    State
	}{
		{notAfter.Add(-366 * day), false, StateNotYetValid},
		{notAfter.Add(-31 * day), false, StateValid},
		{notAfter.Add(-25 * day), false, StateExpiring},
		{notAfter.Add(-20 * day), false, StateRenewable},
		{notAfter.Add(day), false, StateExpiredRenewable},
		{notAfter.Add(91 * day), false, StateExpired},
		{notAfter.Add(-100 * day), true, StateRevoked},
	} {
		if got := stateAt(tc.at, id, tc.revoked); got != tc.want {
			t.Errorf("%d days before expiry (revoked %v): %s, want %s", int(notAfter.Sub(tc.at)/day), tc.revoked, got, tc.want)
		}
	}
}

// boundaryIdentity is a certificate valid for a year up to notAfter, with the
// default renewal window (30 days before, 90 after).
func boundaryIdentity(notAfter time.Time) *Identity {
	return &Identity{
		NotBefore:  notAfter.Add(-365 * day),
		NotAfter:   notAfter,
		RenewFrom:  notAfter.Add(-DefaultRenewBeforeDays * day),
		RenewUntil: notAfter.Add(DefaultRenewAfterDays * day),
	}
}

func TestCertificateIsValidThroughNotAfterInclusive(t *testing.T) {
	notAfter := time.Date(2027, 4, 1, 9, 0, 0, 0, time.UTC)
	id := boundaryIdentity(notAfter)
	for _, tc := range []struct {
		name string
		at   time.Time
		want State
	}{
		{"a second before notBefore", id.NotBefore.Add(-time.Second), StateNotYetValid},
		{"at notBefore", id.NotBefore, StateValid},
		{"at notAfter", notAfter, StateRenewable},
		{"a second after notAfter", notAfter.Add(time.Second), StateExpiredRenewable},
	} {
		if got := stateAt(tc.at, id, false); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if !stateAt(notAfter, id, false).Usable() {
		t.Error("a certificate at its notAfter must be usable: the server accepts its login")
	}
}

func TestRenewalWindowIncludesBothEnds(t *testing.T) {
	notAfter := time.Date(2027, 4, 1, 9, 0, 0, 0, time.UTC)
	id := boundaryIdentity(notAfter)
	for _, tc := range []struct {
		name string
		at   time.Time
		want State
	}{
		{"a second before the window opens", id.RenewFrom.Add(-time.Second), StateValid},
		{"as the window opens", id.RenewFrom, StateRenewable},
		{"as the window closes", id.RenewUntil, StateExpiredRenewable},
		{"a second after the window closes", id.RenewUntil.Add(time.Second), StateExpired},
	} {
		if got := stateAt(tc.at, id, false); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
		if open := renewalOpen(tc.at, id); open != (tc.want == StateRenewable || tc.want == StateExpiredRenewable) {
			t.Errorf("%s: renewal open %v", tc.name, open)
		}
	}
}

func TestExpiringStartsExactly30DaysBeforeNotAfter(t *testing.T) {
	notAfter := time.Date(2027, 4, 1, 9, 0, 0, 0, time.UTC)
	id := boundaryIdentity(notAfter)
	id.RenewFrom = notAfter.Add(-20 * day) // so that expiring shows before renewal opens
	if got := stateAt(notAfter.Add(-30*day-time.Second), id, false); got != StateValid {
		t.Errorf("a second before 30 days: %s, want valid", got)
	}
	if got := stateAt(notAfter.Add(-30*day), id, false); got != StateExpiring {
		t.Errorf("at 30 days: %s, want expiring", got)
	}
}

func TestDaysLeftCountsWhole24HourPeriods(t *testing.T) {
	notAfter := time.Date(2027, 4, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		before time.Duration
		want   int
	}{
		{30*day + time.Second, 30},
		{30 * day, 30},
		{30*day - time.Second, 29},
		{day, 1},
		{day - time.Second, 0},
		{0, 0},
		{-time.Second, -1},
		{-day, -1},
		{-day - time.Second, -2},
	} {
		if got := daysLeft(notAfter.Add(-tc.before), notAfter); got != tc.want {
			t.Errorf("%v before notAfter: %d days left, want %d", tc.before, got, tc.want)
		}
	}
}

func TestWarningsAt30And10DaysAndAfterExpiry(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a := newTestAgent(t, b, memoryStore(t), c)
	id, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	notAfter := id.NotAfter
	for _, tc := range []struct {
		before    time.Duration
		want      Level
		renewable bool
	}{
		{30*day + time.Second, LevelNone, false},
		{30 * day, LevelDays30, true},
		{10*day + time.Second, LevelDays30, true},
		{10 * day, LevelDays10, true},
		{0, LevelDays10, true},
		{-time.Second, LevelExpired, true},
		{-90 * day, LevelExpired, true},
		{-90*day - time.Second, LevelExpired, false},
	} {
		c.t = notAfter.Add(-tc.before)
		ws, err := a.Warnings(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.want == LevelNone && len(ws) != 0:
			t.Errorf("%v before: %d warnings, want none", tc.before, len(ws))
		case tc.want != LevelNone && (len(ws) != 1 || ws[0].Level != tc.want || ws[0].Renewable != tc.renewable):
			t.Errorf("%v before: %+v, want one warning at level %d, renewable %v", tc.before, ws, tc.want, tc.renewable)
		}
	}
	c.t = notAfter.Add(-20 * day)
	notice := wire.Notice{Kind: wire.NoticeRenewalDue, Action: wire.ActionRenew, NotAfter: &notAfter, DaysLeft: 20}
	ws, _ := a.Warnings(t.Context(), []wire.Notice{{Kind: wire.NoticeInfo}, notice})
	if len(ws) != 1 || ws[0].Notice == nil || ws[0].Notice.Kind != wire.NoticeRenewalDue {
		t.Errorf("server notice not merged: %+v", ws)
	}
}

func TestBackupOfTwoIdentitiesRestoresOntoAnEmptyStore(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a := newTestAgent(t, b, memoryStore(t), c)
	var fps []Fingerprint
	for _, user := range []string{"alice", "bob"} {
		id, err := a.Pickup(t.Context(), user, "pw", nil)
		if err != nil {
			t.Fatal(err)
		}
		fps = append(fps, id.Fingerprint)
	}
	if _, err := a.Backup(t.Context(), fps, "short", "short"); Classify(err) != CategoryInput {
		t.Fatalf("weak password accepted: %v", err)
	}
	pfx, err := a.Backup(t.Context(), fps, "Kinko-2026-haru", "Kinko-2026-haru")
	if err != nil {
		t.Fatal(err)
	}
	other := newTestAgent(t, b, memoryStore(t), c)
	if _, err := other.Restore(t.Context(), pfx, "wrong password!"); !errors.Is(err, certstore.ErrWrongPassword) {
		t.Fatalf("restore with a wrong password: %v", err)
	}
	res, err := other.Restore(t.Context(), pfx, "Kinko-2026-haru")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2 {
		t.Fatalf("restored %d identities, want 2", len(res.Added))
	}
	if _, err := other.Login(t.Context(), fps[1], "pw"); err != nil {
		t.Fatalf("login with a restored certificate: %v", err)
	}
}

func TestBackupPasswordMustBeConfirmedLongAndMixed(t *testing.T) {
	for _, tc := range []struct {
		password, confirm string
		want              string
	}{
		{"Kinko-2026-haru", "Kinko-2026-haru", ""},
		{"Kinko-2026-haru", "Kinko-2026-hary", "mismatch"},
		{"Ab1!", "Ab1!", "short"},
		{"abcdefghijklmnop", "abcdefghijklmnop", "one_class"},
		{"123456789012", "123456789012", "one_class"},
		{"あいうえおかきくけこ12", "あいうえおかきくけこ12", ""},
	} {
		err := CheckBackupPassword(tc.password, tc.confirm)
		var weak *WeakPasswordError
		got := ""
		switch {
		case errors.Is(err, ErrPasswordMismatch):
			got = "mismatch"
		case errors.As(err, &weak):
			got = weak.Reason
		case err != nil:
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckBackupPassword(%q) = %q, want %q", tc.password, got, tc.want)
		}
		if err != nil && (Message(err, "ja") == "" || Message(err, "en") == Message(err, "ja")) {
			t.Errorf("no message in both languages for %v", err)
		}
	}
}

func labels(ids []*Identity) []string {
	var out []string
	for _, id := range ids {
		out = append(out, id.Label)
	}
	return out
}

func TestEnrollmentWhoseAnswerWasLostIsRetriedWithTheSameCSR(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)

	b.lose = 1
	id, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatalf("pickup whose first answer was lost: %v", err)
	}
	if len(b.csrs) != 2 || b.csrs[0] != b.csrs[1] {
		t.Fatalf("pickup: %d requests; want 2 with the same CSR", len(b.csrs))
	}

	b.lose = 1
	renewed, err := a.Renew(t.Context(), id.Fingerprint, nil)
	if err != nil {
		t.Fatalf("renewal whose first answer was lost: %v", err)
	}
	if len(b.csrs) != 4 || b.csrs[2] != b.csrs[3] || b.csrs[2] == b.csrs[0] {
		t.Fatalf("renewal: %d requests in all; want 2 more with the same, new CSR", len(b.csrs))
	}
	ids, err := a.Identities(t.Context())
	if err != nil || len(ids) != 1 || ids[0].Fingerprint != renewed.Fingerprint || store.discarded != 0 {
		t.Fatalf("after both: %d identities, %d keys discarded, %v", len(ids), store.discarded, err)
	}
}

func TestEnrollmentGivesUpAfterTheRetriesAndDiscardsTheKey(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)
	b.lose = Retries + 1
	_, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err == nil || Classify(err) != CategoryNetwork || len(b.csrs) != Retries+1 {
		t.Fatalf("every answer lost: %v after %d requests; want a network error after %d", err, len(b.csrs), Retries+1)
	}
	if ids, _ := a.Identities(t.Context()); len(ids) != 0 || store.discarded != 1 {
		t.Fatalf("after giving up: %d identities, %d keys discarded; want 0 and 1", len(ids), store.discarded)
	}
}

func TestAStalledCAFetchDoesNotBlockCallsThatNeedNoFetch(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := memoryStore(t)
	alice, err := newTestAgent(t, b, store, c).Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}

	// A fresh agent on the same store has yet to fetch the bank's issuing CAs:
	// its pickup for bob waits on a server that does not answer /cacerts.
	a := newTestAgent(t, b, store, c)
	release := make(chan struct{})
	var releaseOnce sync.Once
	unstall := func() { releaseOnce.Do(func() { b.stall.Store(nil); close(release) }) }
	b.stall.Store(&release)
	defer unstall()
	pickup := make(chan error, 1)
	go func() {
		_, err := a.Pickup(t.Context(), "bob", "pw", nil)
		pickup <- err
	}()
	select {
	case <-b.stalled:
	case <-time.After(10 * time.Second):
		t.Fatal("the pickup never asked for /cacerts")
	}

	// Listing and logging in need nothing from /cacerts: they must not wait.
	done := make(chan error, 1)
	go func() {
		if _, err := a.Identities(t.Context()); err != nil {
			done <- err
			return
		}
		_, err := a.Login(t.Context(), alice.Fingerprint, "pw")
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("login while another call's fetch stalls: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("login waited behind another call's stalled /cacerts fetch")
	}
	unstall()
	if err := <-pickup; err != nil {
		t.Fatalf("the stalled pickup, once /cacerts answers: %v", err)
	}
}

func TestRestoreReportsCertificatesFromAnotherBankApart(t *testing.T) {
	c := newClock()
	ours, theirs := newFakeBank(t, c.now), newFakeBank(t, c.now)
	store := memoryStore(t)
	alice, err := newTestAgent(t, ours, store, c).Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := newTestAgent(t, theirs, store, c).Pickup(t.Context(), "bob", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := store.Export(t.Context(), []certstore.Fingerprint{alice.Fingerprint.inStore(), bob.Fingerprint.inStore()}, "Kinko-2026-haru", certstore.ExportOptions{Encoding: certstore.PKCS12Modern})
	if err != nil {
		t.Fatal(err)
	}

	pc := newTestAgent(t, ours, memoryStore(t), c)
	res, err := pc.Restore(t.Context(), pfx, "Kinko-2026-haru")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 1 || res.Added[0].Fingerprint != alice.Fingerprint {
		t.Fatalf("this bank's certificates restored: %v, want alice's", labels(res.Added))
	}
	if len(res.Other) != 1 || res.Other[0].Fingerprint != bob.Fingerprint {
		t.Fatalf("other certificates reported: %d, want bob's from the other CA", len(res.Other))
	}
	if all, _ := pc.store.List(t.Context(), certstore.ListOptions{}); len(all) != 2 {
		t.Fatalf("the store holds %d certificates after the restore, want both", len(all))
	}
	if ids, _ := pc.Identities(t.Context()); len(ids) != 1 || ids[0].Fingerprint != alice.Fingerprint {
		t.Fatalf("the chooser offers %v, want only alice's", labels(ids))
	}

	again, err := pc.Restore(t.Context(), pfx, "Kinko-2026-haru")
	if err != nil || len(again.AlreadyPresent) != 1 || len(again.Other) != 1 {
		t.Fatalf("restoring twice: %+v, %v", again, err)
	}
}

// unusableStore lists the identity broken as the Windows store lists one whose
// key NCryptOpenKey refuses: with Unusable set and no Signer.
type unusableStore struct {
	certstore.Store
	broken certstore.Fingerprint
}

func (u *unusableStore) List(ctx context.Context, opts certstore.ListOptions) ([]*certstore.Identity, error) {
	ids, err := u.Store.List(ctx, opts)
	for i, id := range ids {
		if id.Fingerprint == u.broken {
			c := *id
			c.Signer, c.Unusable = nil, "key \"inkan-x\" in Microsoft Software Key Storage Provider: NCryptOpenKey returned 0x80070005 (ERROR_ACCESS_DENIED)"
			ids[i] = &c
		}
	}
	return ids, err
}

func TestUnusableKeyShowsUnusableRefusesLoginAndDeletes(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	store := &unusableStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)
	id, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	store.broken = id.Fingerprint.inStore()
	ids, err := a.Identities(t.Context())
	if err != nil || len(ids) != 1 {
		t.Fatalf("Identities = %d, %v", len(ids), err)
	}
	if ids[0].State != StateUnusable || ids[0].State.Usable() || !strings.Contains(ids[0].Problem, "NCryptOpenKey returned 0x80070005") {
		t.Fatalf("state %s, problem %q: want unusable with the call and status", ids[0].State, ids[0].Problem)
	}
	if _, ok := AutoChoice(ids); ok {
		t.Error("AutoChoice offered an unusable certificate")
	}
	_, err = a.Login(t.Context(), id.Fingerprint, "pw")
	if !errors.Is(err, ErrKeyUnusable) || Classify(err) != CategoryStore {
		t.Fatalf("Login with an unusable key: %v (category %v)", err, Classify(err))
	}
	if msg := Message(err, "ja"); !strings.Contains(msg, "削除") || !strings.Contains(msg, "再発行") {
		t.Errorf("Message(ja) = %q", msg)
	}
	if _, err := a.Renew(t.Context(), id.Fingerprint, nil); !errors.Is(err, ErrKeyUnusable) {
		t.Errorf("Renew with an unusable key: %v", err)
	}
	if err := a.Delete(t.Context(), id.Fingerprint); err != nil {
		t.Fatalf("Delete an unusable certificate: %v", err)
	}
	if ids, err := a.Identities(t.Context()); err != nil || len(ids) != 0 {
		t.Fatalf("after Delete: %d identities, %v", len(ids), err)
	}
}
