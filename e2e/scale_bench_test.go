package e2e

// Benchmarks of issue 12: renewal and pickup throughput at 32 concurrent
// clients on SQLite, on PostgreSQL with one server, and on PostgreSQL with two
// and three servers sharing the database; and renewal and login throughput
// with 1,000 and with 100,000 users in the database. The servers run in this
// process (each its own server.Server: own connection pool, caches and
// limits), on 127.0.0.1, with real commits (SQLite as server/store/sqlite
// configures it; PostgreSQL with synchronous_commit on). On a machine of two
// cores the two and three servers share those cores: they show what sharing
// the database costs, not what more machines would add.
//
//	scripts/with-postgres.sh go test -run '^$' -bench 'Scale' -benchtime 3s ./e2e/

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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/store/testdb"
	"github.com/inkan-dev/inkan/wire"
)

const scaleClients = 32

// scaleBank is one data directory served by one or more servers on one database.
type scaleBank struct {
	b        *testing.B
	dir      string
	urls     []string
	servers  []*server.Server
	op       *server.Operator
	contract string
	roots    *x509.CertPool
}

// durableURL is a fresh PostgreSQL database with real commits (the tests'
// URLs turn synchronous_commit off).
func durableURL(b *testing.B) string {
	return strings.Replace(testdb.PostgresURL(b), "synchronous_commit=off", "synchronous_commit=on", 1)
}

func newScaleBank(b *testing.B, dbURL string, servers int) *scaleBank {
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
	sb := &scaleBank{b: b, dir: dir, roots: x509.NewCertPool()}
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
	return sb
}

// client is one PC's HTTPS client, presenting cert when not nil.
func (sb *scaleBank) client(cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{RootCAs: sb.roots}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 2}}
}

func scaleKey(b *testing.B) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	return k
}

func scaleCSR(b *testing.B, key crypto.Signer) []byte {
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}, key)
	if err != nil {
		b.Fatal(err)
	}
	return []byte(base64.StdEncoding.EncodeToString(der))
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

// pickups picks up ids, spread over the servers, and returns the identities.
func (sb *scaleBank) pickups(ids []string) []*pc {
	out := make([]*pc, len(ids))
	for i, id := range ids {
		key := scaleKey(sb.b)
		cert, err := est(sb.client(nil), sb.urls[i%len(sb.urls)]+"/.well-known/est/simpleenroll", id, scaleCSR(sb.b, key))
		if err != nil {
			sb.b.Fatal(err)
		}
		out[i] = &pc{loginID: id, key: key, cert: cert}
	}
	return out
}

// runRenewals renews the PCs' certificates again and again from 32 clients,
// client i through server i mod N, and reports renewals/s.
func (sb *scaleBank) runRenewals(pcs []*pc) {
	b := sb.b
	var next atomic.Int64
	b.SetParallelism((scaleClients + 1) / 2) // 32 goroutines on 2 cores
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1) - 1)
		p, url := pcs[i%len(pcs)], sb.urls[i%len(sb.urls)]+"/.well-known/est/simplereenroll"
		c := sb.client(p.tls())
		for pb.Next() {
			key := scaleKey(b)
			cert, err := est(c, url, "", scaleCSR(b, key))
			if err != nil {
				b.Error(err)
				return
			}
			p.key, p.cert = key, cert
			c = sb.client(p.tls())
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "renewals/s")
}

// engines are the set-ups compared: SQLite, and PostgreSQL with 1, 2 and 3 servers.
var engines = []struct {
	name    string
	servers int
	pg      bool
}{{"sqlite", 1, false}, {"postgres-1", 1, true}, {"postgres-2", 2, true}, {"postgres-3", 3, true}}

func openEngine(b *testing.B, pg bool, servers int) *scaleBank {
	if !pg {
		return newScaleBank(b, "", 1)
	}
	return newScaleBank(b, durableURL(b), servers)
}

// BenchmarkScaleRenewal: renewals/s at c=32 for each set-up.
func BenchmarkScaleRenewal(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			sb := openEngine(b, e.pg, e.servers)
			sb.issue("admin", 1)
			sb.pickups([]string{"admin0000"})
			sb.runRenewals(sb.pickups(sb.issue("ippan", scaleClients)))
		})
	}
}

// BenchmarkScalePickup: pickups/s at c=32 for each set-up: every iteration
// issues 96 IDs (untimed) and picks them up from 32 clients at once.
func BenchmarkScalePickup(b *testing.B) {
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			sb := openEngine(b, e.pg, e.servers)
			sb.issue("admin", 1)
			sb.pickups([]string{"admin0000"})
			var total int
			var spent time.Duration
			for round := 0; round < b.N; round++ {
				b.StopTimer()
				ids := sb.issue(fmt.Sprintf("r%03dx", round), 3*scaleClients)
				keys := make([]crypto.Signer, len(ids))
				csrs := make([][]byte, len(ids))
				for i := range ids {
					keys[i] = scaleKey(b)
					csrs[i] = scaleCSR(b, keys[i])
				}
				b.StartTimer()
				start := time.Now()
				var wg sync.WaitGroup
				var next atomic.Int64
				for w := range scaleClients {
					wg.Go(func() {
						c := sb.client(nil)
						url := sb.urls[w%len(sb.urls)] + "/.well-known/est/simpleenroll"
						for {
							i := int(next.Add(1) - 1)
							if i >= len(ids) {
								return
							}
							if _, err := est(c, url, ids[i], csrs[i]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				spent += time.Since(start)
				total += len(ids)
			}
			b.ReportMetric(float64(total)/spent.Seconds(), "pickups/s")
		})
	}
}

// fill adds n users with an active certificate each straight into the
// database, in batches (the records of a bank that size, made fast).
func (sb *scaleBank) fill(n int) {
	b := sb.b
	hash, err := lifecycle.HashPassword("filler-Pass-2026", *cheapArgon2)
	if err != nil {
		b.Fatal(err)
	}
	st, err := openStoreOf(sb)
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

// openStoreOf opens one more handle on sb's database.
func openStoreOf(sb *scaleBank) (store.Store, error) {
	return server.OpenStore(sb.dir)
}

// BenchmarkScaleUsers: login and renewal throughput at c=32 with 1,000 and
// 100,000 users in the database, on SQLite and on PostgreSQL (one server).
// The 32 clients' IDs sit among the filler users; logins use the cheapest
// argon2id, so they measure the database, not the hash.
func BenchmarkScaleUsers(b *testing.B) {
	for _, pg := range []bool{false, true} {
		for _, n := range []int{1_000, 100_000} {
			name := "sqlite"
			if pg {
				name = "postgres"
			}
			b.Run(fmt.Sprintf("%s/users-%d", name, n), func(b *testing.B) {
				sb := openEngine(b, pg, 1)
				sb.issue("admin", 1)
				sb.pickups([]string{"admin0000"})
				sb.fill(n - scaleClients - 1)
				pcs := sb.pickups(sb.issue("ippan", scaleClients))
				b.Run("login", func(b *testing.B) {
					sb.b = b
					sb.runLogins(pcs)
				})
				b.Run("renewal", func(b *testing.B) {
					sb.b = b
					sb.runRenewals(pcs)
				})
			})
		}
	}
}

// runLogins logs the PCs in (certificate and password) from 32 clients and reports logins/s.
func (sb *scaleBank) runLogins(pcs []*pc) {
	b := sb.b
	var next atomic.Int64
	b.SetParallelism((scaleClients + 1) / 2)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		p := pcs[int(next.Add(1)-1)%len(pcs)]
		c := sb.client(p.tls())
		body, _ := json.Marshal(wire.LoginRequest{Password: password(p.loginID)})
		for pb.Next() {
			resp, err := c.Post(sb.urls[0]+"/api/v1/login", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("login: %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logins/s")
}
