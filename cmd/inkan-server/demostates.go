package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/wire"
)

// What the admin does to an all-states ID after the pickups (stateUser.Then).
const (
	thenRevoke = "revoke" // 失効: the certificate on the PC is revoked
	thenIssue  = "issue"  // 発行 again: the one on the PC is superseded, a new one awaits pickup
	thenLock   = "lock"   // five wrong passwords: the ID is locked
)

// stateUser is one ID of the all-states scenario.
type stateUser struct {
	LoginID  string    `json:"login_id"`
	Name     string    `json:"display_name"`
	Role     wire.Role `json:"role"`
	Password string    `json:"password"`
	// IssueDay is the day, from today, the server issues the certificate
	// (opens its pickup window); nil for an ID that never had one.
	IssueDay *int `json:"issue_day,omitempty"`
	// PickupDay is the day the real agent must pick it up on (serve
	// --demo-shift-days PICKUP_DAY, then inkanctl pickup); nil: no pickup.
	PickupDay *int `json:"pickup_day,omitempty"`
	// Then is what the admin does today, after the pickups: thenRevoke,
	// thenIssue, thenLock or "".
	Then string `json:"then,omitempty"`
	// State is what the demo shows for the ID today.
	State string `json:"state"`
}

// allStates is the scenario under policy p: one ID for each state, its days
// worked out from the policy's own windows so that each lands in its state.
func allStates(p server.PolicyConfig) []stateUser {
	day := func(d int) *int { return &d }
	v, before, after, window := p.ValidityDays, p.RenewBeforeDays, p.RenewAfterDays, p.PickupWindowDays
	picked := func(id, name string, role wire.Role, d int, then, state string) stateUser {
		return stateUser{LoginID: id, Name: name, Role: role, IssueDay: day(d), PickupDay: day(d), Then: then, State: state}
	}
	return []stateUser{
		picked("demo-admin", "管理者 デモ", wire.RoleAdmin, -(v - 65), "", fmt.Sprintf("valid, %d days left (the admin: 利用者管理)", 65)),
		picked("demo-valid", "有効 太郎", wire.RoleGeneral, 0, "", fmt.Sprintf("valid, %d days left", v)),
		picked("demo-renew", "更新期間 花子", wire.RoleApprover, -(v - (before - 5)), "", fmt.Sprintf("in the renewal window, %d days left (notice, banner, tray)", before-5)),
		picked("demo-10days", "十日前 次郎", wire.RoleGeneral, -(v - 10), "", "in the renewal window, 10 days left (the 10-day e-mail)"),
		picked("demo-expired", "期限切れ 三郎", wire.RoleGeneral, -(v + 10), "", fmt.Sprintf("expired 10 days ago, still renewable for %d days", after-10)),
		picked("demo-toolate", "更新期限切れ 四郎", wire.RoleGeneral, -(v + after + 5), "", fmt.Sprintf("expired %d days ago, past the renewal window: needs a reissue", after+5)),
		picked("demo-revoked", "失効 五郎", wire.RoleGeneral, 0, thenRevoke, "revoked by the admin"),
		picked("demo-replaced", "再発行待ち 六子", wire.RoleGeneral, 0, thenIssue, "superseded by a new issue, which awaits pickup"),
		picked("demo-locked", "ロック 七海", wire.RoleGeneral, 0, thenLock, "locked after wrong passwords"),
		{LoginID: "demo-waiting", Name: "取得待ち 八郎", Role: wire.RoleGeneral, IssueDay: day(0), State: fmt.Sprintf("issued today, awaiting pickup (%d days)", window)},
		{LoginID: "demo-lapsed", Name: "取得期限切れ 九子", Role: wire.RoleGeneral, IssueDay: day(-(window + 10)), State: "pickup window lapsed 10 days ago: needs a reissue"},
		{LoginID: "demo-none", Name: "未発行 十郎", Role: wire.RoleGeneral, State: "no certificate issued"},
	}
}

// movableClock is a clock the all-states set-up moves from day to day.
type movableClock struct {
	mu sync.Mutex
	at time.Time
}

func (m *movableClock) now() time.Time   { m.mu.Lock(); defer m.mu.Unlock(); return m.at }
func (m *movableClock) set(at time.Time) { m.mu.Lock(); m.at = at; m.mu.Unlock() }

// demoAllStates creates the all-states contract: its IDs, each certificate
// issued on its own day, and auto_renew off (see demoCmd).
func (c *cli) demoAllStates(ctx context.Context) error {
	if c.dataDir == "" {
		return errors.New("--data is required")
	}
	if _, err := c.demoClock(); err != nil { // a demo data directory only
		return err
	}
	cfg, err := server.LoadConfig(filepath.Join(c.dataDir, server.ConfigFile))
	if err != nil {
		return err
	}
	users := allStates(cfg.Policy)
	today := time.Now()
	clock := &movableClock{at: today}
	s, err := c.openWith(server.Options{Now: clock.now})
	if err != nil {
		return err
	}
	if err := errors.Join(c.createAllStates(ctx, s, clock, today, users), s.Shutdown(context.Background())); err != nil {
		return err
	}
	return server.SetAutoRenew(c.dataDir, false)
}

func (c *cli) createAllStates(ctx context.Context, s *server.Server, clock *movableClock, today time.Time, users []stateUser) error {
	at := func(d *int) time.Time {
		if d == nil {
			return today
		}
		return today.Add(time.Duration(*d) * 24 * time.Hour)
	}
	// Every certificate must chain to a CA that existed on its pickup day.
	bc, err := s.BankConfig("")
	if err != nil {
		return err
	}
	block, _ := pem.Decode([]byte(bc.CACertPEM))
	if block == nil {
		return errors.New("the demo's root CA certificate is not PEM")
	}
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("the demo's root CA certificate: %w", err)
	}
	oldest := slices.MinFunc(users, func(a, b stateUser) int { return at(a.IssueDay).Compare(at(b.IssueDay)) })
	if first := at(oldest.IssueDay); !root.NotBefore.Before(first) {
		need := int(today.Sub(first).Hours()/24) + 5
		return fmt.Errorf("the demo's CA starts %s, after %s's certificate (%s): make the data directory with init --demo --demo-shift-days -%d", root.NotBefore.Format(time.DateOnly), oldest.LoginID, first.Format(time.DateOnly), need)
	}

	op := s.Operator()
	name := "全状態デモ商事株式会社"
	clock.set(at(oldest.IssueDay).Add(-time.Hour))
	cid, err := op.CreateContract(ctx, name)
	if err != nil {
		return err
	}
	for i := range users {
		u := &users[i]
		u.Password = demoPassword()
		if err := op.CreateUser(ctx, cid, u.LoginID, u.Role, u.Name, u.LoginID+"@demo.example.jp", u.Password); err != nil {
			return err
		}
	}
	// Issue in the order of the days, each on its own day.
	order := slices.Clone(users)
	slices.SortStableFunc(order, func(a, b stateUser) int { return at(a.IssueDay).Compare(at(b.IssueDay)) })
	for _, u := range order {
		if u.IssueDay == nil {
			continue
		}
		clock.set(at(u.IssueDay))
		if err := op.IssueCertificate(ctx, u.LoginID); err != nil {
			return err
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Demo contract %s: %s, an ID for every state (auto_renew is off).\n", cid, name)
	fmt.Fprintf(&b, "Issued on the day of PICKUP (days from today); the agent picks each up on that day, then the admin does THEN today.\n\n")
	fmt.Fprintf(&b, "%-16s %-9s %-18s %-6s %-7s %s\n", "LOGIN ID", "ROLE", "PASSWORD", "PICKUP", "THEN", "STATE")
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, u := range users {
		pickup := "-"
		if u.PickupDay != nil {
			pickup = strconv.Itoa(*u.PickupDay)
		}
		fmt.Fprintf(&b, "%-16s %-9s %-18s %-6s %-7s %s\n", u.LoginID, u.Role, u.Password, pickup, dash(u.Then), u.State)
	}
	return c.print(map[string]any{"contract_id": cid, "contract_name": name, "scenario": "all-states", "users": users}, b.String())
}
