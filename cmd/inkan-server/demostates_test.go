package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/wire"
)

func TestDemoAllStatesIssuesEachCertificateOnItsOwnDay(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bank")
	run(t, "", "init", "--demo", "--demo-shift-days", "-500", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin")
	var demo struct {
		ContractID string      `json:"contract_id"`
		Users      []stateUser `json:"users"`
	}
	if err := json.Unmarshal([]byte(run(t, "", "demo", "--scenario", "all-states", "--data", data, "--json")), &demo); err != nil {
		t.Fatal(err)
	}
	cfg, err := server.LoadConfig(filepath.Join(data, server.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Policy.AutoRenew == nil || *cfg.Policy.AutoRenew {
		t.Fatal("all-states left auto_renew on: the agent would renew the certificates in their window before anyone sees them")
	}
	var users []wire.User
	if err := json.Unmarshal([]byte(run(t, "", "user", "list", "--data", data, "--contract", demo.ContractID, "--json")), &users); err != nil {
		t.Fatal(err)
	}
	state := map[string]wire.User{}
	for _, u := range users {
		state[u.LoginID] = u
	}
	now := time.Now()
	for _, u := range demo.Users {
		if len(u.Password) < 8 || u.State == "" {
			t.Fatalf("%s: password %q, state %q", u.LoginID, u.Password, u.State)
		}
		got := state[u.LoginID].Certificate
		switch {
		case u.IssueDay == nil:
			if got.State != wire.CertNone {
				t.Fatalf("%s was never to be issued, and is %s", u.LoginID, got.State)
			}
		case got.IssuedAt == nil:
			t.Fatalf("%s: no issue date (%+v)", u.LoginID, got)
		default:
			if d := got.IssuedAt.Sub(now).Hours() / 24; d < float64(*u.IssueDay)-0.01 || d > float64(*u.IssueDay)+0.01 {
				t.Fatalf("%s was issued %.2f days from today, want %d", u.LoginID, d, *u.IssueDay)
			}
			want := wire.CertAwaitingPickup
			if *u.IssueDay < -cfg.Policy.PickupWindowDays {
				want = wire.CertPickupLapsed
			}
			if got.State != want {
				t.Fatalf("%s (issued on day %d, awaiting the agent's pickup) is %s, want %s", u.LoginID, *u.IssueDay, got.State, want)
			}
		}
	}
	for _, want := range []string{"demo-admin", "demo-renew", "demo-10days", "demo-expired", "demo-toolate", "demo-revoked", "demo-replaced", "demo-locked", "demo-waiting", "demo-lapsed", "demo-none"} {
		if _, ok := state[want]; !ok {
			t.Errorf("no %s in the all-states contract", want)
		}
	}
	if state["demo-admin"].Role != wire.RoleAdmin {
		t.Fatal("demo-admin is not the contract's admin")
	}
}

func TestDemoClockIsForDemoDataDirectoriesOnly(t *testing.T) {
	data := filepath.Join(t.TempDir(), "bank")
	if _, err := runErr(t, "", "init", "--demo-shift-days", "-5", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin",
		"--revocation-url", "http://pki.bank.example.jp", "--policy-oid", "1.2.392.999.1"); err == nil || !strings.Contains(err.Error(), "--demo") {
		t.Fatalf("init of a bank's data directory on a shifted clock: %v", err)
	}
	run(t, "", "init", "--data", data, "--bank-code", "1376", "--bank-name", "Test Shinkin",
		"--revocation-url", "http://pki.bank.example.jp", "--policy-oid", "1.2.392.999.1")
	for _, args := range [][]string{
		{"contract", "list", "--demo-shift-days", "-5", "--data", data},
		{"demo", "--scenario", "all-states", "--data", data},
	} {
		if _, err := runErr(t, "", args...); err == nil || !strings.Contains(err.Error(), "not a demo data directory") {
			t.Fatalf("inkan-server %s on a bank's data directory: %v", strings.Join(args, " "), err)
		}
	}
	demo := filepath.Join(t.TempDir(), "demo")
	run(t, "", "init", "--demo", "--data", demo, "--bank-code", "1376", "--bank-name", "Test Shinkin")
	if _, err := runErr(t, "", "demo", "--scenario", "all-states", "--data", demo); err == nil || !strings.Contains(err.Error(), "--demo-shift-days -") {
		t.Fatalf("all-states in a demo whose CA starts today: %v", err)
	}
	if _, err := runErr(t, "", "demo", "--scenario", "every-state", "--data", demo); err == nil || !strings.Contains(err.Error(), "all-states") {
		t.Fatalf("an unknown scenario: %v", err)
	}
}
