package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/internal/testfs/droppable"
	"github.com/inkan-dev/inkan/wire"
)

// TestPowerLossUnderLoadLosesNoAcknowledgedCertificate runs the built
// inkan-server with its data directory on a droppable FUSE file system under
// concurrent pickups and renewals, and an admin revoking certificates of its
// staff one after the other over the API, cuts the power in the middle (from
// that instant nothing reaches the disk; every write not fsynced before it is
// undone), restarts the server on what the disk kept, and checks that every
// certificate answered before the cut is in the database, active or
// superseded, that every revocation answered before the cut is still there
// (a revoked certificate that came back as good would be worse than a lost
// one), and that the database is intact.
func TestPowerLossUnderLoadLosesNoAcknowledgedCertificate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds inkan-server")
	}
	r := powerLossUnderLoad(t, buildServer(t))
	for _, s := range r.lost {
		t.Errorf("acknowledged certificate %s is not in the database after the power loss (or neither active nor superseded)", s)
	}
	for _, s := range r.unrevoked {
		t.Errorf("certificate %s, whose revocation was acknowledged, is not revoked after the power loss", s)
	}
	if len(r.revoked) == 0 {
		t.Error("no revocation was answered before the cut: the test checked none")
	}
	if len(r.lost) == 0 && len(r.unrevoked) == 0 {
		t.Logf("all %d certificates and %d revocations acknowledged before the cut are in the database after it", len(r.acked), len(r.revoked))
	}
}

// TestPowerLossCatchesUnsyncedCommits shows that the power-loss test has
// teeth: the same cut against a server built with synchronous=NORMAL (the
// test-only build tag inkan_test_sync_normal) loses acknowledged certificates.
func TestPowerLossCatchesUnsyncedCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds inkan-server")
	}
	r := powerLossUnderLoad(t, buildServerWith(t, "-tags", "inkan_test_sync_normal"))
	if len(r.lost) == 0 {
		t.Fatalf("with synchronous=NORMAL all %d acknowledged certificates survived the power loss: the test cannot tell a durable server from one that is not", len(r.acked))
	}
	t.Logf("with synchronous=NORMAL, %d of %d acknowledged certificates and %d of %d acknowledged revocations were lost, as they should be",
		len(r.lost), len(r.acked), len(r.unrevoked), len(r.revoked))
}

// powerLoss is what powerLossUnderLoad found: the serials answered before the
// cut (acked) and those of them the database does not hold as active or
// superseded (lost); the serials whose revocation was answered before the cut
// (revoked) and those of them not revoked in the database (unrevoked).
type powerLoss struct {
	acked, lost, revoked, unrevoked []string
}

// revokees is how many staff certificates the admin of the second contract
// can revoke during the load.
const revokees = 40

// prepareRevocations adds, to the bank prepareLoadBank made at data, a second
// contract with an admin "kanri" and general IDs rev0.. whose certificates
// that admin will revoke, each with a pickup window open.
func prepareRevocations(t *testing.T, bin, data string) {
	t.Helper()
	cli := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--data", data}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("inkan-server %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	var contract struct{ ID string }
	if err := json.Unmarshal([]byte(cli("", "--json", "contract", "add", "株式会社失効商事")), &contract); err != nil {
		t.Fatal(err)
	}
	add := func(id, role string) {
		cli(password(id)+"\n", "user", "add", id, "--contract", contract.ID, "--role", role, "--password-stdin")
		cli("", "cert", "issue", id)
	}
	add("kanri", "admin")
	for i := range revokees {
		add(fmt.Sprintf("rev%d", i), "general")
	}
}

// revoker is the admin "kanri" logged in with its certificate, and the
// serials of the staff certificates it is to revoke.
type revoker struct {
	base    string
	client  *http.Client // with kanri's certificate
	token   string
	serials []string // of rev0, rev1, ...
}

// newRevoker picks up the certificates prepareRevocations made ready and logs
// in as their admin with its certificate.
func newRevoker(t *testing.T, addr string, roots *x509.CertPool) *revoker {
	t.Helper()
	base := "https://" + addr
	plain := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	serials := make([]string, revokees)
	for i := range revokees {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		leaf, _ := estPickup(t, plain, base, fmt.Sprintf("rev%d", i), password(fmt.Sprintf("rev%d", i)), key)
		serials[i] = leaf.SerialNumber.Text(16)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf, _ := estPickup(t, plain, base, "kanri", password("kanri"), key)
	admin := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots,
		Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}}}}}
	body, _ := json.Marshal(wire.LoginRequest{Password: password("kanri")})
	req, _ := http.NewRequest("POST", base+"/api/v1/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	var login wire.LoginResponse
	if err := json.Unmarshal(doOK(t, admin, req), &login); err != nil {
		t.Fatal(err)
	}
	return &revoker{base: base, client: admin, token: login.Token, serials: serials}
}

// revokeUntilGone revokes rev0, rev1, ... one after the other, handing the
// serial of each revocation the server answered to ack, until ack returns
// false, all are revoked, or the server is gone.
func (rv *revoker) revokeUntilGone(ack func(serial string) bool) {
	for i, serial := range rv.serials {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/users/rev%d/certificate/revoke", rv.base, i), nil)
		req.Header.Set("Authorization", "Bearer "+rv.token)
		res, err := rv.client.Do(req)
		if err != nil {
			return // the server is gone
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !ack(serial) {
			return
		}
	}
}

// powerLossUnderLoad runs the server bin on a droppable file system under 8
// clients, cuts the power after 40 answers, rolls back what was not synced,
// restarts the server on the rolled-back directory and returns the serials
// answered before the cut and those of them the database does not hold as
// active or superseded, and the same for the revocations that an admin makes
// meanwhile (revoker). It fails the test if the database is not intact.
func powerLossUnderLoad(t *testing.T, bin string) (r powerLoss) {
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
	prepareRevocations(t, bin, mnt)
	addr, serve := startServe(t, bin, mnt)
	rv := newRevoker(t, addr, roots)

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
				r.acked = append(r.acked, serial)
				return true
			})
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		rv.revokeUntilGone(func(serial string) bool {
			mu.Lock()
			defer mu.Unlock()
			if cut {
				return false
			}
			r.revoked = append(r.revoked, serial)
			return true
		})
	}()
	// Cut once enough answers have gone out that some were surely in flight.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		if len(r.acked) >= 40 && len(r.revoked) >= 5 {
			d.Cut()
			cut = true
			mu.Unlock()
			break
		}
		n, revoked := len(r.acked), len(r.revoked)
		mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("only %d certificates and %d revocations in 30 s", n, revoked)
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
	for _, s := range r.acked {
		if st := stored[s]; st != "active" && st != "superseded" {
			r.lost = append(r.lost, s)
		}
	}
	for _, s := range r.revoked {
		if stored[s] != "revoked" {
			r.unrevoked = append(r.unrevoked, s)
		}
	}
	t.Logf("%d certificates and %d revocations acknowledged before the cut, %d certificates stored after it; %d fsyncs before the cut, %d unsynced changes undone",
		len(r.acked), len(r.revoked), len(stored), syncs, undone)
	return r
}
