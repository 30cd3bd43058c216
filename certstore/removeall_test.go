package certstore

import (
	"context"
	"testing"
)

func TestRemoveAllDeletesEveryIdentity(t *testing.T) {
	s := newMemoryStore()
	ca := newTestCA(t, "Inkan Test CA")
	a := enroll(t, s, ca, KeyOptions{Algorithm: ECDSAP256}, newLoginID(t))
	b := enroll(t, s, ca, KeyOptions{Algorithm: ECDSAP256}, newLoginID(t))
	deleted, orphans, err := RemoveAll(context.Background(), s)
	if err != nil || orphans != 0 {
		t.Fatalf("RemoveAll: %v, %d key-less", err, orphans)
	}
	if len(deleted) != 2 || deleted[0].Fingerprint == deleted[1].Fingerprint ||
		(deleted[0].Fingerprint != a.Fingerprint && deleted[0].Fingerprint != b.Fingerprint) {
		t.Fatalf("deleted %v", deleted)
	}
	if ids, err := s.List(context.Background(), ListOptions{}); err != nil || len(ids) != 0 {
		t.Fatalf("after RemoveAll: %d identities (%v)", len(ids), err)
	}
	if deleted, _, err := RemoveAll(context.Background(), s); err != nil || len(deleted) != 0 {
		t.Fatalf("RemoveAll of an empty store: %d, %v", len(deleted), err)
	}
}
