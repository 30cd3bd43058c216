package e2e

// Benchmarks of issue 12: renewal and pickup throughput at 32 concurrent
// clients on SQLite, on PostgreSQL with one server, and on PostgreSQL with two
// and three servers sharing the database; and login and renewal throughput
// with 1,000 and with 100,000 users in the database.
//
// The servers run in this process (each its own server.Server: own connection
// pool, caches and limits), on 127.0.0.1, with real commits (SQLite as
// server/store/sqlite configures it; PostgreSQL with synchronous_commit on).
// Every set-up of a benchmark is built first; then each b.Loop iteration is
// one short round (128 operations) of every set-up in turn, in reverse order
// every other iteration, so that the load of a shared machine falls on all of
// them alike; the targets are reported as medians of the per-iteration ratios
// (pg1/sqlite-renewal, and 100k/1k for each database), with their quartiles
// in the log. A round renews half of a pool of 256 IDs once each, on a new
// TLS connection and with a new key, as a PC does, so that the figures are of
// renewals of different IDs, not of one ID's ever longer history. On a
// machine of two cores the two and three servers share those cores: they
// show what sharing the database costs, not what more machines would add.
//
//	scripts/with-postgres.sh nice -n 10 go test -run '^$' -bench Scale -benchtime 20x -timeout 60m ./e2e/

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/smallstep/pkcs7"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/store/testdb"
	"github.com/inkan-dev/inkan/wire"
)

const (
	// scaleClients is the number of concurrent clients (c=32).
	scaleClients = 32
	// scalePool is how many IDs a set-up renews, each once in every two rounds.
	scalePool = 8 * scaleClients
	// scaleRound is how many renewals, pickups or logins one round of a set-up makes.
	scaleRound = 4 * scaleClients
)

// scaleBank is one data directory served by one or more servers on one database.
type scaleBank struct {
	b        *testing.B
	name     string
	dir      string
	dbURL    string // "" for SQLite
	urls     []string
	servers  []*server.Server
	op       *server.Operator
	contract string
	roots    *x509.CertPool
	rounds   int // pickup rounds so far, for fresh ID names
}

// durableURL is a fresh PostgreSQL database with real commits (the tests'
// URLs turn synchronous_commit off).
func durableURL(b *testing.B) string {
	return strings.Replace(testdb.PostgresURL(b), "synchronous_commit=off", "synchronous_commit=on", 1)
}

func newScaleBank(b *testing.B, name, dbURL string, servers int) *scaleBank {
	b.Helper()
	dir := b.TempDir()
	if err := server.Init(dir, server.InitConfig{BankCode: "1376", BankName: "インカン信用金庫", Hosts: []string{"127.0.0.1"},
		Demo: true, Argon2: cheapArgon2, Database: server.DatabaseConfig{URL: dbURL}}); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, server.ConfigFile)
	cfg, err := server.LoadConfig(path)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Policy.RenewBeforeDays = cfg.Policy.ValidityDays // a renewed certificate renews again at once
	cfg.Limits.WrongPasswordBurst, cfg.Limits.PasswordCheckWaitMS = 100_000, 60_000
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	sb := &scaleBank{b: b, name: name, dir: dir, dbURL: dbURL, roots: x509.NewCertPool()}
	sb.roots.AddCert(readCert(b, filepath.Join(dir, "root-ca.crt")))
	for range servers {
		srv, err := server.Open(dir, server.Options{})
		if err != nil {
			b.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go srv.Serve(ln)
		b.Cleanup(func() { srv.Shutdown(context.Background()) })
		sb.servers = append(sb.servers, srv)
		sb.urls = append(sb.urls, "https://"+ln.Addr().String())
	}
	sb.op = sb.servers[0].Operator()
	if sb.contract, err = sb.op.CreateContract(context.Background(), "株式会社インカン商事"); err != nil {
		b.Fatal(err)
	}
	sb.issue("admin", 1)
	sb.pickups([]string{"admin0000"})
	return sb
}

// url is the address client worker w uses: the servers take turns.
func (sb *scaleBank) url(w int, path string) string { return sb.urls[w%len(sb.urls)] + path }

// newConn is one PC's HTTPS client, presenting cert when not nil, that opens a
// new TLS connection for every request and closes it after the answer, as a
// PC does (and as a renewal must: it replaces the certificate the connection
// was opened with). Connections left open would pile up to the server's
// limits.max_connections and wait out its idle timeout.
func (sb *scaleBank) newConn(cert *tls.Certificate) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: sb.tlsConfig(cert), DisableKeepAlives: true}}
}

// keepAlive is a client that keeps one connection open for all its requests.
func (sb *scaleBank) keepAlive(cert *tls.Certificate) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: sb.tlsConfig(cert), MaxIdleConnsPerHost: 1}}
}

func (sb *scaleBank) tlsConfig(cert *tls.Certificate) *tls.Config {
	cfg := &tls.Config{RootCAs: sb.roots}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg
}

// keyCSR is a new key and a base64 CSR of it.
type keyCSR struct {
	key crypto.Signer
	csr []byte
}

// newKeyCSRs makes n keys and CSRs, outside the timed part.
func newKeyCSRs(b *testing.B, n int) []keyCSR {
	out := make([]keyCSR, n)
	for i := range out {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, k)
		if err != nil {
			b.Fatal(err)
		}
		out[i] = keyCSR{k, []byte(base64.StdEncoding.EncodeToString(der))}
	}
	return out
}

// est posts an EST request and returns the certificate of the reply.
func est(c *http.Client, url, loginID string, csr []byte) (*x509.Certificate, error) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(csr))
	req.Header.Set("Content-Type", "application/pkcs10")
	if loginID != "" {
		req.SetBasicAuth(loginID, password(loginID))
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %d %s", url, resp.StatusCode, body)
	}
	der, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(body)))
	if err != nil {
		return nil, err
	}
	p7, err := pkcs7.Parse(der)
	if err != nil || len(p7.Certificates) == 0 {
		return nil, fmt.Errorf("bad PKCS#7 reply: %v", err)
	}
	return p7.Certificates[0], nil
}

// pc is one picked-up identity.
type pc struct {
	loginID string
	key     crypto.Signer
	cert    *x509.Certificate
}

func (p *pc) tls() *tls.Certificate {
	return &tls.Certificate{Certificate: [][]byte{p.cert.Raw}, PrivateKey: p.key, Leaf: p.cert}
}

// measure runs n operations from scaleClients goroutines, which take the
// operations 0..n-1 in turn, and returns operations per second. Operation i
// is run once, by one worker.
func measure(b *testing.B, n int, op func(worker, i int) error) float64 {
	var wg sync.WaitGroup
	var next atomic.Int64
	start := time.Now()
	for w := range scaleClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := op(w, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return float64(n) / time.Since(start).Seconds()
}

// issue creates n IDs with open pickup windows, named prefix0000...
func (sb *scaleBank) issue(prefix string, n int) []string {
	ctx := context.Background()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s%04d", prefix, i)
		role := wire.RoleGeneral
		if prefix == "admin" && i == 0 {
			role = wire.RoleAdmin
		}
		if err := sb.op.CreateUser(ctx, sb.contract, id, role, id, "", password(id)); err != nil {
			sb.b.Fatal(err)
		}
		if err := sb.op.IssueCertificate(ctx, id); err != nil {
			sb.b.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// pickups picks up ids from 32 clients at once and returns the identities.
func (sb *scaleBank) pickups(ids []string) []*pc {
	kcs := newKeyCSRs(sb.b, len(ids))
	out := make([]*pc, len(ids))
	measure(sb.b, len(ids), func(w, i int) error {
		cert, err := est(sb.newConn(nil), sb.url(w, "/.well-known/est/simpleenroll"), ids[i], kcs[i].csr)
		if err != nil {
			return fmt.Errorf("%s: pick up %s: %w", sb.name, ids[i], err)
		}
		out[i] = &pc{loginID: ids[i], key: kcs[i].key, cert: cert}
		return nil
	})
	return out
}

// pickupRound issues scaleRound new IDs (untimed) and returns the pickups/s
// of picking them up from 32 clients at once.
func (sb *scaleBank) pickupRound() float64 {
	sb.rounds++
	ids := sb.issue(fmt.Sprintf("r%03dx", sb.rounds), scaleRound)
	kcs := newKeyCSRs(sb.b, len(ids))
	return measure(sb.b, len(ids), func(w, i int) error {
		if _, err := est(sb.newConn(nil), sb.url(w, "/.well-known/est/simpleenroll"), ids[i], kcs[i].csr); err != nil {
			return fmt.Errorf("%s: pick up %s: %w", sb.name, ids[i], err)
		}
		return nil
	})
}

// renewalRound renews every PC of pcs once, from 32 clients at once, each
// renewal on a new connection with the current certificate and a new key,
// and returns renewals/s. A renewal must answer a new certificate (not the
// old one again, as a repeated request would get).
func (sb *scaleBank) renewalRound(pcs []*pc) float64 {
	kcs := newKeyCSRs(sb.b, len(pcs))
	return measure(sb.b, len(pcs), func(w, i int) error {
		p := pcs[i]
		cert, err := est(sb.newConn(p.tls()), sb.url(w, "/.well-known/est/simplereenroll"), "", kcs[i].csr)
		if err != nil {
			return fmt.Errorf("%s: renew %s: %w", sb.name, p.loginID, err)
		}
		if cert.SerialNumber.Cmp(p.cert.SerialNumber) == 0 {
			return fmt.Errorf("%s: renewing %s answered the old certificate", sb.name, p.loginID)
		}
		p.key, p.cert = kcs[i].key, cert
		return nil
	})
}

// loginRound logs each PC in (certificate and password) once from 32
// clients at once, and returns logins/s. Each client keeps its connection
// (one per PC), so that what is measured is the server's and the database's
// work, not TLS handshakes.
func (sb *scaleBank) loginRound(pcs []*pc, clients []*http.Client) float64 {
	return measure(sb.b, len(pcs), func(w, i int) error {
		p := pcs[i]
		body, _ := json.Marshal(wire.LoginRequest{Password: password(p.loginID)})
		resp, err := clients[i].Post(sb.url(0, "/api/v1/login"), "application/json", bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("%s: log in %s: %w", sb.name, p.loginID, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: log in %s: %d", sb.name, p.loginID, resp.StatusCode)
		}
		return nil
	})
}

// series are the figures of one quantity, one per round.
type series map[string][]float64

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ratios are the per-round ratios num/den.
func ratios(num, den []float64) []float64 {
	out := make([]float64, len(num))
	for i := range num {
		out[i] = num[i] / den[i]
	}
	return out
}

// report reports the median of each series in unit (e.g. "renewals/s"),
// and logs every round's figure when logRounds (the test log of a benchmark
// keeps ten lines).
func (s series) report(b *testing.B, names []string, unit string, logRounds bool) {
	for _, n := range names {
		b.ReportMetric(median(s[n]), n+"-"+unit)
		if logRounds {
			b.Logf("%s %s by round: %.1f", n, unit, s[n])
		}
	}
}

// reportRatio reports the median of the per-round ratios of two series,
// and logs them with their quartiles.
func reportRatio(b *testing.B, name string, num, den []float64) {
	r := ratios(num, den)
	s := slices.Clone(r)
	slices.Sort(s)
	b.ReportMetric(median(r), name)
	b.Logf("%s: median %.2f, quartiles %.2f–%.2f; by round: %.2f", name, median(r), s[len(s)/4], s[(3*len(s))/4], r)
}

// half is the half of a pool that round i works on.
func half[T any](pool []T, i int) []T {
	n := len(pool) / 2
	return pool[(i%2)*n : (i%2)*n+n]
}

// inTurn returns names in order, reversed on odd rounds, so that no set-up
// always runs right after the same other one.
func inTurn(names []string, round int) []string {
	if round%2 == 0 {
		return names
	}
	r := slices.Clone(names)
	slices.Reverse(r)
	return r
}

// engines are the set-ups compared: SQLite, and PostgreSQL with 1, 2 and 3 servers.
var engines = []struct {
	name    string
	servers int
	pg      bool
}{{"sqlite", 1, false}, {"pg1", 1, true}, {"pg2", 2, true}, {"pg3", 3, true}}

func engineNames() []string {
	var out []string
	for _, e := range engines {
		out = append(out, e.name)
	}
	return out
}

func openEngine(b *testing.B, name string, pg bool, servers int) *scaleBank {
	if !pg {
		return newScaleBank(b, name, "", 1)
	}
	return newScaleBank(b, name, durableURL(b), servers)
}

// BenchmarkScaleRenewal: renewals/s at c=32 for each set-up, each round
// renewing 128 IDs of a pool of 256 once each; and PostgreSQL with one
// server against SQLite (target: pg1/sqlite-renewal ≥ 0.8).
func BenchmarkScaleRenewal(b *testing.B) {
	banks := map[string]*scaleBank{}
	pools := map[string][]*pc{}
	for _, e := range engines {
		banks[e.name] = openEngine(b, e.name, e.pg, e.servers)
		pools[e.name] = banks[e.name].pickups(banks[e.name].issue("ippan", scalePool))
	}
	got := series{}
	for round := 0; b.Loop(); round++ {
		for _, name := range inTurn(engineNames(), round) {
			got[name] = append(got[name], banks[name].renewalRound(half(pools[name], round)))
		}
	}
	got.report(b, engineNames(), "renewals/s", true)
	reportRatio(b, "pg1/sqlite-renewal", got["pg1"], got["sqlite"])
}

// BenchmarkScalePickup: pickups/s at c=32 for each set-up: every round
// issues 128 IDs (untimed) and picks them up from 32 clients at once.
func BenchmarkScalePickup(b *testing.B) {
	banks := map[string]*scaleBank{}
	for _, e := range engines {
		banks[e.name] = openEngine(b, e.name, e.pg, e.servers)
	}
	got := series{}
	for round := 0; b.Loop(); round++ {
		for _, name := range inTurn(engineNames(), round) {
			got[name] = append(got[name], banks[name].pickupRound())
		}
	}
	got.report(b, engineNames(), "pickups/s", true)
	reportRatio(b, "pg1/sqlite-pickup", got["pg1"], got["sqlite"])
}

// fill adds n users with an active certificate each straight into the
// database, in batches (the records of a bank that size, made fast).
func (sb *scaleBank) fill(n int) {
	b := sb.b
	hash, err := lifecycle.HashPassword("filler-Pass-2026", *cheapArgon2)
	if err != nil {
		b.Fatal(err)
	}
	st, err := server.OpenStore(sb.dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	na := now.Add(365 * 24 * time.Hour)
	for start := 0; start < n; start += 1000 {
		err := st.Update(context.Background(), func(tx store.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				id := fmt.Sprintf("f%06d", i)
				u := store.User{LoginID: id, ContractID: sb.contract, Role: wire.RoleGeneral, PasswordHash: hash, CreatedAt: now}
				if err := tx.CreateUser(u); err != nil {
					return err
				}
				cid, err := tx.InsertCertificate(store.Certificate{LoginID: id, ContractID: sb.contract, Status: store.CertActive, IssuedAt: now,
					PickupDeadline: now, Serial: fmt.Sprintf("f%031x", i), DER: []byte{0x30}, NotBefore: &now, NotAfter: &na})
				if err != nil {
					return err
				}
				u.CurrentCertID = &cid
				if err := tx.UpdateUser(u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScaleUsers: login and renewal throughput at c=32 with 1,000 and
// 100,000 users in the database, on SQLite and on PostgreSQL (one server),
// and the ratio of the two sizes for each (target: within 0.8–1.2). The
// pool's 256 IDs sit among the filler users; logins use the cheapest
// argon2id, so they measure the database, not the hash.
func BenchmarkScaleUsers(b *testing.B) {
	type sized struct {
		name string
		pg   bool
		n    int
	}
	var set []sized
	for _, db := range []string{"sqlite", "pg"} {
		for _, n := range []int{1_000, 100_000} {
			set = append(set, sized{fmt.Sprintf("%s-%dk", db, n/1000), db == "pg", n})
		}
	}
	banks := map[string]*scaleBank{}
	pools := map[string][]*pc{}
	conns := map[string][]*http.Client{}
	for _, s := range set {
		sb := openEngine(b, s.name, s.pg, 1)
		sb.fill(s.n - scalePool - 1)
		banks[s.name] = sb
		pools[s.name] = sb.pickups(sb.issue("ippan", scalePool))
		for _, p := range pools[s.name] {
			conns[s.name] = append(conns[s.name], sb.keepAlive(p.tls()))
		}
	}
	var names []string
	for _, s := range set {
		names = append(names, s.name)
	}
	scansBefore := seqScans(b, banks["pg-100k"].dbURL)
	logins, renewals := series{}, series{}
	for round := 0; b.Loop(); round++ {
		for _, name := range inTurn(names, round) {
			sb, pcs, cs := banks[name], half(pools[name], round), half(conns[name], round)
			logins[name] = append(logins[name], sb.loginRound(pcs, cs))
			renewals[name] = append(renewals[name], sb.renewalRound(pcs))
			// The renewed certificates open the next logins' connections.
			for i, p := range pcs {
				cs[i].CloseIdleConnections()
				cs[i] = sb.keepAlive(p.tls())
			}
		}
	}
	logins.report(b, names, "logins/s", false)
	renewals.report(b, names, "renewals/s", false)
	for _, db := range []string{"sqlite", "pg"} {
		reportRatio(b, db+"-100k/1k-login", logins[db+"-100k"], logins[db+"-1k"])
		reportRatio(b, db+"-100k/1k-renewal", renewals[db+"-100k"], renewals[db+"-1k"])
	}
	// Whatever the load, a lookup that reads a whole table of 100,000 users
	// shows in PostgreSQL's own counters: the rounds must cause none.
	time.Sleep(2 * time.Second) // the servers' backends flush their table statistics within a second
	after := seqScans(b, banks["pg-100k"].dbURL)
	var total int64
	for table, n := range after {
		total += n - scansBefore[table]
	}
	b.ReportMetric(float64(total), "pg-100k-seqscans")
	b.Logf("pg-100k sequential scans during the rounds, by table: before %v, after %v", scansBefore, after)
}

// seqScans reads PostgreSQL's count of sequential scans of the tables a
// login or renewal reads, in the database of dbURL.
func seqScans(b *testing.B, dbURL string) map[string]int64 {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT relname, seq_scan FROM pg_stat_user_tables
		WHERE schemaname = current_schema() AND relname IN ('users', 'certificates', 'sessions', 'contracts', 'audit')`)
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			b.Fatal(err)
		}
		out[t] = n
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}
