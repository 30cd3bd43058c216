package e2e

import (
	"context"
	"errors"
	"testing"

	"github.com/inkan-dev/inkan/agent"
	"github.com/inkan-dev/inkan/certstore"
)

func TestBackupOfTwoIdentitiesRestoredOntoASecondPCLogsIn(t *testing.T) {
	ctx := context.Background()
	b := startBank(t)
	first, admin, ippan := b.adminAndGeneralOnOnePC()
	fps := []certstore.Fingerprint{admin.Fingerprint, ippan.Fingerprint}

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
