package agent

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/wire"
)

func TestAutoRenewRenewsEachDueCertificateOnceWithANewKey(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a := newTestAgent(t, b, memoryStore(t), c)
	old, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := a.AutoRenew(t.Context(), AutoRenewOptions{}); err != nil || len(rs) != 0 {
		t.Fatalf("before the window opens: %v, %v; want nothing", rs, err)
	}
	c.add(336 * day) // 29 days before expiry
	rs, err := a.AutoRenew(t.Context(), AutoRenewOptions{})
	if err != nil || len(rs) != 1 || rs[0].Err != nil {
		t.Fatalf("in the window: %+v, %v", rs, err)
	}
	renewed := rs[0].New
	if renewed.Fingerprint == old.Fingerprint || renewed.Label != "alice+1376" || !renewed.NotAfter.After(old.NotAfter) {
		t.Fatalf("renewed %+v from %+v", renewed, old)
	}
	if !strings.Contains(RenewedNotice(rs[0], "ja"), "電子証明書を更新しました") {
		t.Fatalf("notice %q", RenewedNotice(rs[0], "ja"))
	}
	ids, _ := a.Identities(t.Context())
	if len(ids) != 1 || ids[0].Fingerprint != renewed.Fingerprint {
		t.Fatalf("after renewal the store holds %v, want the new one alone", labels(ids))
	}
	requests := b.requests
	if rs, err := a.AutoRenew(t.Context(), AutoRenewOptions{}); err != nil || len(rs) != 0 || b.requests != requests {
		t.Fatalf("a second run renewed again: %+v, %v", rs, err)
	}
}

func TestAutoRenewObeysTheBanksPolicy(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	b.policy = &wire.Policy{AutoRenew: false, RenewBeforeDays: 30, RenewAfterDays: 90}
	a := newTestAgent(t, b, memoryStore(t), c)
	old, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.add(340 * day)
	if _, err := a.AutoRenew(t.Context(), AutoRenewOptions{}); !errors.Is(err, ErrAutoRenewOff) {
		t.Fatalf("policy off: %v, want ErrAutoRenewOff", err)
	}
	ids, _ := a.Identities(t.Context())
	if len(ids) != 1 || ids[0].Fingerprint != old.Fingerprint {
		t.Fatal("a refused automatic renewal changed the store")
	}
	b.policy.AutoRenew = true
	if rs, err := a.AutoRenew(t.Context(), AutoRenewOptions{}); err != nil || len(rs) != 1 || rs[0].Err != nil {
		t.Fatalf("policy on: %+v, %v", rs, err)
	}
}

func TestAutoRenewRetriesABusyServerAndKeepsTheOldCertificateOnRefusal(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a := newTestAgent(t, b, memoryStore(t), c)
	old, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.add(340 * day)
	b.refuse = wire.CodeRenewalWindowClosed
	rs, err := a.AutoRenew(t.Context(), AutoRenewOptions{Backoff: 1})
	if err != nil || len(rs) != 1 || Code(rs[0].Err) != wire.CodeRenewalWindowClosed || rs[0].Attempts != 1 {
		t.Fatalf("a refusal: %+v, %v; want it once, not retried", rs, err)
	}
	if !strings.Contains(RenewedNotice(rs[0], "ja"), "自動で更新できませんでした") {
		t.Fatalf("failure notice %q", RenewedNotice(rs[0], "ja"))
	}
	ids, _ := a.Identities(t.Context())
	if len(ids) != 1 || ids[0].Fingerprint != old.Fingerprint {
		t.Fatal("the old certificate went with a failed renewal")
	}
	b.refuse = wire.CodeUnavailable
	rs, _ = a.AutoRenew(t.Context(), AutoRenewOptions{Attempts: 3, Backoff: 1})
	if len(rs) != 1 || rs[0].Attempts != 3 || Code(rs[0].Err) != wire.CodeUnavailable {
		t.Fatalf("a busy server: %+v; want 3 attempts", rs)
	}
}

func TestRunAutoRenewNotifiesTheRenewalAndStopsWithItsContext(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	a := newTestAgent(t, b, memoryStore(t), c)
	if _, err := a.Pickup(t.Context(), "alice", "pw", nil); err != nil {
		t.Fatal(err)
	}
	c.add(340 * day)
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan Renewal, 4)
	done := make(chan struct{})
	go func() {
		a.RunAutoRenew(ctx, time.Hour, func(r Renewal) { got <- r })
		close(done)
	}()
	select {
	case r := <-got:
		if r.Err != nil || r.New == nil || !strings.Contains(RenewedNotice(r, "ja"), "電子証明書を更新しました") {
			t.Fatalf("notified %+v", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no renewal notified")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunAutoRenew did not stop with its context")
	}
}
