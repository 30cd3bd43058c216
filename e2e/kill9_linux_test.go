package e2e

import (
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
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/inkan-dev/inkan/wire"
)

// TestKill9UnderLoadLosesNoAcknowledgedCertificate runs the built inkan-server
// under concurrent pickups and renewals, kills it with SIGKILL in the middle,
// and checks with the sqlite3 CLI that every certificate the server answered
// with is in the database, as the record of its ID's certificate.
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
	t.Setenv("INKAN_CA_PASSPHRASE", "e2e kill -9 passphrase") // init encrypts the CA keys, serve decrypts them
	server := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"--data", data}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("inkan-server %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	server("", "init", "--demo", "--bank-code", "1376", "--bank-name", "インカン信用金庫", "--host", "127.0.0.1")
	// Renewal open at once, so that each client renews again and again.
	cfgPath := filepath.Join(data, "config.json")
	var cfg map[string]any
	raw, _ := os.ReadFile(cfgPath)
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	policy := cfg["policy"].(map[string]any)
	policy["renew_before_days"] = policy["validity_days"]
	raw, _ = json.Marshal(cfg)
	os.WriteFile(cfgPath, raw, 0o600)

	var contract struct{ ID string }
	json.Unmarshal([]byte(server("", "--json", "contract", "add", "株式会社インカン商事")), &contract)
	const clients = 8
	for i := range clients {
		id := fmt.Sprintf("user%d", i)
		role := "general"
		if i == 0 {
			role = "admin"
		}
		server(password(id)+"\n", "user", "add", id, "--contract", contract.ID, "--role", role, "--password-stdin")
		server("", "cert", "issue", id)
	}
	var bc wire.BankConfig
	json.Unmarshal([]byte(server("", "agent-config", "--url", "https://127.0.0.1")), &bc)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(bc.CACertPEM))
	addr, serve := startServe(t, bin, data)

	var mu sync.Mutex
	var acked []string // serials the server answered with
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loginID := fmt.Sprintf("user%d", i)
			var cert *tls.Certificate
			for {
				select {
				case <-stop:
					return
				default:
				}
				key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: loginID}}, key)
				conf := &tls.Config{RootCAs: roots}
				path := "/.well-known/est/simplereenroll"
				if cert == nil {
					path = "/.well-known/est/simpleenroll"
				} else {
					conf.Certificates = []tls.Certificate{*cert}
				}
				client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: conf, DisableKeepAlives: true}}
				req, _ := http.NewRequest("POST", "https://"+addr+path, strings.NewReader(base64.StdEncoding.EncodeToString(csr)))
				req.Header.Set("Content-Type", "application/pkcs10")
				if cert == nil {
					req.SetBasicAuth(loginID, password(loginID))
				}
				res, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK {
					return
				}
				der, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(body)))
				if err != nil {
					t.Errorf("answer is not base64: %v", err)
					return
				}
				p7, err := pkcs7.Parse(der)
				if err != nil || len(p7.Certificates) == 0 {
					t.Errorf("answer is not a PKCS#7 certificate: %v", err)
					return
				}
				leaf := p7.Certificates[0]
				mu.Lock()
				acked = append(acked, leaf.SerialNumber.Text(16))
				mu.Unlock()
				cert = &tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
			}
		}()
	}
	// Kill once enough answers have gone out that some were surely in flight.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d certificates in 60 s", n)
		}
	}
	if err := serve.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	serve.Wait()
	close(stop)
	wg.Wait()

	out, err := exec.Command(sqlite3, filepath.Join(data, "inkan.db"),
		`PRAGMA integrity_check; SELECT serial || ' ' || status FROM certificates WHERE serial IS NOT NULL;`).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 after kill -9: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if lines[0] != "ok" {
		t.Fatalf("integrity_check after kill -9: %s", lines[0])
	}
	stored := map[string]string{}
	for _, l := range lines[1:] {
		serial, status, _ := strings.Cut(l, " ")
		stored[serial] = status
	}
	for _, s := range acked {
		if st, ok := stored[s]; !ok || (st != "active" && st != "superseded") {
			t.Errorf("acknowledged certificate %s is %q in the database after kill -9", s, st)
		}
	}
	t.Logf("%d acknowledged certificates, all in the database after kill -9 (%d stored)", len(acked), len(stored))
}
