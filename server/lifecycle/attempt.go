package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/inkan-dev/inkan/server/store"
)

// A password check is an attempt on an ID, and wrong passwords are what the
// lockout counts. The password is hashed against the ID's record as a read
// snapshot gave it, outside any write transaction; the attempt is then settled
// in one write transaction that reads the ID again under its write lock
// (SQLite's single writer, PostgreSQL's row lock), so that the settlements of
// one ID run one after the other, on one server or several:
//
//   - a wrong password counts one failure, and the MaxFailedLogins-th wrong
//     password locks the ID in that same transaction (recordFailure);
//   - a right password is taken only if the ID is, at that moment, neither
//     locked nor out of attempts; its count is cleared inside the very
//     transaction that acts on it, opening the session or signing the
//     certificate (settleAttempt).
//
// Nothing is answered before that transaction has committed, and an attempt
// whose request is gone by then is still counted. So however many guesses are
// in flight at once, at most MaxFailedLogins wrong passwords are answered
// between two successes, and after the last of them no password succeeds until
// the ID is unlocked: a guess in flight learns nothing that a guess after the
// lock would not. A right password never counts as a failure, so any number of
// them may be in flight at once (several PCs of one ID picking up together).
// A login or pickup costs one read and one write transaction.
//
// An unknown ID, a locked ID and a known one take the same work: one read, one
// argon2id hash and one write transaction. A locked ID answers ErrLocked only
// to the right password; anything else answers ErrInvalidCredentials, like an
// unknown ID, so that nobody can tell which IDs exist or lock them to find out.

// attempt is a right password, checked against hash, that still has to be
// settled (settleAttempt) in the transaction that acts on it.
type attempt struct {
	loginID string
	hash    string
}

// checkPassword checks password for loginID against u, the ID as a read
// snapshot gave it (nil when the snapshot had no such ID). A wrong password is
// counted (recordFailure) before it is answered with ErrInvalidCredentials.
// For the right one it returns the attempt that the caller's write
// transaction must settle first (settleAttempt).
func (s *Service) checkPassword(ctx context.Context, remoteAddr, loginID, password string, u *store.User) (attempt, error) {
	if err := checkCredentialLengths(loginID, password); err != nil {
		return attempt{}, err
	}
	release, err := s.enterCheck(ctx)
	if err != nil {
		return attempt{}, err
	}
	hash := s.dummyHash
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := s.verify(password, hash)
	release()
	if err != nil {
		return attempt{}, fmt.Errorf("verify password: %w", err)
	}
	if u == nil || !ok {
		if err := s.recordFailure(ctx, remoteAddr, loginID, hash); err != nil {
			return attempt{}, err
		}
		return attempt{}, ErrInvalidCredentials
	}
	return attempt{loginID: loginID, hash: hash}, nil
}

// snapshotUser reads loginID in a read snapshot for checkPassword: nil when
// there is no such ID.
func (s *Service) snapshotUser(ctx context.Context, loginID string) (*store.User, error) {
	var out *store.User
	err := s.Store.View(ctx, func(tx store.Tx) error {
		u, err := tx.User(loginID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out = &u
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load user %s: %w", LogID(loginID), err)
	}
	return out, nil
}

// recordFailure counts a wrong password for loginID, checked against hash,
// and locks the ID when that was its last attempt. It is one write
// transaction for a known ID and an unknown one alike. The write does not
// depend on the request: a guess that was hashed is counted even if its
// caller has gone. A guess checked against a hash the ID no longer has (its
// password was set meanwhile, which also cleared the count) is not counted.
func (s *Service) recordFailure(ctx context.Context, remoteAddr, loginID, hash string) error {
	now := s.now()
	err := s.Store.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
		u, err := tx.User(loginID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if u.Locked || u.PasswordHash != hash {
			return nil
		}
		if u.FailedLogins < s.Policy.MaxFailedLogins {
			u.FailedLogins++
		}
		if u.FailedLogins >= s.Policy.MaxFailedLogins {
			return s.lock(tx, u, remoteAddr, now)
		}
		return tx.UpdateUser(u)
	})
	if err != nil {
		return fmt.Errorf("count a wrong password for %s: %w", LogID(loginID), err)
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

// settleAttempt is the first step of the write transaction that acts on the
// right password of a: it reads the ID again and refuses the attempt if the ID
// was deleted or its password set meanwhile (ErrInvalidCredentials), or if it
// is locked or out of attempts now (ErrLocked); else it clears the ID's
// failure count, which commits with whatever the transaction does.
func (s *Service) settleAttempt(tx store.Tx, a attempt) (store.User, error) {
	u, err := tx.User(a.loginID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrInvalidCredentials // deleted while the password was checked
	}
	if err != nil {
		return store.User{}, fmt.Errorf("load user %s: %w", LogID(a.loginID), err)
	}
	if u.PasswordHash != a.hash {
		return store.User{}, ErrInvalidCredentials // checked against a password the ID no longer has
	}
	if u.Locked || u.FailedLogins >= s.Policy.MaxFailedLogins {
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
