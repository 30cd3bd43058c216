package e2e

import (
	"context"
	"strings"
	"testing"

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
