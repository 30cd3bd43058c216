package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/wire"
)

func TestAdminPicksUpLogsInAndIssuesForTwoIDsOfferedByTheChooser(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	pc := b.pc()
	admin := b.pickup(pc, "kanri")
	if admin.Label != "kanri+1376" || admin.Subject.Role != wire.RoleAdmin || admin.State != agent.StateValid {
		t.Fatalf("admin certificate: %s %s %s", admin.Label, admin.Subject.Role, admin.State)
	}
	ids, _ := pc.Identities(ctx)
	if only, ok := agent.AutoChoice(ids); !ok || only.Fingerprint != admin.Fingerprint {
		t.Fatal("with one certificate the chooser should not ask")
	}
	s := b.login(pc, admin)
	if !s.CertificateMode || s.User.Role != wire.RoleAdmin {
		t.Fatalf("admin session: certificate mode %v, role %s", s.CertificateMode, s.User.Role)
	}
	for _, u := range []struct {
		id   string
		role wire.Role
	}{{"shonin", wire.RoleApprover}, {"ippan", wire.RoleGeneral}} {
		created, err := pc.CreateUser(ctx, s, wire.CreateUserRequest{LoginID: u.id, Role: u.role, Password: password(u.id), IssueCertificate: true})
		if err != nil {
			t.Fatalf("create %s: %v", u.id, err)
		}
		if created.Certificate.State != wire.CertAwaitingPickup {
			t.Fatalf("%s: certificate %s, want awaiting pickup", u.id, created.Certificate.State)
		}
	}
	users, err := pc.Users(ctx, s)
	if err != nil || len(users) != 3 {
		t.Fatalf("Users() = %d users, %v", len(users), err)
	}
	if err := pc.Logout(ctx, s); err != nil {
		t.Fatal(err)
	}

	// Two more IDs picked up on the same PC: the chooser offers all three.
	b.pickup(pc, "shonin")
	ippan := b.pickup(pc, "ippan")
	ids, _ = pc.Identities(ctx)
	var labels []string
	for _, id := range ids {
		labels = append(labels, id.Label)
	}
	if strings.Join(labels, ",") != "kanri+1376,ippan+1376,shonin+1376" {
		t.Fatalf("chooser: %v, want the last used (kanri) first, then by label", labels)
	}
	if _, ok := agent.AutoChoice(ids); ok {
		t.Fatal("the chooser must ask among three usable certificates")
	}
	b.login(pc, ippan)
	ids, _ = pc.Identities(ctx)
	if ids[0].Label != "ippan+1376" {
		t.Fatalf("after ippan's login the chooser starts with %s", ids[0].Label)
	}
}

func TestPickupIsRefusedAfterThe80DayWindowUntilReissued(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	b.user("ippan", wire.RoleGeneral, true)
	pc := b.pc()
	admin := b.pickup(pc, "kanri")

	b.clock.add(81 * day)
	_, err := pc.Pickup(ctx, "ippan", password("ippan"), nil)
	wantCode(t, "pickup on day 81", err, wire.CodePickupLapsed)
	if !strings.Contains(agent.Message(err, "ja"), "再発行") {
		t.Errorf("message does not say to ask for 再発行: %s", agent.Message(err, "ja"))
	}
	if ids, _ := pc.Identities(ctx); len(ids) != 1 {
		t.Fatalf("a refused pickup left %d identities", len(ids))
	}

	// The contract's admin reissues, which opens a new window.
	s := b.login(pc, admin)
	u, err := pc.ReissueCertificate(ctx, s, "ippan")
	if err != nil || u.Certificate.State != wire.CertAwaitingPickup {
		t.Fatalf("reissue: %v, %+v", err, u)
	}
	b.pickup(pc, "ippan")
}

func TestAdminPickupLapseBlocksWholeContract(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	b.user("ippan", wire.RoleGeneral, false)
	pc := b.pc()

	b.clock.add(81 * day)
	_, err := pc.Pickup(ctx, "kanri", password("kanri"), nil)
	wantCode(t, "admin pickup on day 81", err, wire.CodePickupLapsed)
	_, err = pc.PasswordLogin(ctx, "ippan", password("ippan"))
	wantCode(t, "general ID's login while the admin's window has lapsed", err, wire.CodeContractBlocked)
	if !strings.Contains(agent.Message(err, "en"), "Ask the bank to reissue the administrator's certificate") {
		t.Errorf("message: %s", agent.Message(err, "en"))
	}

	// Only the bank reissues an admin certificate; then the contract works again.
	if err := b.op.ReissueCertificate(ctx, "kanri"); err != nil {
		t.Fatal(err)
	}
	admin := b.pickup(pc, "kanri")
	s := b.login(pc, admin)
	_, err = pc.ReissueCertificate(ctx, s, "kanri")
	wantCode(t, "admin reissuing their own certificate", err, wire.CodeForbidden)
}

func TestCertificateModeRefusesPasswordLoginOnceTheAdminHasPickedUp(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	b.user("ippan", wire.RoleGeneral, false)
	pc := b.pc()

	s, err := pc.PasswordLogin(ctx, "ippan", password("ippan"))
	if err != nil {
		t.Fatalf("ID・パスワード方式 before certificate mode: %v", err)
	}
	if s.CertificateMode || s.Identity != nil {
		t.Fatalf("password session: certificate mode %v", s.CertificateMode)
	}
	if err := pc.Logout(ctx, s); err != nil {
		t.Fatal(err)
	}

	b.pickup(pc, "kanri")
	_, err = pc.PasswordLogin(ctx, "ippan", password("ippan"))
	wantCode(t, "password login in certificate mode", err, wire.CodeCertificateRequired)
	_, err = pc.PasswordLogin(ctx, "kanri", password("kanri"))
	wantCode(t, "admin password login in certificate mode", err, wire.CodeCertificateRequired)
}

func TestRenewalNoticeFrom30DaysBeforeExpiryAndRenewal(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	pc := b.pc()
	old := b.pickup(pc, "kanri")

	b.clock.add(200 * day)
	_, err := pc.Renew(ctx, old.Fingerprint, nil)
	wantCode(t, "renewal on day 200", err, wire.CodeNotRenewableYet)
	if ws, _ := pc.Warnings(ctx, nil); len(ws) != 0 {
		t.Fatalf("warnings 165 days before expiry: %+v", ws)
	}

	b.clock.t = old.NotAfter.Add(-20 * day)
	s := b.login(pc, old)
	var notice *wire.Notice
	for i, n := range s.Notices {
		if n.Kind == wire.NoticeRenewalDue {
			notice = &s.Notices[i]
		}
	}
	if notice == nil || notice.Action != wire.ActionRenew {
		t.Fatalf("no renewal notice 20 days before expiry: %+v", s.Notices)
	}
	ws, err := pc.Warnings(ctx, s.Notices)
	if err != nil || len(ws) != 1 || ws[0].Level != agent.LevelDays30 || !ws[0].Renewable || ws[0].Notice == nil {
		t.Fatalf("warnings 20 days before expiry: %+v, %v", ws, err)
	}
	b.clock.add(15 * day)
	if ws, _ := pc.Warnings(ctx, nil); len(ws) != 1 || ws[0].Level != agent.LevelDays10 {
		t.Fatalf("warnings 5 days before expiry: %+v", ws)
	}

	var steps []agent.Step
	renewed, err := pc.Renew(ctx, old.Fingerprint, func(st agent.Step) { steps = append(steps, st) })
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 5 || renewed.NotAfter.Sub(b.clock.now()) < 364*day {
		t.Fatalf("renewal: steps %v, not after %s", steps, renewed.NotAfter)
	}
	ids, _ := pc.Identities(ctx)
	if len(ids) != 1 || ids[0].Fingerprint != renewed.Fingerprint || ids[0].LastUsed.IsZero() {
		t.Fatalf("after renewal: %+v", ids)
	}
	s = b.login(pc, renewed)
	for _, n := range s.Notices {
		if n.Kind == wire.NoticeRenewalDue {
			t.Fatalf("renewal notice after renewal: %+v", n)
		}
	}
}

func TestExpiredCertificateRenewsUntil90DaysAfterExpiry(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	pc, admin, ippan := b.adminAndGeneralOnOnePC()

	b.clock.t = admin.NotAfter.Add(day)
	_, err := pc.Login(ctx, admin.Fingerprint, password("kanri"))
	wantCode(t, "login one day after expiry", err, wire.CodeCertificateExpired)
	ids, _ := pc.Identities(ctx)
	for _, id := range ids {
		if id.State != agent.StateExpiredRenewable {
			t.Fatalf("%s one day after expiry: %s", id.Label, id.State)
		}
	}
	if ws, _ := pc.Warnings(ctx, nil); len(ws) != 2 || ws[0].Level != agent.LevelExpired || !ws[0].Renewable {
		t.Fatalf("warnings after expiry: %+v", ws)
	}
	renewed, err := pc.Renew(ctx, admin.Fingerprint, nil)
	if err != nil {
		t.Fatalf("renewal one day after expiry: %v", err)
	}
	b.login(pc, renewed)

	b.clock.t = ippan.NotAfter.Add(91 * day)
	_, err = pc.Renew(ctx, ippan.Fingerprint, nil)
	wantCode(t, "renewal 91 days after expiry", err, wire.CodeRenewalWindowClosed)
	ids, _ = pc.Identities(ctx)
	for _, id := range ids {
		if id.Fingerprint == ippan.Fingerprint && id.State != agent.StateExpired {
			t.Fatalf("91 days after expiry: %s", id.State)
		}
	}
}

func TestRevokedCertificateIsRefusedAtLoginWithTheRightMessage(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	pc, admin, ippan := b.adminAndGeneralOnOnePC()

	s := b.login(pc, admin)
	u, err := pc.RevokeCertificate(ctx, s, "ippan")
	if err != nil || u.Certificate.State != wire.CertRevoked {
		t.Fatalf("revoke: %v %+v", err, u)
	}
	_, err = pc.Login(ctx, ippan.Fingerprint, password("ippan"))
	wantCode(t, "login with a revoked certificate", err, wire.CodeCertificateRevoked)
	if msg := agent.Message(err, "ja"); !strings.Contains(msg, "失効") || !strings.Contains(msg, "再発行") {
		t.Errorf("message: %s", msg)
	}
	ids, _ := pc.Identities(ctx)
	for _, id := range ids {
		if id.Fingerprint == ippan.Fingerprint && id.State != agent.StateRevoked {
			t.Fatalf("chooser state after a revoked refusal: %s", id.State)
		}
	}
	if only, ok := agent.AutoChoice(ids); !ok || only.Fingerprint != admin.Fingerprint {
		t.Fatal("with the other certificate revoked, the admin's should be chosen without asking")
	}

	// 再発行: a new pickup replaces the revoked certificate on this PC.
	if _, err := pc.ReissueCertificate(ctx, s, "ippan"); err != nil {
		t.Fatal(err)
	}
	fresh := b.pickup(pc, "ippan")
	ids, _ = pc.Identities(ctx)
	if len(ids) != 2 {
		t.Fatalf("after reissue and pickup the PC holds %d certificates, want 2", len(ids))
	}
	b.login(pc, fresh)
}

func TestDeletingAnIDRevokesItsCertificate(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	pc, admin, ippan := b.adminAndGeneralOnOnePC()
	s := b.login(pc, admin)
	if err := pc.DeleteUser(ctx, s, "ippan"); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Login(ctx, ippan.Fingerprint, password("ippan")); agent.Code(err) == "" {
		t.Fatalf("login of a deleted ID: %v", err)
	}
	wantCode(t, "deleting the ID again", pc.DeleteUser(ctx, s, "ippan"), wire.CodeNotFound)
}

// TestAgentAndServerAgreeAtEveryDayBoundary crosses each boundary of the day
// convention by one second on both sides: the state the agent shows must be what
// the server then does (validity through notAfter inclusive, renewal window
// inclusive at both ends).
func TestAgentAndServerAgreeAtEveryDayBoundary(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	b.user("kanri", wire.RoleAdmin, true)
	users := []string{"early", "opens", "lastday", "closes", "late"}
	for _, u := range users {
		b.user(u, wire.RoleGeneral, true)
	}
	pc := b.pc()
	b.pickup(pc, "kanri")
	ids := map[string]*agent.Identity{}
	for _, u := range users {
		ids[u] = b.pickup(pc, u)
	}
	notAfter := ids["early"].NotAfter
	from, until := notAfter.Add(-agent.DefaultRenewBeforeDays*day), notAfter.Add(agent.DefaultRenewAfterDays*day)
	state := func(id *agent.Identity) agent.State {
		t.Helper()
		all, err := pc.Identities(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range all {
			if x.Fingerprint == id.Fingerprint {
				return x.State
			}
		}
		t.Fatalf("%s is gone", id.Label)
		return ""
	}
	wantState := func(what string, id *agent.Identity, want agent.State) {
		t.Helper()
		if got := state(id); got != want {
			t.Fatalf("%s: the agent shows %s, want %s", what, got, want)
		}
	}

	b.clock.t = from.Add(-time.Second)
	wantState("a second before renewal opens", ids["early"], agent.StateValid)
	_, err := pc.Renew(ctx, ids["early"].Fingerprint, nil)
	wantCode(t, "renewal a second before the window opens", err, wire.CodeNotRenewableYet)

	b.clock.t = from
	wantState("as renewal opens", ids["opens"], agent.StateRenewable)
	if _, err := pc.Renew(ctx, ids["opens"].Fingerprint, nil); err != nil {
		t.Fatalf("renewal as the window opens: %v", err)
	}

	b.clock.t = notAfter
	wantState("at notAfter", ids["lastday"], agent.StateRenewable)
	if ws, _ := pc.Warnings(ctx, nil); len(ws) == 0 || ws[0].Level == agent.LevelExpired || ws[0].DaysLeft != 0 {
		t.Fatalf("warnings at notAfter: %+v, want not expired, 0 days left", ws)
	}
	b.login(pc, ids["lastday"])

	b.clock.t = notAfter.Add(time.Second)
	wantState("a second after notAfter", ids["lastday"], agent.StateExpiredRenewable)
	_, err = pc.Login(ctx, ids["lastday"].Fingerprint, password("lastday"))
	wantCode(t, "login a second after notAfter", err, wire.CodeCertificateExpired)

	b.clock.t = until
	wantState("as renewal closes", ids["closes"], agent.StateExpiredRenewable)
	if _, err := pc.Renew(ctx, ids["closes"].Fingerprint, nil); err != nil {
		t.Fatalf("renewal as the window closes: %v", err)
	}

	b.clock.t = until.Add(time.Second)
	wantState("a second after renewal closes", ids["late"], agent.StateExpired)
	_, err = pc.Renew(ctx, ids["late"].Fingerprint, nil)
	wantCode(t, "renewal a second after the window closes", err, wire.CodeRenewalWindowClosed)
}
