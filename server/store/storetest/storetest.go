// Package storetest is the contract every store.Store implementation is held
// to: one suite that SQLite and PostgreSQL both run, so that the life-cycle
// rules behave the same on either.
//
// [Run] exercises every Tx method, the uniqueness and foreign-key rules,
// rollback on error and on panic, the CRL number, and the rules that need
// the database's own guarantees once several servers write at once: the
// lockout counter, one current certificate per ID, the repeat rule, each
// expiry e-mail sent once and expired sessions purged. The concurrent parts
// run over several handles (connection pools) on one database, as several
// server processes would.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/wire"
)

// Opener opens one more handle on a database that a [NewDB] made; each handle
// stands for one server process. The suite closes what it opens.
type Opener = func(t *testing.T) store.Store

// NewDB makes a fresh, empty, migrated database for one test and returns how
// to open handles on it.
type NewDB = func(t *testing.T) Opener

// Run runs the whole conformance suite against the implementation newDB makes.
func Run(t *testing.T, newDB NewDB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"Contracts", testContracts},
		{"Users", testUsers},
		{"Certificates", testCertificates},
		{"CertificateLists", testCertificateLists},
		{"CRLNumberOnlyGrows", testCRLNumber},
		{"CRLNumberUnderConcurrentWriters", testCRLNumberConcurrent},
		{"SignedCRLSharedAndSignedByOneAtATime", testSignedCRL},
		{"Sessions", testSessions},
		{"ExpiredSessionsPurged", testExpiredSessions},
		{"Mail", testMail},
		{"Audit", testAudit},
		{"TimesRoundTrip", testTimes},
		{"RollbackOnError", testRollbackOnError},
		{"RollbackOnPanic", testRollbackOnPanic},
		{"ViewIsReadOnly", testViewReadOnly},
		{"NoLostUpdateOfAUser", testNoLostUpdate},
		{"Exclusive", testExclusive},
		{"LockoutUnderConcurrentWrongPasswords", testLockout},
		{"OneCurrentCertificatePerID", testOneCurrent},
		{"RepeatRule", testRepeat},
		{"ExpiryMailSentOnce", testMailOnce},
		{"LifecyclePurgesExpiredSessions", testLifecyclePurge},
		{"AuditRowPerChange", testAuditPerChange},
		{"AdminResetsAStaffPassword", testAdminResetsPassword},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDB(t)) })
	}
}

var ctx = context.Background()

// base is a fixed instant with a sub-millisecond part, so the suite sees
// whether times keep their microseconds.
var base = time.Date(2026, 4, 1, 9, 0, 0, 123456000, time.UTC)

func update(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Update(ctx, fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

func view(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.View(ctx, fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

// seed makes contract c1 with admin "kanri" and general "ippan".
func seed(t *testing.T, s store.Store) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateContract(store.Contract{ID: "c1", Name: "佐藤商事", CreatedAt: base}); err != nil {
			return err
		}
		for i, id := range []string{"kanri", "ippan"} {
			role := wire.RoleAdmin
			if i == 1 {
				role = wire.RoleGeneral
			}
			if err := tx.CreateUser(store.User{LoginID: id, ContractID: "c1", Role: role, PasswordHash: "h-" + id, CreatedAt: base.Add(time.Duration(i) * time.Second)}); err != nil {
				return err
			}
		}
		return nil
	})
}

func mustErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

func testContracts(t *testing.T, open Opener) {
	s := open(t)
	mode := base.Add(time.Hour)
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateContract(store.Contract{ID: "c2", Name: "鈴木工業", CreatedAt: base.Add(time.Second)}); err != nil {
			return err
		}
		return tx.CreateContract(store.Contract{ID: "c1", Name: "佐藤商事", CreatedAt: base})
	})
	view(t, s, func(tx store.Tx) error {
		cs, err := tx.Contracts()
		if err != nil {
			return err
		}
		if len(cs) != 2 || cs[0].ID != "c1" || cs[1].ID != "c2" || cs[0].Name != "佐藤商事" || cs[0].CertificateModeAt != nil {
			t.Fatalf("contracts, oldest first: %+v", cs)
		}
		_, err = tx.Contract("c9")
		mustErr(t, "missing contract", err, store.ErrNotFound)
		return nil
	})
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateContract(store.Contract{ID: "c1", Name: "x", CreatedAt: base})
	})
	mustErr(t, "duplicate contract", err, store.ErrConflict)
	update(t, s, func(tx store.Tx) error {
		return tx.UpdateContract(store.Contract{ID: "c1", Name: "佐藤商事株式会社", CertificateModeAt: &mode})
	})
	view(t, s, func(tx store.Tx) error {
		c, err := tx.Contract("c1")
		if err != nil {
			return err
		}
		if c.Name != "佐藤商事株式会社" || c.CertificateModeAt == nil || !c.CertificateModeAt.Equal(mode) || !c.CreatedAt.Equal(base) {
			t.Fatalf("updated contract: %+v", c)
		}
		return nil
	})
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateContract(store.Contract{ID: "c9", Name: "x"}) })
	mustErr(t, "update of a missing contract", err, store.ErrNotFound)
}

func testUsers(t *testing.T, open Opener) {
	s := open(t)
	seed(t, s)
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateUser(store.User{LoginID: "kanri", ContractID: "c1", Role: wire.RoleAdmin, PasswordHash: "h", CreatedAt: base})
	})
	mustErr(t, "duplicate login ID", err, store.ErrConflict)
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateUser(store.User{LoginID: "nobody", ContractID: "c9", Role: wire.RoleAdmin, PasswordHash: "h", CreatedAt: base})
	})
	mustErr(t, "user of a missing contract (foreign key)", err, nil)
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateUser(store.User{LoginID: "bad", ContractID: "c1", Role: "root", PasswordHash: "h", CreatedAt: base})
	})
	mustErr(t, "user with an unknown role (check)", err, nil)
	missing := int64(999999)
	err = s.Update(ctx, func(tx store.Tx) error {
		u, err := tx.User("ippan")
		if err != nil {
			return err
		}
		u.CurrentCertID = &missing
		return tx.UpdateUser(u)
	})
	mustErr(t, "current certificate that does not exist (foreign key)", err, nil)

	last := base.Add(2 * time.Hour)
	update(t, s, func(tx store.Tx) error {
		u, err := tx.User("ippan")
		if err != nil {
			return err
		}
		u.DisplayName, u.Email, u.PasswordHash, u.FailedLogins, u.Locked, u.LastLoginAt = "一般 太郎", "taro@example.co.jp", "h2", 3, true, &last
		u.Role = wire.RoleApprover
		return tx.UpdateUser(u)
	})
	view(t, s, func(tx store.Tx) error {
		u, err := tx.User("ippan")
		if err != nil {
			return err
		}
		if u.DisplayName != "一般 太郎" || u.Email != "taro@example.co.jp" || u.PasswordHash != "h2" || u.FailedLogins != 3 ||
			!u.Locked || u.LastLoginAt == nil || !u.LastLoginAt.Equal(last) || u.Role != wire.RoleApprover ||
			u.ContractID != "c1" || u.CurrentCertID != nil || !u.CreatedAt.Equal(base.Add(time.Second)) {
			t.Fatalf("updated user: %+v", u)
		}
		us, err := tx.Users("c1")
		if err != nil {
			return err
		}
		if len(us) != 2 || us[0].LoginID != "kanri" || us[1].LoginID != "ippan" {
			t.Fatalf("users of c1, oldest first: %+v", us)
		}
		if us, err := tx.Users("c9"); err != nil || len(us) != 0 {
			t.Fatalf("users of a missing contract: %+v, %v", us, err)
		}
		_, err = tx.User("nobody")
		mustErr(t, "missing user", err, store.ErrNotFound)
		return nil
	})
	err = s.Update(ctx, func(tx store.Tx) error { return tx.UpdateUser(store.User{LoginID: "nobody", Role: wire.RoleGeneral}) })
	mustErr(t, "update of a missing user", err, store.ErrNotFound)
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser("ippan") })
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteUser("ippan") })
	mustErr(t, "delete of a missing user", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteUser("kanri") })
	if err != nil {
		t.Fatalf("delete of a user without sessions: %v", err)
	}
}

// pickedUp is an active certificate record of loginID with serial.
func pickedUp(loginID, serial string, notAfter time.Time) store.Certificate {
	nb := notAfter.Add(-400 * 24 * time.Hour)
	return store.Certificate{LoginID: loginID, ContractID: "c1", Status: store.CertActive, IssuedAt: nb, PickupDeadline: nb.Add(time.Hour),
		Serial: serial, DER: []byte("der-" + serial), NotBefore: &nb, NotAfter: &notAfter}
}

func testCertificates(t *testing.T, open Opener) {
	s := open(t)
	seed(t, s)
	var waiting, active int64
	update(t, s, func(tx store.Tx) error {
		var err error
		waiting, err = tx.InsertCertificate(store.Certificate{LoginID: "ippan", ContractID: "c1", Status: store.CertAwaitingPickup, IssuedAt: base, PickupDeadline: base.Add(80 * 24 * time.Hour)})
		if err != nil {
			return err
		}
		// A second record without a serial: serials are unique only once set.
		if _, err := tx.InsertCertificate(store.Certificate{LoginID: "ippan", ContractID: "c1", Status: store.CertSuperseded, IssuedAt: base, PickupDeadline: base}); err != nil {
			return fmt.Errorf("second record without a serial: %w", err)
		}
		active, err = tx.InsertCertificate(pickedUp("kanri", "0a1b", base.Add(365*24*time.Hour)))
		if err != nil {
			return err
		}
		u, err := tx.User("kanri")
		if err != nil {
			return err
		}
		u.CurrentCertID = &active
		return tx.UpdateUser(u)
	})
	if waiting <= 0 || active <= waiting {
		t.Fatalf("certificate IDs %d then %d: want positive and growing", waiting, active)
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		_, err := tx.InsertCertificate(pickedUp("ippan", "0a1b", base))
		return err
	})
	mustErr(t, "duplicate serial", err, store.ErrConflict)
	err = s.Update(ctx, func(tx store.Tx) error {
		c := pickedUp("ippan", "0c0c", base)
		c.ContractID = "c9"
		_, err := tx.InsertCertificate(c)
		return err
	})
	mustErr(t, "certificate of a missing contract (foreign key)", err, nil)
	err = s.Update(ctx, func(tx store.Tx) error {
		c := pickedUp("ippan", "0c0d", base)
		bogus := int64(999999)
		c.RenewalOf = &bogus
		_, err := tx.InsertCertificate(c)
		return err
	})
	mustErr(t, "renewal of a missing certificate (foreign key)", err, nil)

	withdrawn := base.Add(time.Minute)
	update(t, s, func(tx store.Tx) error {
		c, err := tx.Certificate(waiting)
		if err != nil {
			return err
		}
		if c.Status != store.CertAwaitingPickup || c.Serial != "" || c.DER != nil || c.NotBefore != nil || c.RenewalOf != nil || !c.PickupDeadline.Equal(base.Add(80*24*time.Hour)) {
			t.Fatalf("waiting record: %+v", c)
		}
		nb, na := base, base.Add(400*24*time.Hour)
		c.Status, c.Serial, c.DER, c.NotBefore, c.NotAfter = store.CertActive, "ff00", []byte{0, 1, 2, 0xff}, &nb, &na
		if err := tx.UpdateCertificate(c); err != nil {
			return err
		}
		c.Status, c.WithdrawnAt = store.CertSuperseded, &withdrawn
		if err := tx.UpdateCertificate(c); err != nil {
			return err
		}
		next := pickedUp("ippan", "ff01", na)
		next.RenewalOf = &waiting
		id, err := tx.InsertCertificate(next)
		if err != nil {
			return err
		}
		got, err := tx.Certificate(id)
		if err != nil || got.RenewalOf == nil || *got.RenewalOf != waiting {
			t.Fatalf("renewal record: %+v, %v", got, err)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		c, err := tx.CertificateBySerial("ff00")
		if err != nil {
			return err
		}
		if c.ID != waiting || c.Status != store.CertSuperseded || string(c.DER) != "\x00\x01\x02\xff" || c.WithdrawnAt == nil ||
			!c.WithdrawnAt.Equal(withdrawn) || !c.NotBefore.Equal(base) || c.LoginID != "ippan" || c.ContractID != "c1" {
			t.Fatalf("record by serial: %+v", c)
		}
		_, err = tx.CertificateBySerial("dead")
		mustErr(t, "missing serial", err, store.ErrNotFound)
		_, err = tx.Certificate(999999)
		mustErr(t, "missing certificate", err, store.ErrNotFound)
		return nil
	})
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.UpdateCertificate(store.Certificate{ID: 999999, Status: store.CertRevoked})
	})
	mustErr(t, "update of a missing certificate", err, store.ErrNotFound)
	err = s.Update(ctx, func(tx store.Tx) error {
		c, err := tx.Certificate(active)
		if err != nil {
			return err
		}
		c.Status = "lost"
		return tx.UpdateCertificate(c)
	})
	mustErr(t, "unknown status (check)", err, nil)
	// A deleted user's certificates stay, for the CRL and OCSP.
	update(t, s, func(tx store.Tx) error {
		c, err := tx.Certificate(active)
		if err != nil {
			return err
		}
		c.Status, c.WithdrawnAt = store.CertRevoked, &withdrawn
		if err := tx.UpdateCertificate(c); err != nil {
			return err
		}
		return tx.DeleteUser("kanri")
	})
	view(t, s, func(tx store.Tx) error {
		if c, err := tx.CertificateBySerial("0a1b"); err != nil || c.Status != store.CertRevoked {
			t.Fatalf("certificate of a deleted user: %+v, %v", c, err)
		}
		return nil
	})
}

func testCertificateLists(t *testing.T, open Opener) {
	s := open(t)
	seed(t, s)
	day := 24 * time.Hour
	ids := map[string]int64{}
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateUser(store.User{LoginID: "shonin", ContractID: "c1", Role: wire.RoleApprover, PasswordHash: "h", CreatedAt: base}); err != nil {
			return err
		}
		add := func(name string, c store.Certificate) error {
			id, err := tx.InsertCertificate(c)
			ids[name] = id
			return err
		}
		w := base.Add(day)
		revoked := pickedUp("kanri", "01", base.Add(100*day))
		revoked.Status, revoked.WithdrawnAt = store.CertRevoked, &w
		superseded := pickedUp("ippan", "02", base.Add(20*day))
		superseded.Status, superseded.WithdrawnAt = store.CertSuperseded, &w
		unpicked := store.Certificate{LoginID: "ippan", ContractID: "c1", Status: store.CertRevoked, IssuedAt: base, PickupDeadline: base.Add(day), WithdrawnAt: &w}
		for _, c := range []struct {
			name string
			rec  store.Certificate
		}{
			{"revoked", revoked},
			{"superseded", superseded},
			{"unpicked", unpicked},
			{"late", pickedUp("kanri", "03", base.Add(30*day))},
			{"soon", pickedUp("shonin", "04", base.Add(10*day))},
			{"far", pickedUp("ippan", "05", base.Add(300*day))},
		} {
			if err := add(c.name, c.rec); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		mine, err := tx.Certificates("ippan")
		if err != nil {
			return err
		}
		if got := idsOf(mine); fmt.Sprint(got) != fmt.Sprint([]int64{ids["far"], ids["unpicked"], ids["superseded"]}) {
			t.Fatalf("certificates of ippan, newest first: %v (ids %v)", got, ids)
		}
		all, err := tx.Certificates("")
		if err != nil {
			return err
		}
		if len(all) != 6 || all[0].ID != ids["far"] || all[5].ID != ids["revoked"] {
			t.Fatalf("all certificates, newest first: %v", idsOf(all))
		}
		wd, err := tx.WithdrawnCertificates()
		if err != nil {
			return err
		}
		if got := idsOf(wd); fmt.Sprint(got) != fmt.Sprint([]int64{ids["revoked"], ids["superseded"]}) {
			t.Fatalf("withdrawn picked-up certificates: %v", got)
		}
		exp, err := tx.ActiveCertificatesExpiringBy(base.Add(30 * day))
		if err != nil {
			return err
		}
		if got := idsOf(exp); fmt.Sprint(got) != fmt.Sprint([]int64{ids["soon"], ids["late"]}) {
			t.Fatalf("active certificates expiring by +30d (both ends), soonest first: %v", got)
		}
		return nil
	})
}

func idsOf(cs []store.Certificate) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func crlNumber(t *testing.T, s store.Store) int64 {
	t.Helper()
	var n int64
	view(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.CRLNumber()
		return err
	})
	return n
}

func testCRLNumber(t *testing.T, open Opener) {
	s := open(t)
	first := crlNumber(t, s)
	if first < 1 {
		t.Fatalf("first CRL number %d, want at least 1", first)
	}
	var got []int64
	update(t, s, func(tx store.Tx) error {
		for range 3 {
			n, err := tx.NextCRLNumber()
			if err != nil {
				return err
			}
			got = append(got, n)
		}
		return nil
	})
	if fmt.Sprint(got) != fmt.Sprint([]int64{first + 1, first + 2, first + 3}) {
		t.Fatalf("next CRL numbers after %d: %v", first, got)
	}
	// BumpCRLNumber counts by commit, as NextCRLNumber does at once, and a
	// NextCRLNumber after it in the same transaction counts it too.
	update(t, s, func(tx store.Tx) error {
		if err := tx.BumpCRLNumber(); err != nil {
			return err
		}
		return tx.BumpCRLNumber()
	})
	if n := crlNumber(t, s); n != first+5 {
		t.Fatalf("CRL number after two bumps from %d: %d, want %d", first+3, n, first+5)
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.BumpCRLNumber(); err != nil {
			return err
		}
		n, err := tx.NextCRLNumber()
		if err == nil && n != first+7 {
			t.Fatalf("next CRL number after a bump in the same transaction: %d, want %d", n, first+7)
		}
		return err
	})
	first += 4
	// A rolled-back bump publishes nothing, so it may be reused.
	errBack := errors.New("back out")
	err := s.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.NextCRLNumber(); err != nil {
			return err
		}
		if err := tx.BumpCRLNumber(); err != nil {
			return err
		}
		return errBack
	})
	mustErr(t, "rolled-back bump", err, errBack)
	if n := crlNumber(t, s); n != first+3 {
		t.Fatalf("CRL number after a rolled-back bump: %d, want %d", n, first+3)
	}
}

// testSignedCRL: a change counts in CRLChanges and taking a number does
// not; a stored CRL is seen through another handle, is replaced only by a
// higher number, and an Update that read CRLChanges holds the counter:
// another handle's Update reading it waits, then sees what the first stored.
func testSignedCRL(t *testing.T, open Opener) {
	a, b := open(t), open(t)
	changes := func(s store.Store) (n int64) {
		view(t, s, func(tx store.Tx) (err error) { n, err = tx.CRLChanges(); return })
		return n
	}
	before, number := changes(a), crlNumber(t, a)
	var pending, taken int64
	update(t, a, func(tx store.Tx) error {
		if err := tx.BumpCRLNumber(); err != nil {
			return err
		}
		var err error
		if pending, err = tx.CRLChanges(); err != nil { // a pending bump counts
			return err
		}
		taken, err = tx.NextCRLNumber()
		return err
	})
	if c := changes(b); c != before+1 || pending != before+1 || taken != number+2 || crlNumber(t, b) != taken {
		t.Fatalf("after a bump and a number from number %d, %d changes: %d changes (in the transaction %d), number %d (taken %d)", number, before, c, pending, crlNumber(t, b), taken)
	}

	view(t, b, func(tx store.Tx) error {
		_, err := tx.SignedCRL("ca1")
		mustErr(t, "no CRL stored", err, store.ErrNotFound)
		_, err = tx.SignedCRLInfo("ca1")
		mustErr(t, "no CRL stored", err, store.ErrNotFound)
		return nil
	})
	at := base.Add(123456 * time.Microsecond)
	first := store.SignedCRL{Issuer: "ca1", Number: taken, Changes: before + 1, ThisUpdate: at, DER: []byte{0x30, 1, 2}}
	update(t, a, func(tx store.Tx) error { return tx.PutSignedCRL(first) })
	for _, c := range []store.SignedCRL{first, {Issuer: "ca1", Number: taken - 1, ThisUpdate: at, DER: []byte{9}}} {
		err := a.Update(ctx, func(tx store.Tx) error { return tx.PutSignedCRL(c) })
		mustErr(t, fmt.Sprintf("storing CRL %d over CRL %d", c.Number, taken), err, store.ErrConflict)
	}
	update(t, a, func(tx store.Tx) error {
		return tx.PutSignedCRL(store.SignedCRL{Issuer: "ca2", Number: taken + 1, ThisUpdate: at, DER: []byte{7}})
	})
	view(t, b, func(tx store.Tx) error {
		got, err := tx.SignedCRL("ca1")
		if err != nil || got.Issuer != "ca1" || got.Number != taken || got.Changes != before+1 || !got.ThisUpdate.Equal(at) || got.ThisUpdate.Location() != time.UTC || string(got.DER) != string(first.DER) {
			t.Fatalf("stored CRL through another handle: %+v, %v; want %+v", got, err, first)
		}
		info, err := tx.SignedCRLInfo("ca1")
		if err != nil || info.Number != taken || info.Changes != before+1 || !info.ThisUpdate.Equal(at) || info.DER != nil {
			t.Fatalf("stored CRL's info: %+v, %v", info, err)
		}
		return nil
	})

	// One signer at a time: a holds the counter while it "signs"; b's
	// Update, started meanwhile, reads the counter after a committed.
	held, signed := make(chan struct{}), make(chan error, 1)
	go func() {
		signed <- a.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.CRLChanges(); err != nil {
				return err
			}
			n, err := tx.NextCRLNumber()
			if err != nil {
				return err
			}
			close(held)
			time.Sleep(300 * time.Millisecond) // signing
			return tx.PutSignedCRL(store.SignedCRL{Issuer: "ca1", Number: n, ThisUpdate: at, DER: []byte{0x30, 9}})
		})
	}()
	<-held
	var seen store.SignedCRL
	err := b.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.CRLChanges(); err != nil {
			return err
		}
		var err error
		seen, err = tx.SignedCRL("ca1")
		return err
	})
	if err := <-signed; err != nil {
		t.Fatal(err)
	}
	if err != nil || string(seen.DER) != string([]byte{0x30, 9}) {
		t.Fatalf("the second signer read the CRL %+v (%v) while the first held the counter; want the first's, committed", seen, err)
	}
}

// testCRLNumberConcurrent bumps the number from 32 goroutines over three
// handles: every bump gets its own number and none is lost.
func testCRLNumberConcurrent(t *testing.T, open Opener) {
	handles := []store.Store{open(t), open(t), open(t)}
	first := crlNumber(t, handles[0])
	const n = 32
	got := make([]int64, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- handles[i%len(handles)].Update(ctx, func(tx store.Tx) error {
				var err error
				got[i], err = tx.NextCRLNumber()
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[int64]bool{}
	for _, v := range got {
		if v <= first || v > first+n || seen[v] {
			t.Fatalf("concurrent CRL numbers after %d: %v", first, got)
		}
		seen[v] = true
	}
	if last := crlNumber(t, handles[1]); last != first+n {
		t.Fatalf("CRL number after %d bumps from %d: %d", n, first, last)
	}
}

func testSessions(t *testing.T, open Opener) {
	s := open(t)
	seed(t, s)
	update(t, s, func(tx store.Tx) error {
		for i, id := range []string{"kanri", "kanri", "ippan"} {
			sess := store.Session{TokenHash: fmt.Sprintf("t%d", i), LoginID: id, CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
			if i == 0 {
				sess.CertSerial = "0a1b"
				prev := base.Add(-26 * time.Hour)
				sess.PreviousLoginAt = &prev
			}
			if err := tx.CreateSession(sess); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateSession(store.Session{TokenHash: "t0", LoginID: "ippan", CreatedAt: base, ExpiresAt: base})
	})
	mustErr(t, "duplicate token", err, store.ErrConflict)
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateSession(store.Session{TokenHash: "tx", LoginID: "nobody", CreatedAt: base, ExpiresAt: base})
	})
	mustErr(t, "session of a missing user (foreign key)", err, nil)
	view(t, s, func(tx store.Tx) error {
		sess, err := tx.Session("t0")
		if err != nil {
			return err
		}
		if sess.LoginID != "kanri" || sess.CertSerial != "0a1b" || !sess.CreatedAt.Equal(base) || !sess.ExpiresAt.Equal(base.Add(time.Hour)) ||
			sess.PreviousLoginAt == nil || !sess.PreviousLoginAt.Equal(base.Add(-26*time.Hour)) || sess.PreviousLoginAt.Location() != time.UTC {
			t.Fatalf("session: %+v", sess)
		}
		if sess, err := tx.Session("t2"); err != nil || sess.CertSerial != "" || sess.PreviousLoginAt != nil {
			t.Fatalf("password-only session: %+v, %v", sess, err)
		}
		_, err = tx.Session("none")
		mustErr(t, "missing session", err, store.ErrNotFound)
		return nil
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteSession("t0") })
	err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteSession("t0") })
	mustErr(t, "delete of a missing session", err, store.ErrNotFound)
	update(t, s, func(tx store.Tx) error {
		if err := tx.DeleteSessionsOf("kanri"); err != nil {
			return err
		}
		return tx.DeleteSessionsOf("nobody")
	})
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser("ippan") })
	view(t, s, func(tx store.Tx) error {
		for _, tok := range []string{"t1", "t2"} {
			_, err := tx.Session(tok)
			mustErr(t, "session "+tok+" after its user's sessions ended or the user was deleted", err, store.ErrNotFound)
		}
		return nil
	})
}

func testExpiredSessions(t *testing.T, open Opener) {
	s := open(t)
	seed(t, s)
	update(t, s, func(tx store.Tx) error {
		for i := range 5 {
			exp := base.Add(time.Duration(i-2) * time.Minute) // -2m .. +2m
			if err := tx.CreateSession(store.Session{TokenHash: fmt.Sprint("t", i), LoginID: "kanri", CreatedAt: base, ExpiresAt: exp}); err != nil {
				return err
			}
		}
		return nil
	})
	var n int64
	update(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteExpiredSessions(base)
		return err
	})
	if n != 2 {
		t.Fatalf("purged %d sessions expired before now, want 2", n)
	}
	view(t, s, func(tx store.Tx) error {
		for i := range 5 {
			_, err := tx.Session(fmt.Sprint("t", i))
			if gone := errors.Is(err, store.ErrNotFound); gone != (i < 2) {
				t.Fatalf("session expiring at %+dm: gone %v (%v)", i-2, gone, err)
			}
		}
		return nil
	})
}

func testMail(t *testing.T, open Opener) {
	s := open(t)
	seed(t, s)
	var id int64
	update(t, s, func(tx store.Tx) error {
		var err error
		id, err = tx.InsertCertificate(pickedUp("kanri", "01", base))
		if err != nil {
			return err
		}
		if sent, err := tx.MailSent(id, 30); err != nil || sent {
			t.Fatalf("mail sent before any: %v, %v", sent, err)
		}
		return tx.RecordMail(id, 30, base)
	})
	err := s.Update(ctx, func(tx store.Tx) error { return tx.RecordMail(id, 30, base) })
	mustErr(t, "the same notice twice", err, store.ErrConflict)
	err = s.Update(ctx, func(tx store.Tx) error { return tx.RecordMail(999999, 30, base) })
	mustErr(t, "notice for a missing certificate (foreign key)", err, nil)
	view(t, s, func(tx store.Tx) error {
		if sent, err := tx.MailSent(id, 30); err != nil || !sent {
			t.Fatalf("30-day notice: %v, %v", sent, err)
		}
		if sent, err := tx.MailSent(id, 10); err != nil || sent {
			t.Fatalf("10-day notice: %v, %v", sent, err)
		}
		return nil
	})
}

func testAudit(t *testing.T, open Opener) {
	s := open(t)
	update(t, s, func(tx store.Tx) error {
		for i := range 5 {
			if err := tx.AppendAudit(store.AuditEntry{At: base.Add(time.Duration(i) * time.Second), Actor: "operator", Action: fmt.Sprint("a", i), Target: "kanri", RemoteAddr: "192.0.2.1:5", Detail: "詳細"}); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		es, err := tx.Audit(3)
		if err != nil {
			return err
		}
		if len(es) != 3 || es[0].Action != "a4" || es[2].Action != "a2" || es[0].Detail != "詳細" || es[0].RemoteAddr != "192.0.2.1:5" ||
			!es[0].At.Equal(base.Add(4*time.Second)) || es[0].Actor != "operator" || es[0].Target != "kanri" {
			t.Fatalf("last 3 audit rows, newest first: %+v", es)
		}
		return nil
	})
}

// testTimes: times come back in UTC, to the microsecond, whatever zone they went in with.
func testTimes(t *testing.T, open Opener) {
	s := open(t)
	jst := time.FixedZone("JST", 9*3600)
	in := base.In(jst)
	update(t, s, func(tx store.Tx) error {
		return tx.CreateContract(store.Contract{ID: "c1", Name: "x", CreatedAt: in, CertificateModeAt: &in})
	})
	view(t, s, func(tx store.Tx) error {
		c, err := tx.Contract("c1")
		if err != nil {
			return err
		}
		if c.CreatedAt != base || c.CreatedAt.Location() != time.UTC || !c.CertificateModeAt.Equal(base) {
			t.Fatalf("time round trip: %v (%v), want %v in UTC", c.CreatedAt, c.CreatedAt.Location(), base)
		}
		return nil
	})
}

func testRollbackOnError(t *testing.T, open Opener) {
	s := open(t)
	seed(t, s)
	errStop := errors.New("stop")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateContract(store.Contract{ID: "c2", Name: "x", CreatedAt: base}); err != nil {
			return err
		}
		if err := tx.AppendAudit(store.AuditEntry{At: base, Actor: "operator", Action: "contract.create", Target: "c2"}); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errStop)
	})
	mustErr(t, "failed transaction", err, errStop)
	// A failed statement inside the transaction rolls back what came before it.
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateContract(store.Contract{ID: "c3", Name: "x", CreatedAt: base}); err != nil {
			return err
		}
		return tx.CreateContract(store.Contract{ID: "c1", Name: "dup", CreatedAt: base})
	})
	mustErr(t, "transaction with a conflict", err, store.ErrConflict)
	view(t, s, func(tx store.Tx) error {
		for _, id := range []string{"c2", "c3"} {
			_, err := tx.Contract(id)
			mustErr(t, "contract "+id+" of a rolled-back transaction", err, store.ErrNotFound)
		}
		if es, err := tx.Audit(10); err != nil || len(es) != 0 {
			t.Fatalf("audit rows of a rolled-back transaction: %+v, %v", es, err)
		}
		return nil
	})
}

func testRollbackOnPanic(t *testing.T, open Opener) {
	s := open(t)
	seed(t, s)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the panic to pass through Update", r)
			}
		}()
		s.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateContract(store.Contract{ID: "c2", Name: "x", CreatedAt: base}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	// The store still works: the panicking transaction released its lock.
	done := make(chan error, 1)
	go func() {
		done <- s.Update(ctx, func(tx store.Tx) error {
			return tx.CreateContract(store.Contract{ID: "c3", Name: "y", CreatedAt: base})
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("update after a panic: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("update after a panic hangs: the panicking transaction was not rolled back")
	}
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Contract("c2")
		mustErr(t, "contract of the panicking transaction", err, store.ErrNotFound)
		_, err = tx.Contract("c3")
		return err
	})
}

func testViewReadOnly(t *testing.T, open Opener) {
	s := open(t)
	err := s.View(ctx, func(tx store.Tx) error {
		return tx.CreateContract(store.Contract{ID: "c1", Name: "x", CreatedAt: base})
	})
	mustErr(t, "write inside View", err, nil)
	view(t, s, func(tx store.Tx) error {
		_, err := tx.Contract("c1")
		mustErr(t, "contract written inside View", err, store.ErrNotFound)
		return nil
	})
}

// testNoLostUpdate: 32 read-modify-writes of one user over three handles all
// count, because reading a user inside Update locks it.
func testNoLostUpdate(t *testing.T, open Opener) {
	handles := []store.Store{open(t), open(t), open(t)}
	seed(t, handles[0])
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- handles[i%len(handles)].Update(ctx, func(tx store.Tx) error {
				u, err := tx.User("ippan")
				if err != nil {
					return err
				}
				time.Sleep(time.Millisecond) // widen the window between read and write
				u.FailedLogins++
				return tx.UpdateUser(u)
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var u store.User
	view(t, handles[1], func(tx store.Tx) error {
		var err error
		u, err = tx.User("ippan")
		return err
	})
	if u.FailedLogins != n {
		t.Fatalf("%d concurrent increments left the count at %d: updates were lost", n, u.FailedLogins)
	}
}

func testExclusive(t *testing.T, open Opener) {
	a, b := open(t), open(t)
	inside, leave := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		ran, err := a.Exclusive(ctx, "sweep", func(context.Context) error {
			close(inside)
			<-leave
			return nil
		})
		if err == nil && !ran {
			err = errors.New("the first claim did not run")
		}
		first <- err
	}()
	<-inside
	for _, s := range []store.Store{a, b} {
		ran, err := s.Exclusive(ctx, "sweep", func(context.Context) error { return nil })
		if err != nil || ran {
			t.Fatalf("a second claim while the first runs: ran %v, %v", ran, err)
		}
	}
	ran, err := b.Exclusive(ctx, "other", func(context.Context) error { return nil })
	if err != nil || !ran {
		t.Fatalf("a claim of another name: ran %v, %v", ran, err)
	}
	close(leave)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	errFn := errors.New("job failed")
	ran, err = b.Exclusive(ctx, "sweep", func(context.Context) error { return errFn })
	if !ran || !errors.Is(err, errFn) {
		t.Fatalf("a claim after the first ended: ran %v, %v", ran, err)
	}
	ran, err = a.Exclusive(ctx, "sweep", func(context.Context) error { return nil })
	if err != nil || !ran {
		t.Fatalf("a claim after a failed one: ran %v, %v", ran, err)
	}
}
