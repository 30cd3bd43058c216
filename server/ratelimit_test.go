package server

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

func TestWrongPasswordsFromOneAddressAreRateLimited(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Limits.WrongPasswordBurst, c.Limits.WrongPasswordsPerMinute = 3, 1 })
	cid := e.contract("Sato Shoji", "admin1")
	e.user(cid, "general1", wire.RoleGeneral)
	for range 10 { // right passwords use up nothing
		e.mustLogin(nil, "general1", pw("general1"))
	}
	_, r := e.login(nil, "nobody", "wrong-password")
	want(t, "unknown ID", r, http.StatusUnauthorized, wire.CodeInvalidCredentials)
	_, r = e.login(nil, "general1", "wrong-password")
	want(t, "wrong password", r, http.StatusUnauthorized, wire.CodeInvalidCredentials)
	want(t, "wrong pickup password", e.enroll("general1", "wrong-password", csrFor(t, newKey(t))), http.StatusUnauthorized, wire.CodeInvalidCredentials)
	_, r = e.login(nil, "general1", pw("general1"))
	want(t, "login past the burst", r, http.StatusTooManyRequests, wire.CodeRateLimited)
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("429 without a Retry-After: %q", ra)
	}
	est := e.enroll("general1", pw("general1"), csrFor(t, newKey(t)))
	want(t, "pickup past the burst", est, http.StatusTooManyRequests, wire.CodeRateLimited)
	if est.header.Get("Retry-After") == "" {
		t.Fatal("EST 429 without a Retry-After")
	}
	if u := e.storedUser("general1"); u.FailedLogins != 2 {
		t.Fatalf("%d failures counted, want 2: a refused request must not reach the password check", u.FailedLogins)
	}
}

func TestPasswordChecksBeyondTheSlotsAnswerUnavailable(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.Limits.PasswordChecks, c.Limits.PasswordCheckWaitMS, c.Limits.WrongPasswordBurst = 1, 1, 1000
		// Unknown IDs are checked against a hash made with these: slow enough to overlap.
		c.Policy.Argon2 = lifecycle.Argon2Params{Time: 3, Memory: 32 * 1024, Threads: 1, KeyLen: 32}
	})
	var mu sync.Mutex
	got := map[wire.Code]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, r := e.login(nil, "nobody", "wrong-password")
			mu.Lock()
			defer mu.Unlock()
			got[r.code]++
			if r.code == wire.CodeUnavailable && (r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "") {
				t.Errorf("busy answer: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
			}
		})
	}
	wg.Wait()
	if got[wire.CodeUnavailable] == 0 || got[wire.CodeInvalidCredentials] == 0 || len(got) != 2 {
		t.Fatalf("8 checks at once with one slot answered %v, want some unavailable and the rest invalid_credentials", got)
	}
}

func TestIPLimiterRefillsAtItsRate(t *testing.T) {
	now := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	l := NewIPLimiter(6, 2, func() time.Time { return now }) // one token every 10 s
	for i := range 2 {
		if ok, _ := l.Allow("192.0.2.1"); !ok {
			t.Fatalf("attempt %d within the burst refused", i)
		}
		l.Charge("192.0.2.1")
	}
	ok, wait := l.Allow("192.0.2.1")
	if ok || wait != 10*time.Second {
		t.Fatalf("past the burst: %v, retry after %s, want refused for 10s", ok, wait)
	}
	if ok, _ := l.Allow("192.0.2.2"); !ok {
		t.Fatal("another address shares the bucket")
	}
	now = now.Add(10 * time.Second)
	if ok, _ := l.Allow("192.0.2.1"); !ok {
		t.Fatal("no attempt after the refill time")
	}
	for range 10 { // parallel guesses allowed together run into debt, at most a burst deep
		l.Charge("192.0.2.1")
	}
	if ok, wait := l.Allow("192.0.2.1"); ok || wait != 30*time.Second {
		t.Fatalf("in debt: %v, retry after %s, want refused for 30s", ok, wait)
	}
	now = now.Add(time.Hour)
	l.Allow("192.0.2.3")
	if n := len(l.buckets); n != 1 {
		t.Fatalf("%d buckets after an hour, want only the one just used", n)
	}
}
