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

// holdChecks makes b's password checks wait, once hashed, until released:
// wrong passwords on wrong, the right one on right. It returns how many of
// each are held.
func (b *bench) holdChecks(wrong, right <-chan struct{}) (heldWrong, heldRight *atomic.Int32) {
	heldWrong, heldRight = new(atomic.Int32), new(atomic.Int32)
	b.svc.verify = func(password, hash string) (bool, error) {
		ok, err := VerifyPassword(password, hash)
		if password == rightPassword {
			heldRight.Add(1)
			<-right
		} else {
			heldWrong.Add(1)
			<-wrong
		}
		return ok, err
	}
	return heldWrong, heldRight
}

// waitHeld waits until n checks are held in n.
func waitHeld(t *testing.T, held *atomic.Int32, n int32, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for held.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d %s reached the check", held.Load(), n, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestParallelWrongPasswordsCannotOutrunLockout holds 40 wrong pickup
// passwords and the right one inside the password check at once. The wrong
// ones are answered first: exactly MaxFailedLogins count, the ID is locked
// once, and the right password, checked while the ID was still open but
// settled after the lock, gets no certificate. However many guesses are in
// flight, no more than MaxFailedLogins wrong answers come before the lock.
func TestParallelWrongPasswordsCannotOutrunLockout(t *testing.T) {
	const wrong = 40
	b := newBench(t, nil)
	b.svc.LimitPasswordChecks(wrong+1, time.Second) // every guess in flight at once
	releaseWrong, releaseRight := make(chan struct{}), make(chan struct{})
	heldWrong, heldRight := b.holdChecks(releaseWrong, releaseRight)
	var wg sync.WaitGroup
	errs := make([]error, wrong)
	for i := range wrong {
		wg.Go(func() {
			_, errs[i] = b.svc.Pickup(b.ctx, "192.0.2.1:50000", "kanri", "wrong-password", csr(t, newKey(t)))
		})
	}
	rightDone := make(chan error, 1)
	go func() {
		_, err := b.pickup(newKey(t))
		rightDone <- err
	}()
	waitHeld(t, heldWrong, wrong, "wrong passwords")
	waitHeld(t, heldRight, 1, "right passwords")
	if u := b.user(); u.Locked || u.FailedLogins != 0 {
		t.Fatalf("with every check in flight and none answered: locked %v, %d failures", u.Locked, u.FailedLogins)
	}
	close(releaseWrong)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("wrong password %d: %v, want invalid credentials", i, err)
		}
	}
	u := b.user()
	if !u.Locked || u.FailedLogins != b.svc.Policy.MaxFailedLogins {
		t.Fatalf("after %d wrong passwords at once: locked %v, %d failures counted, want locked with %d",
			wrong, u.Locked, u.FailedLogins, b.svc.Policy.MaxFailedLogins)
	}
	close(releaseRight)
	if err := <-rightDone; !errors.Is(err, ErrLocked) {
		t.Fatalf("the right password settled after the lock: %v, want locked", err)
	}
	if n := b.issued(); n != 0 {
		t.Fatalf("%d certificates signed for a locked ID", n)
	}
	if got := b.auditActions()["user.lock"]; got != 1 {
		t.Fatalf("%d user.lock audit rows, want 1", got)
	}
}

// TestRightPasswordInFlightIsNotLockedOutByGuessesInFlight: the user's right
// password, answered while 40 wrong guesses are still being checked, logs in;
// the guesses then lock the ID at exactly MaxFailedLogins and end the session.
func TestRightPasswordInFlightIsNotLockedOutByGuessesInFlight(t *testing.T) {
	const wrong = 40
	b := newBench(t, nil)
	b.svc.LimitPasswordChecks(wrong+1, time.Second)
	releaseWrong, releaseRight := make(chan struct{}), make(chan struct{})
	close(releaseRight)
	heldWrong, _ := b.holdChecks(releaseWrong, releaseRight)
	login := func(password string) (LoginResult, error) {
		return b.svc.Login(b.ctx, "192.0.2.1:50000", nil, "kanri", password)
	}
	var wg sync.WaitGroup
	errs := make([]error, wrong)
	for i := range wrong {
		wg.Go(func() { _, errs[i] = login("wrong-password") })
	}
	waitHeld(t, heldWrong, wrong, "wrong passwords")
	res, err := login(rightPassword)
	if err != nil {
		t.Fatalf("the right password while %d guesses are in flight: %v", wrong, err)
	}
	close(releaseWrong)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("wrong password %d: %v, want invalid credentials", i, err)
		}
	}
	if u := b.user(); !u.Locked || u.FailedLogins != b.svc.Policy.MaxFailedLogins {
		t.Fatalf("after %d wrong passwords: locked %v, %d failures, want locked at %d", wrong, u.Locked, u.FailedLogins, b.svc.Policy.MaxFailedLogins)
	}
	if _, err := b.svc.Authorize(b.ctx, "192.0.2.1:50000", res.Token, nil); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("the session opened before the lock: %v, want ended", err)
	}
}

// TestRightPasswordsInFlightNeverCountAsFailures: with four failures already
// counted, one short of the lock, twenty right passwords of one ID checked at
// once all log in, and the count is cleared.
func TestRightPasswordsInFlightNeverCountAsFailures(t *testing.T) {
	const right = 20
	b := newBench(t, nil)
	b.svc.LimitPasswordChecks(right, time.Second)
	for range b.svc.Policy.MaxFailedLogins - 1 {
		if _, err := b.svc.Login(b.ctx, "192.0.2.1:50000", nil, "kanri", "wrong-password"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	releaseRight := make(chan struct{})
	_, heldRight := b.holdChecks(nil, releaseRight)
	var wg sync.WaitGroup
	errs := make([]error, right)
	for i := range right {
		wg.Go(func() { _, errs[i] = b.svc.Login(b.ctx, "192.0.2.1:50000", nil, "kanri", rightPassword) })
	}
	waitHeld(t, heldRight, right, "right passwords")
	close(releaseRight)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("right password %d of %d at once: %v", i, right, err)
		}
	}
	if u := b.user(); u.Locked || u.FailedLogins != 0 {
		t.Fatalf("after %d right passwords at once: locked %v, %d failures, want neither", right, u.Locked, u.FailedLogins)
	}
	if got := b.auditActions()["login"]; got != right {
		t.Fatalf("%d login audit rows, want %d", got, right)
	}
}

// TestGuessAgainstAReplacedPasswordDoesNotCount: a wrong password checked
// against the hash the ID had before its password was set is not counted
// against the new one, and the old right password no longer logs in.
func TestGuessAgainstAReplacedPasswordDoesNotCount(t *testing.T) {
	b := newBench(t, nil)
	releaseWrong, releaseRight := make(chan struct{}), make(chan struct{})
	heldWrong, heldRight := b.holdChecks(releaseWrong, releaseRight)
	done := make(chan error, 2)
	go func() {
		_, err := b.svc.Login(b.ctx, "192.0.2.1:50000", nil, "kanri", "wrong-password")
		done <- err
	}()
	go func() {
		_, err := b.svc.Login(b.ctx, "192.0.2.1:50000", nil, "kanri", rightPassword)
		done <- err
	}()
	waitHeld(t, heldWrong, 1, "wrong passwords")
	waitHeld(t, heldRight, 1, "right passwords")
	if err := b.svc.SetPassword(b.ctx, OperatorActor(), "kanri", "kanri-Neu-2027x"); err != nil {
		t.Fatal(err)
	}
	close(releaseWrong)
	close(releaseRight)
	for range 2 {
		if err := <-done; !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("a password checked against the replaced one: %v, want invalid credentials", err)
		}
	}
	if u := b.user(); u.FailedLogins != 0 {
		t.Fatalf("%d failures counted against the new password, want 0", u.FailedLogins)
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
