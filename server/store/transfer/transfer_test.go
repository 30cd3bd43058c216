package transfer_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/store/postgres"
	"github.com/inkan-dev/inkan/server/store/sqlite"
	"github.com/inkan-dev/inkan/server/store/testdb"
	"github.com/inkan-dev/inkan/server/store/transfer"
	"github.com/inkan-dev/inkan/wire"
)

// TestEveryRecordArrivesUnchanged fills every table of a SQLite database,
// moves it, and reads every record back from PostgreSQL through the store.
func TestEveryRecordArrivesUnchanged(t *testing.T) {
	target := testdb.PostgresURL(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "inkan.db")
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 1, 9, 0, 0, 123456000, time.UTC)
	err = src.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateContract(store.Contract{ID: "1000000001", Name: "佐藤商事", CreatedAt: at, CertificateModeAt: &at}); err != nil {
			return err
		}
		for i := range 3 {
			id := fmt.Sprint("user", i)
			u := store.User{LoginID: id, ContractID: "1000000001", Role: wire.RoleGeneral, DisplayName: "利用者", Email: id + "@example.co.jp",
				PasswordHash: "$argon2id$x", FailedLogins: i, Locked: i == 2, LastLoginAt: &at, CreatedAt: at}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			nb, na, wd := at, at.Add(400*24*time.Hour), at.Add(time.Hour)
			old, err := tx.InsertCertificate(store.Certificate{LoginID: id, ContractID: "1000000001", Status: store.CertSuperseded, IssuedAt: at,
				PickupDeadline: at.Add(time.Hour), Serial: fmt.Sprintf("a%d", i), DER: []byte{1, 2, byte(i)}, NotBefore: &nb, NotAfter: &na, WithdrawnAt: &wd})
			if err != nil {
				return err
			}
			cur, err := tx.InsertCertificate(store.Certificate{LoginID: id, ContractID: "1000000001", Status: store.CertActive, IssuedAt: wd,
				PickupDeadline: wd, Serial: fmt.Sprintf("b%d", i), DER: []byte{3, byte(i)}, NotBefore: &wd, NotAfter: &na, RenewalOf: &old})
			if err != nil {
				return err
			}
			u.CurrentCertID = &cur
			if err := tx.UpdateUser(u); err != nil {
				return err
			}
			if err := tx.CreateSession(store.Session{TokenHash: "tok" + id, LoginID: id, CertSerial: fmt.Sprintf("b%d", i), CreatedAt: at, ExpiresAt: na}); err != nil {
				return err
			}
			if err := tx.RecordMail(cur, 30, at); err != nil {
				return err
			}
			if _, err := tx.NextCRLNumber(); err != nil {
				return err
			}
			if err := tx.AppendAudit(store.AuditEntry{At: at, Actor: "operator", Action: "certificate.renew", Target: id, RemoteAddr: "192.0.2.1:1", Detail: "詳細"}); err != nil {
				return err
			}
		}
		// A change, then a CRL signed after it: the signed CRL comes across
		// with the count of changes, so PostgreSQL serves it as is.
		if err := tx.BumpCRLNumber(); err != nil {
			return err
		}
		n, err := tx.NextCRLNumber()
		if err != nil {
			return err
		}
		changes, err := tx.CRLChanges()
		if err != nil {
			return err
		}
		return tx.PutSignedCRL(store.SignedCRL{Issuer: "0a1b", Number: n, Changes: changes, ThisUpdate: at, DER: []byte{0x30, 0x03, 1, 2, 3}})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, src)
	src.Close()

	rep, err := transfer.SQLiteToPostgres(ctx, path, target, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Target["certificates"] != 6 || rep.Target["sessions"] != 3 || rep.Target["mail_sent"] != 3 || rep.Target["audit"] != 3 || rep.Target["crls"] != 1 || rep.CRLNumber != 6 {
		t.Fatalf("report %+v", rep)
	}
	dst, err := postgres.Open(ctx, target, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if got := snapshot(t, dst); !reflect.DeepEqual(got, want) {
		t.Fatalf("records after the move:\n%s\nwant\n%s", got, want)
	}
	// New IDs continue after the moved ones.
	err = dst.Update(ctx, func(tx store.Tx) error {
		id, err := tx.InsertCertificate(store.Certificate{LoginID: "user9", ContractID: "1000000001", Status: store.CertAwaitingPickup, IssuedAt: at, PickupDeadline: at})
		if err == nil && id != 7 {
			err = fmt.Errorf("new certificate ID %d, want 7", id)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transfer.SQLiteToPostgres(ctx, path, target, postgres.Options{}); err == nil || !strings.Contains(err.Error(), "already holds") {
		t.Fatalf("a second move into the same database: %v", err)
	}
}

// snapshot is every record of s, as text.
func snapshot(t *testing.T, s store.Store) string {
	t.Helper()
	var b strings.Builder
	err := s.View(context.Background(), func(tx store.Tx) error {
		cs, err := tx.Contracts()
		if err != nil {
			return err
		}
		for _, c := range cs {
			fmt.Fprintf(&b, "%s %s %v %v\n", c.ID, c.Name, c.CreatedAt, *c.CertificateModeAt)
		}
		us, err := tx.Users("1000000001")
		for _, u := range us {
			last, cur := *u.LastLoginAt, *u.CurrentCertID
			u.LastLoginAt, u.CurrentCertID = nil, nil
			fmt.Fprintf(&b, "%+v %v %v\n", u, last, cur)
			sess, err := tx.Session("tok" + u.LoginID)
			if err != nil {
				return err
			}
			sent, err := tx.MailSent(cur, 30)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%+v mail %v\n", sess, sent)
		}
		if err != nil {
			return err
		}
		certs, err := tx.Certificates("")
		for _, c := range certs {
			fmt.Fprintf(&b, "%d %s %s %s %s %x %v %v\n", c.ID, c.LoginID, c.Status, c.IssuedAt, c.PickupDeadline, c.DER, *c.NotBefore, *c.NotAfter)
			if c.WithdrawnAt != nil {
				fmt.Fprintf(&b, "withdrawn at %v\n", *c.WithdrawnAt)
			}
			if c.RenewalOf != nil {
				fmt.Fprintf(&b, "renewal of %d\n", *c.RenewalOf)
			}
		}
		if err != nil {
			return err
		}
		n, err := tx.CRLNumber()
		fmt.Fprintf(&b, "crl %d\n", n)
		if err != nil {
			return err
		}
		changes, err := tx.CRLChanges()
		fmt.Fprintf(&b, "crl changes %d\n", changes)
		if err != nil {
			return err
		}
		signed, err := tx.SignedCRL("0a1b")
		fmt.Fprintf(&b, "signed crl %+v\n", signed)
		if err != nil {
			return err
		}
		es, err := tx.Audit(100)
		fmt.Fprintf(&b, "%+v\n", es)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
