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
	acked, lost := powerLossUnderLoad(t, buildServer(t))
	for _, s := range lost {
		t.Errorf("acknowledged certificate %s is not in the database after the power loss (or neither active nor superseded)", s)
	}
	if len(lost) == 0 {
		t.Logf("all %d certificates acknowledged before the cut are in the database after it", len(acked))
	}
}

// TestPowerLossCatchesUnsyncedCommits shows that the power-loss test has
// teeth: the same cut against a server built with synchronous=NORMAL (the
// test-only build tag inkan_test_sync_normal) loses acknowledged certificates.
func TestPowerLossCatchesUnsyncedCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds inkan-server")
	}
	acked, lost := powerLossUnderLoad(t, buildServerWith(t, "-tags", "inkan_test_sync_normal"))
	if len(lost) == 0 {
		t.Fatalf("with synchronous=NORMAL all %d acknowledged certificates survived the power loss: the test cannot tell a durable server from one that is not", len(acked))
	}
	t.Logf("with synchronous=NORMAL, %d of %d acknowledged certificates were lost, as they should be", len(lost), len(acked))
}

// powerLossUnderLoad runs the server bin on a droppable file system under 8
// clients, cuts the power after 40 answers, rolls back what was not synced,
// restarts the server on the rolled-back directory and returns the serials
// answered before the cut and those of them the database does not hold as
// active or superseded. It fails the test if the database is not intact.
func powerLossUnderLoad(t *testing.T, bin string) (acked, lost []string) {
	t.Helper()
	if err := droppable.Available(); err != nil {
		t.Skipf("SKIPPED, power loss NOT TESTED: a FUSE file system cannot be mounted here: %v", err)
	}
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("no sqlite3 CLI")
	}
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
		if st := stored[s]; st != "active" && st != "superseded" {
			lost = append(lost, s)
		}
	}
	t.Logf("%d certificates acknowledged before the cut, %d stored after it; %d fsyncs before the cut, %d unsynced changes undone",
		len(acked), len(stored), syncs, undone)
	return acked, lost
}
