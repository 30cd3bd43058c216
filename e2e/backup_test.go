package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/wire"
)

func TestBackupOfTwoIdentitiesRestoredOntoASecondPCLogsIn(t *testing.T) {
	ctx := context.Background()
	// A bank that lets general IDs back up too (the default is admin only).
	b := startBankWithPolicy(t, func(p *server.PolicyConfig) {
		p.BackupRoles = []wire.Role{wire.RoleAdmin, wire.RoleGeneral}
	})
	first, admin, ippan := b.adminAndGeneralOnOnePC()
	fps := []agent.Fingerprint{admin.Fingerprint, ippan.Fingerprint}

	_, err := first.Backup(ctx, fps, "Kinko-Backup-1", "Kinko-Backup-2")
	if !errors.Is(err, agent.ErrPasswordMismatch) {
		t.Fatalf("unconfirmed password: %v", err)
	}
	_, err = first.Backup(ctx, fps, "kinkobackup", "kinkobackup")
	var weak *agent.WeakPasswordError
	if !errors.As(err, &weak) {
		t.Fatalf("weak password: %v", err)
	}
	pfx, err := first.Backup(ctx, fps, "Kinko-Backup-2026", "Kinko-Backup-2026")
	if err != nil {
		t.Fatal(err)
	}

	second := b.pc()
	if ids, _ := second.Identities(ctx); len(ids) != 0 {
		t.Fatalf("the second PC is not empty: %d", len(ids))
	}
	if _, err := second.Restore(ctx, pfx, "Kinko-Backup-2025"); !errors.Is(err, certstore.ErrWrongPassword) {
		t.Fatalf("restore with a wrong password: %v", err)
	}
	res, err := second.Restore(ctx, pfx, "Kinko-Backup-2026")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2 {
		t.Fatalf("restored %d, want 2", len(res.Added))
	}
	ids, _ := second.Identities(ctx)
	if len(ids) != 2 {
		t.Fatalf("second PC lists %d certificates", len(ids))
	}
	s := b.login(second, admin)
	if users, err := second.Users(ctx, s); err != nil || len(users) != 2 {
		t.Fatalf("admin calls from the restored certificate: %d users, %v", len(users), err)
	}
	b.login(second, ippan)

	again, err := second.Restore(ctx, pfx, "Kinko-Backup-2026")
	if err != nil || len(again.AlreadyPresent) != 2 || len(again.Added) != 0 {
		t.Fatalf("restoring twice: %+v, %v", again, err)
	}
}

// The seeds' default: only the admin backs up. A general ID's key is made
// non-exportable at pickup, its backup is refused naming who can, and a
// restore of the admin's backup keeps the admin's key exportable.
func TestByDefaultOnlyTheAdminCanBackUp(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	first, admin, ippan := b.adminAndGeneralOnOnePC()
	if !admin.Exportable || ippan.Exportable {
		t.Fatalf("exportable: admin %v, general %v; want true, false", admin.Exportable, ippan.Exportable)
	}
	_, err := first.Backup(ctx, []agent.Fingerprint{admin.Fingerprint, ippan.Fingerprint}, "Kinko-Backup-2026", "Kinko-Backup-2026")
	var ne *agent.NotExportableError
	if !errors.As(err, &ne) || ne.Label != ippan.Label {
		t.Fatalf("backup with the general ID: %v", err)
	}
	if msg := agent.Message(err, "ja"); !strings.Contains(msg, "管理者ID") || !strings.Contains(msg, ippan.Label) {
		t.Fatalf("message does not say who can back up: %q", msg)
	}
	pfx, err := first.Backup(ctx, []agent.Fingerprint{admin.Fingerprint}, "Kinko-Backup-2026", "Kinko-Backup-2026")
	if err != nil {
		t.Fatal(err)
	}
	second := b.pc()
	res, err := second.Restore(ctx, pfx, "Kinko-Backup-2026")
	if err != nil || len(res.Added) != 1 || !res.Added[0].Exportable {
		t.Fatalf("restore of the admin's backup: %+v, %v", res, err)
	}
}
