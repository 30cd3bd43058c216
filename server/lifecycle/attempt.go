package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/inkan-dev/inkan/server/store"
)

// A password check is an attempt on an ID, and attempts are what the lockout
// counts. So that parallel guesses cannot outrun the count, every attempt is
// reserved before the password is hashed: a write transaction counts it as a
// failure up front, or grants no attempt at all when the ID is locked or has
// used up its MaxFailedLogins. A right password then clears the count inside
// the very transaction that acts on it (opens the session, signs the
// certificate), which reads Locked again (settleAttempt). At most
// MaxFailedLogins checks can therefore be in flight or done between two
// successes, however many requests arrive at once.
//
// An unknown ID, a locked ID and a known one take the same work: one write
// transaction and one argon2id hash. A locked ID answers ErrLocked only to the
// right password; anything else answers ErrInvalidCredentials, like an unknown
// ID, so that nobody can tell which IDs exist or lock them to find out.

// checkPassword reserves an attempt on loginID and checks password. It returns
// nil only for the right password of an ID that had an attempt left; the caller
// must then call settleAttempt in the transaction that acts on the login.
func (s *Service) checkPassword(ctx context.Context, remoteAddr, loginID, password string) error {
	if err := checkCredentialLengths(loginID, password); err != nil {
		return err
	}
	release, err := s.enterCheck(ctx)
	if err != nil {
		return err
	}
	defer release()
	var hash string
	var known, granted bool
	var count int
	now := s.now()
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.User(loginID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		hash, known = u.PasswordHash, true
		if u.Locked {
			return nil
		}
		if u.FailedLogins >= s.Policy.MaxFailedLogins {
			return s.lock(tx, u, remoteAddr, now)
		}
		u.FailedLogins++
		count, granted = u.FailedLogins, true
		return tx.UpdateUser(u)
	})
	if err != nil {
		return fmt.Errorf("reserve a password attempt: %w", err)
	}
	if !known {
		hash = s.dummyHash
	}
	ok, err := s.verify(password, hash)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	switch {
	case !known || !ok:
		if granted && count >= s.Policy.MaxFailedLogins {
			if err := s.lockIfUsedUp(ctx, remoteAddr, loginID, now); err != nil {
				return err
			}
		}
		return ErrInvalidCredentials
	case !granted:
		return ErrLocked
	}
	return nil
}

// DefaultCheckWait is how long a password check waits for a free slot by default.
const DefaultCheckWait = 3 * time.Second

// DefaultCheckSlots is how many password checks run at once by default: twice
// the CPUs Go uses, enough to keep them busy, while the argon2id memory of all
// checks together stays bounded (19 MiB each with the default parameters).
func DefaultCheckSlots() int { return 2 * runtime.GOMAXPROCS(0) }

// LimitPasswordChecks lets at most slots password checks run at once; a check
// that finds no free slot within wait is refused with ErrBusy. Each check
// holds argon2id's memory, so this bounds what unauthenticated requests can
// make the server allocate. Call it before the Service is used.
func (s *Service) LimitPasswordChecks(slots int, wait time.Duration) {
	s.checkSlots, s.checkWait = make(chan struct{}, slots), wait
}

// enterCheck takes a password-check slot, waiting at most s.checkWait.
func (s *Service) enterCheck(ctx context.Context) (release func(), err error) {
	select {
	case s.checkSlots <- struct{}{}:
		return func() { <-s.checkSlots }, nil
	default:
	}
	t := time.NewTimer(s.checkWait)
	defer t.Stop()
	select {
	case s.checkSlots <- struct{}{}:
		return func() { <-s.checkSlots }, nil
	case <-t.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a password check: %w", ctx.Err())
	}
}

// lockIfUsedUp locks loginID when its failure count still stands at the limit
// (a right password in flight may have cleared it meanwhile).
func (s *Service) lockIfUsedUp(ctx context.Context, remoteAddr, loginID string, now time.Time) error {
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.User(loginID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if u.Locked || u.FailedLogins < s.Policy.MaxFailedLogins {
			return nil
		}
		return s.lock(tx, u, remoteAddr, now)
	})
	if err != nil {
		return fmt.Errorf("lock %s: %w", LogID(loginID), err)
	}
	return nil
}

// lock locks u after too many wrong passwords and ends its sessions, with an audit row.
func (s *Service) lock(tx store.Tx, u store.User, remoteAddr string, now time.Time) error {
	u.Locked = true
	if err := tx.UpdateUser(u); err != nil {
		return err
	}
	if err := tx.DeleteSessionsOf(u.LoginID); err != nil {
		return err
	}
	a := Actor{Name: u.LoginID, RemoteAddr: remoteAddr}
	return audit(tx, now, a, "user.lock", u.LoginID, fmt.Sprintf("%d wrong passwords", u.FailedLogins))
}

// settleAttempt is the first step of the transaction that acts on a right
// password: it reads loginID again, refuses it if it was locked meanwhile, and
// clears its failure count.
func settleAttempt(tx store.Tx, loginID string) (store.User, error) {
	u, err := tx.User(loginID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrInvalidCredentials // deleted while the password was checked
	}
	if err != nil {
		return store.User{}, fmt.Errorf("load user %s: %w", LogID(loginID), err)
	}
	if u.Locked {
		return store.User{}, ErrLocked
	}
	if u.FailedLogins != 0 {
		u.FailedLogins = 0
		if err := tx.UpdateUser(u); err != nil {
			return store.User{}, err
		}
	}
	return u, nil
}
