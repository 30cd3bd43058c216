package lifecycle

import (
	"context"
	"errors"
	"testing"

	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

// failingIssueStore is a store whose transactions cannot record a certificate.
type failingIssueStore struct{ store.Store }

type failingIssueTx struct{ store.Tx }

var errDiskFull = errors.New("disk full")

func (failingIssueTx) InsertCertificate(store.Certificate) (int64, error) { return 0, errDiskFull }

func (s failingIssueStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error { return fn(failingIssueTx{tx}) })
}

func TestCreateUserWithIssueIsOneTransaction(t *testing.T) {
	b := newBench(t, nil)
	admin := Actor{Name: "kanri", Role: wire.RoleAdmin, ContractID: b.user().ContractID}
	before := b.auditActions()
	real := b.svc.Store
	b.svc.Store = failingIssueStore{real}
	err := b.svc.CreateUser(b.ctx, admin, NewUser{LoginID: "ippan", Role: wire.RoleGeneral, Password: "ippan-Pass-2026", IssueCertificate: true})
	b.svc.Store = real
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("create with a failing issue: %v", err)
	}
	if _, err := b.svc.User(b.ctx, OperatorActor(), "ippan"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the user exists after its issue failed: %v", err)
	}
	if after := b.auditActions(); after["user.create"] != before["user.create"] || after["certificate.issue"] != before["certificate.issue"] {
		t.Fatalf("audit rows before %v, after %v", before, after)
	}
	if err := b.svc.CreateUser(b.ctx, admin, NewUser{LoginID: "ippan", Role: wire.RoleGeneral, Password: "ippan-Pass-2026", IssueCertificate: true}); err != nil {
		t.Fatal(err)
	}
	u, err := b.svc.User(b.ctx, OperatorActor(), "ippan")
	if err != nil || u.Certificate.State != wire.CertAwaitingPickup {
		t.Fatalf("created and issued: %+v, %v", u, err)
	}
}
