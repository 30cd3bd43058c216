package e2e

import (
	"context"
	"testing"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

func TestFiveWrongPasswordsLockTheID(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	pc := b.pc()
	admin := b.pickup(pc, "kanri")
	for range 5 {
		_, err := pc.Login(ctx, admin.Fingerprint, "wrong password")
		wantCode(t, "wrong password", err, wire.CodeInvalidCredentials)
	}
	_, err := pc.Login(ctx, admin.Fingerprint, password("kanri"))
	wantCode(t, "right password after five wrong ones", err, wire.CodeLocked)
	if err := b.op.UnlockUser(ctx, "kanri"); err != nil {
		t.Fatal(err)
	}
	b.login(pc, admin)
}

func TestWrongPickupPasswordLeavesNothingAndSaysSo(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	pc := b.pc()
	_, err := pc.Pickup(ctx, "kanri", "not the password", nil)
	wantCode(t, "pickup with a wrong password", err, wire.CodeInvalidCredentials)
	_, err = pc.Pickup(ctx, "nobody", "not the password", nil)
	wantCode(t, "pickup for an unknown ID", err, wire.CodeInvalidCredentials)
	if ids, _ := pc.Identities(ctx); len(ids) != 0 {
		t.Fatalf("refused pickups left %d certificates", len(ids))
	}
}

func TestAgentWithOnlyTheCAFingerprintFetchesAndChecksTheCA(t *testing.T) {
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	cfg := agent.Config{BankConfig: b.cfg}
	cfg.CACertPEM = ""
	store, _ := certstore.Open("memory")
	pc, err := agent.New(cfg, store, agent.Options{Now: b.clock.now, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	id := b.pickup(pc, "kanri")
	b.login(pc, id)

	flipped := "0"
	if cfg.CAFingerprint[0] == '0' {
		flipped = "1"
	}
	cfg.CAFingerprint = flipped + cfg.CAFingerprint[1:]
	store, _ = certstore.Open("memory")
	wrong, err := agent.New(cfg, store, agent.Options{Now: b.clock.now, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Pickup(context.Background(), "kanri", password("kanri"), nil)
	if agent.Classify(err) != agent.CategoryNetwork {
		t.Fatalf("pickup with a wrong CA fingerprint: %v", err)
	}
}

func TestAdminUnlocksAGeneralIDLockedByFiveWrongPasswords(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	pc, admin, ippan := b.adminAndGeneralOnOnePC()

	for range 5 {
		_, err := pc.Login(ctx, ippan.Fingerprint, "wrong password")
		wantCode(t, "wrong password", err, wire.CodeInvalidCredentials)
	}
	_, err := pc.Login(ctx, ippan.Fingerprint, "wrong password")
	wantCode(t, "a sixth wrong password: a locked ID says so only after the right one", err, wire.CodeInvalidCredentials)
	_, err = pc.Login(ctx, ippan.Fingerprint, password("ippan"))
	wantCode(t, "right password after five wrong ones", err, wire.CodeLocked)

	s := b.login(pc, admin)
	u, err := pc.UnlockUser(ctx, s, "ippan")
	if err != nil {
		t.Fatalf("the admin unlocks ippan: %v", err)
	}
	if u.LoginID != "ippan" || u.Locked {
		t.Fatalf("after unlock: %+v", u)
	}
	_, err = pc.UnlockUser(ctx, s, "kanri")
	wantCode(t, "the admin unlocking an admin ID", err, wire.CodeForbidden)
	b.login(pc, ippan)
}

func TestAdminResetsALockedGeneralIDsPasswordFromTheAgent(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	pc, admin, ippan := b.adminAndGeneralOnOnePC()
	before := b.login(pc, ippan)
	for range 5 {
		_, err := pc.Login(ctx, ippan.Fingerprint, "wrong password")
		wantCode(t, "wrong password", err, wire.CodeInvalidCredentials)
	}
	s := b.login(pc, admin)
	_, err := pc.SetPassword(ctx, s, "ippan", "short")
	wantCode(t, "a password the policy refuses", err, wire.CodeWeakPassword)
	_, err = pc.SetPassword(ctx, s, "kanri", "Kanri-Shin-2026")
	wantCode(t, "the admin resetting its own admin ID", err, wire.CodeForbidden)

	fresh, err := agent.NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	u, err := pc.SetPassword(ctx, s, "ippan", fresh)
	if err != nil {
		t.Fatalf("the admin resets ippan's password to %q: %v", fresh, err)
	}
	if u.LoginID != "ippan" || u.Locked {
		t.Fatalf("after the reset: %+v", u)
	}
	_, err = pc.Users(ctx, before)
	wantCode(t, "ippan's session from before the reset", err, wire.CodeUnauthenticated)
	_, err = pc.Login(ctx, ippan.Fingerprint, password("ippan"))
	wantCode(t, "the old password", err, wire.CodeInvalidCredentials)
	if _, err := pc.Login(ctx, ippan.Fingerprint, fresh); err != nil {
		t.Fatalf("ippan logs in with the new password: %v", err)
	}
	if _, err := pc.Users(ctx, s); err != nil {
		t.Fatalf("the admin's own session after the reset: %v", err)
	}
}
