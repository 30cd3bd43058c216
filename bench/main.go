// Command bench measures the Inkan server against the limits of the machine it
// runs on, in one run (issue 14): bare Go TLS 1.3 mTLS handshakes per second
// with P-256 certificates, P-256 certificate signatures per second, then the
// floors (one HTTPS call to an empty handler over a new mTLS connection, and a
// stateless EST server's renewal and pickup: CSR check, signature and PKCS#7
// answer, nothing stored), then Inkan's renewal, login and pickup, at 8 and 32
// concurrent clients, in interleaved rounds. It prints each figure's median
// and spread (min-max over the rounds), the process CPU time per operation,
// and ratios taken round by round against the limit 1/(1/handshakes +
// 1/signatures), against bare handshakes, and of each Inkan figure against
// its floor, and writes the raw rounds as JSON to bench/results/.
//
//	go run ./bench [-rounds 5] [-out bench/results] [-cpuprofile DIR] [-trace DIR]
//	go run ./bench -report bench/results/RUN.json   # the table of an earlier run
//
// Everything runs in this one process on 127.0.0.1, clients included, as the
// baselines do: the ratios compare like with like. Keys and CSRs are made
// before each timed part. Logins and pickups use the cheapest argon2id
// parameters the server accepts, so they measure the cost beyond the hash.
// The database is durable (synchronous=FULL) as in production.
package main

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
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/inkan-dev/inkan/server"
	"github.com/inkan-dev/inkan/server/lifecycle"
	"github.com/inkan-dev/inkan/wire"
)

var concurrencies = []int{8, 32}

// cheapest is the cheapest argon2id the server accepts (lifecycle.Argon2Params.Validate).
var cheapest = lifecycle.Argon2Params{Time: 1, Memory: 8, Threads: 1, KeyLen: 16}

// measurement is one timed part of one round.
type measurement struct {
	Round       int     `json:"round"`
	Name        string  `json:"name"`
	Concurrency int     `json:"concurrency"`
	Ops         int     `json:"ops"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"per_second"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	// CPUms is the CPU time of the whole process (clients, server, GC) per
	// operation: a figure that, unlike the rate, holds up on a loaded machine.
	CPUms float64 `json:"cpu_ms_per_op"`
}

func main() {
	rounds := flag.Int("rounds", 5, "interleaved rounds")
	out := flag.String("out", "bench/results", "directory for the raw rounds")
	profiles := flag.String("cpuprofile", "", "directory for a CPU profile of each figure in each round (NAME-cC-rR.pprof; go tool pprof merges several)")
	traces := flag.String("trace", "", "directory for an execution trace of each figure in each round (NAME-cC-rR.trace; go tool trace -pprof=syscall FILE shows where the database writer waits in the kernel)")
	saved := flag.String("report", "", "print the table of the raw rounds in this JSON file (of an earlier run) instead of running")
	flag.Parse()
	log.SetFlags(0)
	if *saved != "" {
		raw, err := os.ReadFile(*saved)
		if err != nil {
			log.Fatal(err)
		}
		var run struct {
			Rounds []measurement `json:"rounds"`
		}
		if err := json.Unmarshal(raw, &run); err != nil {
			log.Fatalf("%s: %v", *saved, err)
		}
		report(run.Rounds)
		return
	}

	base := newBareTLS()
	b := newBank()
	defer b.close()

	var all []measurement
	for r := 1; r <= *rounds; r++ {
		for _, c := range concurrencies {
			for _, part := range []struct {
				name string
				run  func() measurement
			}{
				{"handshake", func() measurement { return base.handshakes(c, 1500) }},
				{"signature", func() measurement { return base.signatures(c, 3000) }},
				{"https", func() measurement { return base.https(c, 1000) }},
				{"est-renewal", func() measurement {
					return base.floorEnrolls("est-renewal", base.floorRenewURL, base.clientConf, c, 500)
				}},
				{"est-pickup", func() measurement {
					return base.floorEnrolls("est-pickup", base.floorPickupURL, base.pickupConf, c, 500)
				}},
				{"renewal", func() measurement { return b.renewals(c, 500) }},
				{"login", func() measurement { return b.logins(c, 500) }},
				{"pickup", func() measurement { return b.pickups(c, 300) }},
			} {
				measure := part.run
				if *profiles != "" {
					path, bare := filepath.Join(*profiles, fmt.Sprintf("%s-c%d-r%d.pprof", part.name, c, r)), measure
					measure = func() measurement { return recorded(path, pprof.StartCPUProfile, pprof.StopCPUProfile, bare) }
				}
				if *traces != "" {
					path, bare := filepath.Join(*traces, fmt.Sprintf("%s-c%d-r%d.trace", part.name, c, r)), measure
					measure = func() measurement { return recorded(path, trace.Start, trace.Stop, bare) }
				}
				m := measure()
				m.Round = r
				all = append(all, m)
				log.Printf("round %d  %-10s c=%-2d %8.0f/s  p50 %6.1f ms  p99 %6.1f ms  CPU %5.2f ms/op", r, m.Name, c, m.PerSecond, m.P50ms, m.P99ms, m.CPUms)
			}
		}
	}
	report(all)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	name := filepath.Join(*out, time.Now().UTC().Format("20060102T150405Z")+".json")
	raw, _ := json.MarshalIndent(map[string]any{
		"date": time.Now().UTC().Format(time.RFC3339), "machine": machine(), "go": runtime.Version(),
		"gomaxprocs": runtime.GOMAXPROCS(0), "rounds": all,
	}, "", "  ")
	if err := os.WriteFile(name, raw, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nraw rounds: %s\n", name)
}

// recorded runs part with a recorder (the CPU profiler, the execution tracer)
// writing to path: start begins it on the file, stop ends it.
func recorded(path string, start func(io.Writer) error, stop func(), part func() measurement) measurement {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := start(f); err != nil {
		log.Fatal(err)
	}
	defer stop()
	return part()
}

// --- the bare baselines

type bareTLS struct {
	addr       string
	httpsURL   string // the same TLS, answering every POST with {} (plain net/http)
	clientConf *tls.Config
	caKey      *ecdsa.PrivateKey
	caCert     *x509.Certificate
	// the stateless EST server (serveEST): renewal with clientConf, pickup with pickupConf
	floorRenewURL, floorPickupURL string
	pickupConf                    *tls.Config
}

func mustKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	return k
}

// newBareTLS serves bare TLS 1.3 with a required, verified P-256 client
// certificate: the handshake and nothing else.
func newBareTLS() *bareTLS {
	caKey := mustKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	caCert, _ := x509.ParseCertificate(caDER)
	leaf := func(eku x509.ExtKeyUsage, ip bool) tls.Certificate {
		k := mustKey()
		t := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "bench"},
			ExtKeyUsage: []x509.ExtKeyUsage{eku}, KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
		if ip {
			t.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		der, _ := x509.CreateCertificate(rand.Reader, t, caCert, &k.PublicKey, caKey)
		parsed, _ := x509.ParseCertificate(der)
		// Leaf set, as Inkan's clients have it: else crypto/tls parses the
		// client certificate again on every handshake to match it against
		// the CAs the server names.
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: parsed}
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	srvConf := &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{leaf(x509.ExtKeyUsageServerAuth, true)},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				tc := tls.Server(c, srvConf)
				tc.Handshake()
				tc.Close()
			}()
		}
	}()
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	empty := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	})
	// The floors (the empty call, the stateless EST server) use TLS as Inkan's
	// server does: no session tickets (server.TLSConfig).
	floorConf := srvConf.Clone()
	floorConf.SessionTicketsDisabled = true
	go (&http.Server{Handler: empty}).Serve(tls.NewListener(hln, floorConf))
	b := &bareTLS{addr: ln.Addr().String(), httpsURL: "https://" + hln.Addr().String(), caKey: caKey, caCert: caCert,
		clientConf: &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool, Certificates: []tls.Certificate{leaf(x509.ExtKeyUsageClientAuth, false)}}}
	// The stateless EST server: renewal over mTLS (the presented certificate
	// verified in the handshake), pickup over server-authenticated TLS.
	pickupConf := floorConf.Clone()
	pickupConf.ClientAuth, pickupConf.ClientCAs = tls.NoClientCert, nil
	b.floorRenewURL, b.floorPickupURL = b.serveEST(floorConf), b.serveEST(pickupConf)
	b.pickupConf = &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: pool}
	return b
}

// serveEST serves, with conf, a stateless EST enroll: it reads the base64
// PKCS#10 body, checks the CSR's signature, signs a certificate for its key
// with the CA key (the certificate of the signature figure) and answers it as
// a base64 certs-only PKCS#7, as Inkan does. Nothing is stored and no rule is
// checked: what every EST pickup or renewal costs before it does anything of
// its own (the floors of Inkan's pickup and renewal).
func (b *bareTLS) serveEST(conf *tls.Config) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	enroll := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		der, err := base64.StdEncoding.DecodeString(string(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		csr, err := x509.ParseCertificateRequest(der)
		if err == nil {
			err = csr.CheckSignature()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		cert, err := b.sign(csr.PublicKey)
		if err == nil {
			cert, err = pkcs7.DegenerateCertificate(cert)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/pkcs7-mime; smime-type=certs-only")
		w.Header().Set("Content-Transfer-Encoding", "base64")
		io.WriteString(w, base64.StdEncoding.EncodeToString(cert))
	})
	go (&http.Server{Handler: enroll}).Serve(tls.NewListener(ln, conf))
	return "https://" + ln.Addr().String()
}

// sign signs the signature figure's certificate for pub with the CA key.
func (b *bareTLS) sign(pub any) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	t := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "user", Organization: []string{"bench"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
		NotBefore: time.Now(), NotAfter: time.Now().Add(365 * 24 * time.Hour)}
	return x509.CreateCertificate(rand.Reader, t, b.caCert, pub, b.caKey)
}

// floorEnrolls are n stateless EST enrolls (serveEST) at url on a new TLS
// connection each, with the client Inkan's figures use; conf is the client's
// TLS (with or without its certificate).
func (b *bareTLS) floorEnrolls(name, url string, conf *tls.Config, c, n int) measurement {
	csrs := newKeyCSRs(n)
	return run(name, c, n, func(_, i int) error {
		body, err := post(newClient(conf), url, "application/pkcs10", csrs[i].b64, nil)
		if err != nil {
			return err
		}
		_, err = parseEnrolled(body)
		return err
	})
}

func (b *bareTLS) handshakes(c, n int) measurement {
	return run("handshake", c, n, func(_, _ int) error {
		conn, err := tls.Dial("tcp", b.addr, b.clientConf)
		if err != nil {
			return err
		}
		return conn.Close()
	})
}

// https is one HTTP request and answer over a new mTLS connection to an empty
// handler, with the client Inkan's figures use (a new http.Transport, no
// keep-alive): what any HTTPS API call costs before it does anything, so the
// ceiling of a login measured this way against bare handshakes.
func (b *bareTLS) https(c, n int) measurement {
	body := `{"password":"Bench-login00-2026"}`
	return run("https", c, n, func(_, _ int) error {
		_, err := post(newClient(b.clientConf), b.httpsURL, "application/json", body, nil)
		return err
	})
}

// signatures signs P-256 leaf certificates with the CA key.
func (b *bareTLS) signatures(c, n int) measurement {
	keys := make([]*ecdsa.PrivateKey, 16)
	for i := range keys {
		keys[i] = mustKey()
	}
	return run("signature", c, n, func(_, i int) error {
		_, err := b.sign(&keys[i%len(keys)].PublicKey)
		return err
	})
}

// --- Inkan

type bank struct {
	dir    string
	srv    *server.Server
	url    string
	roots  *x509.CertPool
	op     *server.Operator
	done   chan error
	renew  []*identity // one per client slot, renewed again and again
	login  []*identity
	pickup []string // IDs whose pickup windows the pickup rounds reopen
}

type identity struct {
	loginID string
	key     crypto.Signer
	cert    *x509.Certificate
}

func (id *identity) tls() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{id.cert.Raw}, PrivateKey: id.key, Leaf: id.cert}
}

func password(loginID string) string { return "Bench-" + loginID + "-2026" }

func newBank() *bank {
	dir, err := os.MkdirTemp("", "inkan-bench-")
	if err != nil {
		log.Fatal(err)
	}
	argon := cheapest
	if err := server.Init(dir, server.InitConfig{BankCode: "1376", BankName: "Bench Shinkin", Argon2: &argon,
		Demo: true, RevocationURL: "http://127.0.0.1:8080", HTTPAddr: "127.0.0.1:0"}); err != nil {
		log.Fatal(err)
	}
	cfgPath := filepath.Join(dir, server.ConfigFile)
	cfg, err := server.LoadConfig(cfgPath)
	if err != nil {
		log.Fatal(err)
	}
	cfg.Policy.RenewBeforeDays = cfg.Policy.ValidityDays // a renewed certificate renews again at once
	cfg.Limits.PasswordCheckWaitMS = 60_000
	cfg.Limits.WrongPasswordsPerMinute, cfg.Limits.WrongPasswordBurst = 60_000, 100_000
	if cfg.Limits.MaxConnections < 1024 {
		cfg.Limits.MaxConnections = 1024
	}
	raw, _ := json.MarshalIndent(cfg, "", "  ")
	if err := os.WriteFile(cfgPath, raw, 0o600); err != nil {
		log.Fatal(err)
	}
	srv, err := server.Open(dir, server.Options{Logger: nil})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	b := &bank{dir: dir, srv: srv, url: "https://" + ln.Addr().String(), op: srv.Operator(), done: make(chan error, 1)}
	go func() { b.done <- srv.Serve(ln) }()
	rootPEM, err := os.ReadFile(filepath.Join(dir, "root-ca.crt"))
	if err != nil {
		log.Fatal(err)
	}
	b.roots = x509.NewCertPool()
	b.roots.AppendCertsFromPEM(rootPEM)

	ctx := context.Background()
	cid, err := b.op.CreateContract(ctx, "ベンチ商事")
	if err != nil {
		log.Fatal(err)
	}
	maxC := concurrencies[len(concurrencies)-1]
	mk := func(loginID string, role wire.Role) {
		if err := b.op.CreateUser(ctx, cid, loginID, role, loginID, "", password(loginID)); err != nil {
			log.Fatal(err)
		}
		if err := b.op.IssueCertificate(ctx, loginID); err != nil {
			log.Fatal(err)
		}
	}
	mk("admin", wire.RoleAdmin)
	b.renew = append(b.renew, b.mustPickup("admin"))
	for i := 1; i < maxC; i++ {
		id := fmt.Sprintf("renew%02d", i)
		mk(id, wire.RoleGeneral)
		b.renew = append(b.renew, b.mustPickup(id))
	}
	for i := 0; i < maxC; i++ {
		id := fmt.Sprintf("login%02d", i)
		mk(id, wire.RoleGeneral)
		b.login = append(b.login, b.mustPickup(id))
	}
	for i := 0; i < 300; i++ {
		id := fmt.Sprintf("pickup%03d", i)
		mk(id, wire.RoleGeneral)
		b.pickup = append(b.pickup, id)
	}
	return b
}

func (b *bank) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.srv.Shutdown(ctx)
	<-b.done
	os.RemoveAll(b.dir)
}

// client is a PC's HTTP client: a new TLS connection for every request, as a
// renewal (new certificate) and a login (a new session from a PC) need.
func (b *bank) client(cert *tls.Certificate) *http.Client {
	conf := &tls.Config{RootCAs: b.roots}
	if cert != nil {
		conf.Certificates = []tls.Certificate{*cert}
	}
	return newClient(conf)
}

// newClient is an HTTP client with TLS conf that opens a new connection for
// every request (no keep-alive): every figure's client, baselines and Inkan.
func newClient(conf *tls.Config) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{TLSClientConfig: conf, DisableKeepAlives: true}}
}

type keyCSR struct {
	key crypto.Signer
	b64 string
}

func newKeyCSRs(n int) []keyCSR {
	out := make([]keyCSR, n)
	for i := range out {
		k := mustKey()
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "bench"}}, k)
		if err != nil {
			log.Fatal(err)
		}
		out[i] = keyCSR{k, base64.StdEncoding.EncodeToString(der)}
	}
	return out
}

// post POSTs body to url with client and returns the answer's body, or an
// error for any status but 200; auth, when set, adds the credentials.
func post(client *http.Client, url, ctype, body string, auth func(*http.Request)) ([]byte, error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	if auth != nil {
		auth(req)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %d %s", url, res.StatusCode, data)
	}
	return data, nil
}

func parseEnrolled(body []byte) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(body)))
	if err != nil {
		return nil, err
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, err
	}
	if len(p7.Certificates) == 0 {
		return nil, fmt.Errorf("no certificate in the answer")
	}
	return p7.Certificates[0], nil
}

func (b *bank) enroll(loginID string, kc keyCSR) (*identity, error) {
	body, err := post(b.client(nil), b.url+"/.well-known/est/simpleenroll", "application/pkcs10", kc.b64,
		func(r *http.Request) { r.SetBasicAuth(loginID, password(loginID)) })
	if err != nil {
		return nil, err
	}
	cert, err := parseEnrolled(body)
	if err != nil {
		return nil, err
	}
	return &identity{loginID: loginID, key: kc.key, cert: cert}, nil
}

func (b *bank) mustPickup(loginID string) *identity {
	id, err := b.enroll(loginID, newKeyCSRs(1)[0])
	if err != nil {
		log.Fatalf("pick up %s: %v", loginID, err)
	}
	return id
}

// renewals: simplereenroll with the current certificate on a new connection
// and a new key; each client slot renews its own ID again and again.
func (b *bank) renewals(c, n int) measurement {
	csrs := newKeyCSRs(n)
	return run("renewal", c, n, func(worker, i int) error {
		id := b.renew[worker] // each client renews its own ID
		cert := id.tls()
		body, err := post(b.client(&cert), b.url+"/.well-known/est/simplereenroll", "application/pkcs10", csrs[i].b64, nil)
		if err != nil {
			return err
		}
		nc, err := parseEnrolled(body)
		if err != nil {
			return err
		}
		b.renew[worker] = &identity{loginID: id.loginID, key: csrs[i].key, cert: nc}
		return nil
	})
}

// logins: 電子証明書ログイン (certificate + password) on a new connection.
func (b *bank) logins(c, n int) measurement {
	return run("login", c, n, func(worker, _ int) error {
		id := b.login[worker]
		cert := id.tls()
		body, _ := json.Marshal(wire.LoginRequest{Password: password(id.loginID)})
		_, err := post(b.client(&cert), b.url+"/api/v1/login", "application/json", string(body), nil)
		return err
	})
}

// pickups: 電子証明書取得 with ID and password; the windows are reopened
// (reissue) before the timed part.
func (b *bank) pickups(c, n int) measurement {
	if n > len(b.pickup) {
		n = len(b.pickup)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, id := range b.pickup[:n] {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := b.op.ReissueCertificate(context.Background(), id); err != nil {
				log.Fatalf("reissue %s: %v", id, err)
			}
		}()
	}
	wg.Wait()
	csrs := newKeyCSRs(n)
	return run("pickup", c, n, func(_, i int) error {
		_, err := b.enroll(b.pickup[i], csrs[i])
		return err
	})
}

// run does n operations on c goroutines (workers 0..c-1) and times them.
func run(name string, c, n int, op func(worker, i int) error) measurement {
	runtime.GC()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	start := time.Now()
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t0 := time.Now()
				if err := op(w, i); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if err, _ := failed.Load().(error); err != nil {
		log.Fatalf("%s c=%d: %v", name, c, err)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return measurement{Name: name, Concurrency: c, Ops: n, Seconds: elapsed.Seconds(), PerSecond: float64(n) / elapsed.Seconds(),
		P50ms: ms(lat[n/2]), P99ms: ms(lat[n*99/100]), CPUms: ms(cpu) / float64(n)}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// --- the report

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func spread(xs []float64) string {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return fmt.Sprintf("%.0f-%.0f", s[0], s[len(s)-1])
}

func report(all []measurement) {
	get := func(name string, c int) map[int]measurement {
		m := map[int]measurement{}
		for _, x := range all {
			if x.Name == name && x.Concurrency == c {
				m[x.Round] = x
			}
		}
		return m
	}
	fmt.Printf("\n%s, %s, GOMAXPROCS %d, %s\n\n", time.Now().UTC().Format("2006-01-02"), machine(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Println("| figure | c | median /s | spread /s | p50 ms | p99 ms | CPU ms/op | ratio to limit 1/(1/hs+1/sig) | ratio to bare handshakes | by CPU: to the limit | by CPU: to handshakes |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, c := range concurrencies {
		hs, sig := get("handshake", c), get("signature", c)
		for _, name := range []string{"handshake", "signature", "https", "est-renewal", "est-pickup", "renewal", "login", "pickup"} {
			ms := get(name, c)
			if len(ms) == 0 {
				continue // a run from before this figure existed
			}
			var rates, p50, p99, cpu, toLimit, toHS, cpuToLimit, cpuToHS []float64
			for r, m := range ms {
				rates, p50, p99, cpu = append(rates, m.PerSecond), append(p50, m.P50ms), append(p99, m.P99ms), append(cpu, m.CPUms)
				limit := 1 / (1/hs[r].PerSecond + 1/sig[r].PerSecond)
				toLimit, toHS = append(toLimit, m.PerSecond/limit), append(toHS, m.PerSecond/hs[r].PerSecond)
				// What the rates would be on an idle machine where every
				// figure is CPU-bound: the inverse ratio of CPU per operation.
				cpuToLimit, cpuToHS = append(cpuToLimit, (hs[r].CPUms+sig[r].CPUms)/m.CPUms), append(cpuToHS, hs[r].CPUms/m.CPUms)
			}
			byCPU := fmt.Sprintf("%.2f | %.2f× | %.2f× | %.2f× | %.2f×", median(cpu), median(toLimit), median(toHS), median(cpuToLimit), median(cpuToHS))
			if median(cpu) == 0 {
				byCPU = fmt.Sprintf("- | %.2f× | %.2f× | - | -", median(toLimit), median(toHS)) // a run from before CPU was measured
			}
			fmt.Printf("| %s | %d | %.0f | %s | %.1f | %.1f | %s |\n", name, c, median(rates), spread(rates), median(p50), median(p99), byCPU)
		}
	}
	var r8, r32 []float64
	for r, m := range get("renewal", 32) {
		r32 = append(r32, m.PerSecond)
		r8 = append(r8, get("renewal", 8)[r].PerSecond)
	}
	fmt.Printf("\nrenewal c=32 / c=8: %.2f×\n", median(r32)/median(r8))
	for _, c := range concurrencies {
		hs, sig := get("handshake", c), get("signature", c)
		for _, f := range []struct {
			floor, inkan, what string
			toLimit            bool // held against the limit, else against bare handshakes
		}{
			{"https", "login", "an empty HTTPS call", false},
			{"est-renewal", "renewal", "a stateless EST renewal", true},
			{"est-pickup", "pickup", "a stateless EST pickup", true},
		} {
			floor, inkan := get(f.floor, c), get(f.inkan, c)
			if len(floor) == 0 {
				continue // a run from before this figure existed
			}
			var ceiling, toFloor, cpuCeiling, cpuToFloor []float64
			for r, m := range inkan {
				base, baseCPU := hs[r].PerSecond, hs[r].CPUms
				if f.toLimit {
					base, baseCPU = 1/(1/hs[r].PerSecond+1/sig[r].PerSecond), hs[r].CPUms+sig[r].CPUms
				}
				ceiling, toFloor = append(ceiling, floor[r].PerSecond/base), append(toFloor, m.PerSecond/floor[r].PerSecond)
				cpuCeiling, cpuToFloor = append(cpuCeiling, baseCPU/floor[r].CPUms), append(cpuToFloor, floor[r].CPUms/m.CPUms)
			}
			against := "bare handshakes"
			if f.toLimit {
				against = "the limit"
			}
			fmt.Printf("c=%d: %s is %.2f× %s (%.2f× by CPU); %s is %.2f× it (%.2f× by CPU)\n",
				c, f.what, median(ceiling), against, median(cpuCeiling), f.inkan, median(toFloor), median(cpuToFloor))
		}
	}
}

func machine() string {
	model := runtime.GOARCH
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range bytes.Split(raw, []byte("\n")) {
			if k, v, ok := strings.Cut(string(line), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs", model, runtime.NumCPU())
}
