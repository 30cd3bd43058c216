package lifecycle

import (
	"strings"
	"testing"
	"time"
)

func TestPasswordHashVerifiesOnlyItsPassword(t *testing.T) {
	p := Argon2Params{Time: 1, Memory: 64, Threads: 1, KeyLen: 32}
	hash, err := HashPassword("correct horse", p)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := VerifyPassword("correct horse", hash); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := VerifyPassword("wrong horse", hash); ok {
		t.Fatal("a wrong password verified")
	}
	if _, err := VerifyPassword("x", "$2a$10$bcrypt"); err == nil {
		t.Fatal("a non-argon2id hash verified without error")
	}
}

func TestPolicyValidateNamesTheField(t *testing.T) {
	p := DefaultPolicy("1376")
	p.RenewBeforeDays = 400
	if err := p.Validate(); err == nil || !strings.HasPrefix(err.Error(), "renew_before_days:") {
		t.Fatalf("renew_before_days 400: %v", err)
	}
	p = DefaultPolicy("1376")
	p.Argon2.Threads = 0
	if err := p.Validate(); err == nil || !strings.HasPrefix(err.Error(), "argon2.threads:") {
		t.Fatalf("argon2 threads 0: %v", err)
	}
}

func TestDaysLeftCountsWholeDays(t *testing.T) {
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		notAfter time.Time
		want     int
	}{
		{now.Add(30 * Day), 30},
		{now.Add(30*Day - time.Second), 29},
		{now, 0},
		{now.Add(-time.Second), -1},
		{now.Add(-Day), -1},
	} {
		if got := DaysLeft(c.notAfter, now); got != c.want {
			t.Errorf("DaysLeft(%v) = %d, want %d", c.notAfter.Sub(now), got, c.want)
		}
	}
}
