package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestKill9UnderLoadLosesNoAcknowledgedCertificate runs the built inkan-server
// under concurrent pickups and renewals and an admin's revocations, kills it
// with SIGKILL in the middle, and checks with the sqlite3 CLI that every
// certificate the server answered with is in the database, as the record of
// its ID's certificate, and every revocation it answered is there.
func TestKill9UnderLoadLosesNoAcknowledgedCertificate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds inkan-server")
	}
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("no sqlite3 CLI")
	}
	bin := buildServer(t)
	data := t.TempDir()
	const clients = 8
	roots := prepareLoadBank(t, bin, data, clients)
	prepareRevocations(t, bin, data)
	addr, serve := startServe(t, bin, data)
	rv := newRevoker(t, addr, roots)

	var mu sync.Mutex
	var acked, revoked []string // serials the server answered with, and whose revocation it answered
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			renewUntilGone(t, addr, roots, fmt.Sprintf("user%d", i), stop, func(serial string) bool {
				mu.Lock()
				acked = append(acked, serial)
				mu.Unlock()
				return true
			})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rv.revokeUntilGone(func(serial string) bool {
			mu.Lock()
			revoked = append(revoked, serial)
			mu.Unlock()
			return true
		})
	}()
	// Kill once enough answers have gone out that some were surely in flight.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n, r := len(acked), len(revoked)
		mu.Unlock()
		if n >= 40 && r >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d certificates and %d revocations in 60 s", n, r)
		}
	}
	if err := serve.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	serve.Wait()
	close(stop)
	wg.Wait()

	stored := storedCertificates(t, sqlite3, filepath.Join(data, "inkan.db"))
	for _, s := range acked {
		if st, ok := stored[s]; !ok || (st != "active" && st != "superseded") {
			t.Errorf("acknowledged certificate %s is %q in the database after kill -9", s, st)
		}
	}
	for _, s := range revoked {
		if st := stored[s]; st != "revoked" {
			t.Errorf("certificate %s, whose revocation was acknowledged, is %q in the database after kill -9", s, st)
		}
	}
	t.Logf("%d acknowledged certificates and %d acknowledged revocations, all in the database after kill -9 (%d stored)", len(acked), len(revoked), len(stored))
}
