package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/internal/testfs/droppable"
)

// TestPowerLossUnderLoadLosesNoAcknowledgedCertificate runs the built
// inkan-server with its data directory on a droppable FUSE file system under
// concurrent pickups and renewals, cuts the power in the middle (from that
// instant nothing reaches the disk; every write not fsynced before it is
// undone), restarts the server on what the disk kept, and checks that every
// certificate answered before the cut is in the database, active or
// superseded, and that the database is intact.
func TestPowerLossUnderLoadLosesNoAcknowledgedCertificate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds inkan-server")
	}
	if err := droppable.Available(); err != nil {
		t.Skipf("SKIPPED, power loss NOT TESTED: a FUSE file system cannot be mounted here: %v", err)
	}
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("no sqlite3 CLI")
	}
	bin := buildServer(t)
	disk, mnt := t.TempDir(), t.TempDir()
	d, err := droppable.Mount(disk, mnt)
	if err != nil {
		t.Fatal(err)
	}
	mounted := true
	t.Cleanup(func() {
		if mounted {
			d.Unmount()
		}
	})
	const clients = 8
	roots := prepareLoadBank(t, bin, mnt, clients)
	addr, serve := startServe(t, bin, mnt)

	var mu sync.Mutex
	var acked []string // serials the server answered with before the cut
	cut := false
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			renewUntilGone(t, addr, roots, fmt.Sprintf("user%d", i), stop, func(serial string) bool {
				mu.Lock()
				defer mu.Unlock()
				if cut {
					return false // answered after the power went off: it promises nothing
				}
				acked = append(acked, serial)
				return true
			})
		}()
	}
	// Cut once enough answers have gone out that some were surely in flight.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		if len(acked) >= 40 {
			d.Cut()
			cut = true
			mu.Unlock()
			break
		}
		n := len(acked)
		mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("only %d certificates in 30 s", n)
		}
	}
	syncs := d.Syncs()
	if err := serve.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	serve.Wait()
	close(stop)
	wg.Wait()
	mounted = false
	undone, err := d.Unmount()
	if err != nil {
		t.Fatal(err)
	}

	// The server comes back up on what the disk kept, recovering its WAL.
	_, again := startServe(t, bin, disk)
	stopServe(t, again)

	stored := storedCertificates(t, sqlite3, filepath.Join(disk, "inkan.db"))
	for _, s := range acked {
		if st, ok := stored[s]; !ok || (st != "active" && st != "superseded") {
			t.Errorf("acknowledged certificate %s is %q in the database after the power loss", s, st)
		}
	}
	t.Logf("%d certificates acknowledged before the cut, %d certificates stored after it; %d fsyncs before the cut, %d unsynced changes undone",
		len(acked), len(stored), syncs, undone)
}
