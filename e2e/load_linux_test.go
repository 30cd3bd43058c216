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
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"github.com/inkan-dev/inkan/wire"
)

// prepareLoadBank initialises a demo bank in data with the built server bin:
// renewal open at once (so that each client renews again and again) and
// clients users user0… (user0 an admin) whose certificates are issued and
// waiting for pickup. It returns the bank's CA roots.
func prepareLoadBank(t *testing.T, bin, data string, clients int) *x509.CertPool {
	t.Helper()
	t.Setenv("INKAN_CA_PASSPHRASE", "e2e load passphrase") // init encrypts the CA keys, serve decrypts them
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
	cfgPath := filepath.Join(data, "config.json")
	var cfg map[string]any
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	policy := cfg["policy"].(map[string]any)
	policy["renew_before_days"] = policy["validity_days"]
	raw, _ = json.Marshal(cfg)
	f, err := os.OpenFile(cfgPath, os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Write(raw)
	if err == nil {
		err = f.Sync() // an operator's editor syncs too; a power loss keeps only what was synced
	}
	if err := errors.Join(err, f.Close()); err != nil {
		t.Fatal(err)
	}
	var contract struct{ ID string }
	json.Unmarshal([]byte(server("", "--json", "contract", "add", "株式会社インカン商事")), &contract)
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
	return roots
}

// renewUntilGone picks up loginID's certificate at the server at addr, then
// renews it with a new key again and again, handing the serial (hex) of every
// certificate the server answered with to ack, until stop is closed, ack
// returns false, or the server is gone.
func renewUntilGone(t *testing.T, addr string, roots *x509.CertPool, loginID string, stop <-chan struct{}, ack func(serial string) bool) {
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
		if !ack(leaf.SerialNumber.Text(16)) {
			return
		}
		cert = &tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
	}
}

// storedCertificates checks the integrity of the SQLite database at path with
// the sqlite3 CLI and returns the status of every issued certificate by serial.
func storedCertificates(t *testing.T, sqlite3, path string) map[string]string {
	t.Helper()
	out, err := exec.Command(sqlite3, path,
		`PRAGMA integrity_check; SELECT serial || ' ' || status FROM certificates WHERE serial IS NOT NULL;`).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %s: %v\n%s", path, err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if lines[0] != "ok" {
		t.Fatalf("integrity_check of %s: %s", path, strings.Join(lines, "\n"))
	}
	stored := map[string]string{}
	for _, l := range lines[1:] {
		serial, status, _ := strings.Cut(l, " ")
		stored[serial] = status
	}
	return stored
}
