package server

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/inkan-dev/inkan/wire"
)

// PasswordLimiter decides, per client, whether a request that checks a
// password may go ahead. Only wrong passwords (and unknown IDs) are charged,
// after the fact, so any number of right ones, at once or in a row, go
// through, and a whole office behind one address can still log in at nine
// o'clock. Parallel wrong guesses that were allowed together run the client
// into debt, which it then waits off.
type PasswordLimiter interface {
	// Allow reports whether client may try a password now; if not, how long until it may.
	Allow(client string) (ok bool, retryAfter time.Duration)
	// Charge counts a wrong password against client.
	Charge(client string)
}

// IPLimiter is the default PasswordLimiter: a token bucket per remote IP
// address, refilled at a steady rate up to a burst. A charge may take the
// bucket below zero, down to minus the burst.
type IPLimiter struct {
	perToken time.Duration
	burst    float64
	now      func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastPrune time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

var _ PasswordLimiter = (*IPLimiter)(nil)

// NewIPLimiter allows each address burst wrong passwords at once and perMinute
// a minute after that. now may be nil for the wall clock.
func NewIPLimiter(perMinute, burst int, now func() time.Time) *IPLimiter {
	if now == nil {
		now = time.Now
	}
	return &IPLimiter{perToken: time.Minute / time.Duration(perMinute), burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// Taken login IDs: an admin who creates an ID learns from already_exists
// that the ID exists somewhere on this server, in another company's contract
// as well (login IDs are unique server-wide, since the login needs no contract
// number). So that this cannot be used to list other companies' IDs, each
// contract gets takenIDBurst such answers at once and one more every
// takenIDEvery, and every one is audited (user.create.taken), where the bank
// sees who asked for what.
const (
	takenIDBurst = 10
	takenIDEvery = 6 * time.Minute // ten an hour
)

// newTakenIDLimiter is the limiter of already_exists answers, keyed by contract ID.
func newTakenIDLimiter(now func() time.Time) *IPLimiter {
	if now == nil {
		now = time.Now
	}
	return &IPLimiter{perToken: takenIDEvery, burst: takenIDBurst, now: now, buckets: map[string]*bucket{}}
}

// fill returns client's bucket, refilled up to now. l.mu is held.
func (l *IPLimiter) fill(client string, now time.Time) *bucket {
	b := l.buckets[client]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[client] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.perToken))
	b.at = now
	return b
}

// Allow implements PasswordLimiter.
func (l *IPLimiter) Allow(client string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	b := l.fill(client, now)
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) * float64(l.perToken))
	}
	return true, 0
}

// Charge implements PasswordLimiter.
func (l *IPLimiter) Charge(client string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.fill(client, now)
	b.tokens = math.Max(-l.burst, b.tokens-1)
}

// prune forgets, once a minute, the buckets that have filled up again: they
// are the same as no bucket, and a flood of addresses must not grow the map
// for ever. l.mu is held.
func (l *IPLimiter) prune(now time.Time) {
	if now.Sub(l.lastPrune) < time.Minute {
		return
	}
	l.lastPrune = now
	for client := range l.buckets {
		if b := l.fill(client, now); b.tokens >= l.burst {
			delete(l.buckets, client)
		}
	}
}

// clientIP is the address a request's allowance is counted against.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limitPasswords runs next, a handler that checks a password, within the
// client's allowance: without one the answer is 429 rate_limited with
// Retry-After, given by fail in the handler's own format. An answer of
// invalid_credentials is charged to the client.
func (s *Server) limitPasswords(next http.HandlerFunc, fail func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		client := clientIP(r)
		ok, wait := s.limiter.Allow(client)
		if !ok {
			w.Header().Set("Retry-After", retryAfterSeconds(wait))
			fail(w, r, refuse(wire.CodeRateLimited, "too many wrong passwords from your address: wait "+retryAfterSeconds(wait)+" seconds and try again"))
			return
		}
		next(w, r)
		if wire.Code(w.Header().Get(wire.CodeHeader)) == wire.CodeInvalidCredentials {
			s.limiter.Charge(client)
		}
	}
}

// retryAfterSeconds is d as a Retry-After value: whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
