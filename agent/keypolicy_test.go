package agent

import (
	"errors"
	"strings"
	"testing"

	"github.com/inkan-dev/inkan/certstore"
	"github.com/inkan-dev/inkan/wire"
)

func TestPickupMakesTheKeyTypeTheBankAsksFor(t *testing.T) {
	for _, kt := range wire.KeyTypes {
		t.Run(string(kt), func(t *testing.T) {
			c := newClock()
			b := newFakeBank(t, c.now)
			b.keyType = kt
			store := &faultyStore{Store: memoryStore(t)}
			a := newTestAgent(t, b, store, c)
			id, err := a.Pickup(t.Context(), "alice", "pw", nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(store.generated) != 1 || store.generated[0].Algorithm != certstore.Algorithm(kt) {
				t.Fatalf("generated %+v, want one %s key", store.generated, kt)
			}
			if got := id.Certificate.PublicKeyAlgorithm.String(); !strings.HasPrefix(strings.ToLower(got), strings.SplitN(string(kt), "-", 2)[0]) {
				t.Fatalf("certificate key %s for policy %s", got, kt)
			}
		})
	}
}

func TestKeysAreExportableOnlyForTheRolesTheBankLetsBackUp(t *testing.T) {
	c := newClock()
	b := newFakeBank(t, c.now)
	b.backupRoles = []wire.Role{wire.RoleAdmin} // the fake issues general IDs
	store := &faultyStore{Store: memoryStore(t)}
	a := newTestAgent(t, b, store, c)
	id, err := a.Pickup(t.Context(), "alice", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if store.generated[0].Exportable || id.Exportable {
		t.Fatalf("a general ID's key is exportable under a policy of admin-only backups")
	}
	_, err = a.Backup(t.Context(), []Fingerprint{id.Fingerprint}, "Backup-pass-1234", "Backup-pass-1234")
	var ne *NotExportableError
	if !errors.As(err, &ne) || !errors.Is(err, certstore.ErrKeyNotExportable) {
		t.Fatalf("backup of a non-exportable key: %v", err)
	}
	ja, en := Message(err, "ja"), Message(err, "en")
	if !strings.Contains(ja, "管理者ID") || !strings.Contains(ja, id.Label) || !strings.Contains(en, "admin IDs") {
		t.Fatalf("the message does not say who can back up: %q / %q", ja, en)
	}
	if Classify(err) != CategoryStore {
		t.Fatalf("Classify = %v", Classify(err))
	}

	// Once the bank lets general IDs back up, a new pickup's key is exportable.
	b.backupRoles = []wire.Role{wire.RoleAdmin, wire.RoleGeneral}
	id2, err := a.Pickup(t.Context(), "bob", "pw", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !store.generated[1].Exportable || !id2.Exportable {
		t.Fatal("the key is not exportable although the policy lets the role back up")
	}
}

func TestStoreThatCannotMakeTheKeySaysSo(t *testing.T) {
	err := &certstore.UnsupportedKeyError{Kind: certstore.KindWindows, Algorithm: certstore.ECDSAP256,
		Err: &certstore.SystemError{Call: "NCryptCreatePersistedKey", Code: 0x80090029, Name: "NTE_NOT_SUPPORTED"}}
	ja := Message(err, "ja")
	if !strings.Contains(ja, "この PC の証明書ストア") || !strings.Contains(ja, "ecdsa-p256") || !strings.Contains(ja, "NCryptCreatePersistedKey returned 0x80090029") {
		t.Fatalf("Message(ja) = %q", ja)
	}
	if Classify(err) != CategoryStore {
		t.Fatalf("Classify = %v, want CategoryStore", Classify(err))
	}
	sys := &certstore.SystemError{Call: "CertAddCertificateContextToStore", Code: 5}
	if !strings.Contains(Message(sys, "ja"), "この PC の証明書ストアで") || Classify(sys) != CategoryStore {
		t.Fatalf("SystemError: %q %v", Message(sys, "ja"), Classify(sys))
	}
}
