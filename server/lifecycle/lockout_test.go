package lifecycle

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/store"
)

const rightPassword = "kanri-Pass-2026"

// user reads kanri's record.
func (b *bench) user() store.User {
	b.t.Helper()
	var u store.User
	err := b.svc.Store.View(b.ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.User("kanri")
		return err
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// auditActions counts the audit rows by action.
func (b *bench) auditActions() map[string]int {
	b.t.Helper()
	out := map[string]int{}
	err := b.svc.Store.View(b.ctx, func(tx store.Tx) error {
		rows, err := tx.Audit(1 << 20)
		for _, r := range rows {
			out[r.Action]++
		}
		return err
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return out
}

// TestParallelWrongPasswordsCannotOutrunLockout holds 40 wrong pickup
// passwords inside the password check at once, then sends the right one: only
// MaxFailedLogins of the 40 were checks that could have succeeded, the ID is
// locked, and the right password gets no certificate.
func TestParallelWrongPasswordsCannotOutrunLockout(t *testing.T) {
	const wrong = 40
	b := newBench(t, nil)
	b.svc.LimitPasswordChecks(wrong+1, time.Second) // every guess in flight at once
	release := make(chan struct{})
	var held atomic.Int32
	b.svc.verify = func(password, hash string) (bool, error) {
		if password != rightPassword {
			held.Add(1)
			<-release
		}
		return VerifyPassword(password, hash)
	}
	var wg sync.WaitGroup
	errs := make([]error, wrong)
	for i := range wrong {
		wg.Go(func() {
			_, errs[i] = b.svc.Pickup(b.ctx, "192.0.2.1:50000", "kanri", "wrong-password", csr(t, newKey(t)))
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for held.Load() < wrong {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d wrong passwords reached the check", held.Load(), wrong)
		}
		time.Sleep(time.Millisecond)
	}
	u := b.user()
	if !u.Locked || u.FailedLogins != b.svc.Policy.MaxFailedLogins {
		t.Fatalf("with %d wrong passwords in flight: locked %v, %d failures counted, want locked with %d",
			wrong, u.Locked, u.FailedLogins, b.svc.Policy.MaxFailedLogins)
	}
	if _, err := b.pickup(newKey(t)); !errors.Is(err, ErrLocked) {
		t.Fatalf("the right password while the wrong ones are checked: %v, want locked", err)
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("wrong password %d: %v, want invalid credentials", i, err)
		}
	}
	if n := b.issued(); n != 0 {
		t.Fatalf("%d certificates signed for a locked ID", n)
	}
	if got := b.auditActions()["user.lock"]; got != 1 {
		t.Fatalf("%d user.lock audit rows, want 1", got)
	}
}

// TestLockedIDAnswersLockedOnlyToTheRightPassword: once locked, a wrong
// password answers like an unknown ID, so the lock reveals nothing to a guesser.
func TestLockedIDAnswersLockedOnlyToTheRightPassword(t *testing.T) {
	b := newBench(t, nil)
	login := func(id, password string) error {
		_, err := b.svc.Login(b.ctx, "192.0.2.1:50000", nil, id, password)
		return err
	}
	for range b.svc.Policy.MaxFailedLogins {
		if err := login("kanri", "wrong-password"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if !b.user().Locked {
		t.Fatal("not locked after MaxFailedLogins wrong passwords")
	}
	if err := login("kanri", "wrong-password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("wrong password on a locked ID: %v, want invalid credentials", err)
	}
	if err := login("nobody", "wrong-password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("unknown ID: %v, want invalid credentials", err)
	}
	if err := login("kanri", rightPassword); !errors.Is(err, ErrLocked) {
		t.Fatalf("right password on a locked ID: %v, want locked", err)
	}
	if err := login("nobody", "inkan-dummy-password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("unknown ID with the dummy hash's password: %v", err)
	}
}

// TestRightPasswordClearsTheCountEvenWhenTheActionIsRefused: a pickup refused
// for another reason still proves the password, so it does not count towards
// the lockout.
func TestRightPasswordClearsTheCountEvenWhenTheActionIsRefused(t *testing.T) {
	b := newBench(t, nil)
	b.mustPickup(newKey(t))
	for range 2 * b.svc.Policy.MaxFailedLogins {
		if _, err := b.pickup(newKey(t)); !errors.Is(err, ErrNoPickupOpen) {
			t.Fatalf("second pickup: %v, want pickup_not_open", err)
		}
	}
	if u := b.user(); u.Locked || u.FailedLogins != 0 {
		t.Fatalf("after refused pickups with the right password: locked %v, %d failures", u.Locked, u.FailedLogins)
	}
}
