package e2e

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestOlderDataDirectoryIsUpgradedAndKeepsItsCertificates takes a data
// directory and a PC's store as inkan-server and inkanctl of commit e340d81
// made them (testdata/datadir-e340d81: clear CA keys, no root CRL, no
// revocation_url, an issuing CA of the old kind, leaves with organizationIdentifier
// BANKJP-1376) through the operator's path with the real binaries: status
// says what is wrong, serve refuses, upgrade shows its plan and changes
// nothing, upgrade --apply without the decisions does what it can and names
// the rest, with them it finishes; then serve, the old leaf logs in, a new
// pickup gets the new layout, openssl verify -crl_check_all -crl_download
// accepts it and openssl ocsp answers for the old leaf, good then revoked.
func TestOlderDataDirectoryIsUpgradedAndKeepsItsCertificates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	for _, tool := range []string{"openssl", "sqlite3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing: run scripts/install-deps.sh", tool)
		}
	}
	bin := t.TempDir()
	for _, cmd := range []string{"inkan-server", "inkanctl"} {
		if out, err := exec.Command(goTool, "build", "-o", filepath.Join(bin, cmd), "github.com/inkan-dev/inkan/cmd/"+cmd).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", cmd, err, out)
		}
	}
	work := t.TempDir()
	if err := os.CopyFS(work, os.DirFS("testdata/datadir-e340d81")); err != nil {
		t.Fatal(err)
	}
	data, pc := filepath.Join(work, "data"), filepath.Join(work, "pc")
	for _, d := range []string{data, filepath.Join(data, "offline"), filepath.Join(pc, "store")} {
		os.Chmod(d, 0o700) // as the old init left them (git keeps no modes)
	}
	passwords := map[string]string{}
	demo, _ := os.ReadFile(filepath.Join(work, "demo.txt"))
	for _, m := range regexp.MustCompile(`(?m)^(demo-\S+)\s+\S+\s+(\S+)$`).FindAllStringSubmatch(string(demo), -1) {
		passwords[m[1]] = m[2]
	}

	pass := "INKAN_CA_PASSPHRASE=upgrade e2e passphrase"
	server := func(env []string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "inkan-server"), append([]string{"--data", data}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustServer := func(env []string, args ...string) string {
		t.Helper()
		out, err := server(env, args...)
		if err != nil {
			t.Fatalf("inkan-server %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	// Before: status names the problems and exits 1; serve refuses the clear root key.
	if out, err := server(nil, "status"); err == nil || !strings.Contains(out, "ERR  ルートCRL（root.crl）がありません") || !strings.Contains(out, "inkan-server upgrade --data") {
		t.Fatalf("status of the old directory: %v\n%s", err, out)
	}
	if out, err := server([]string{pass}, "serve", "--addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"); err == nil || !strings.Contains(out, "inkan-server upgrade") {
		t.Fatalf("serve on the old directory: %v\n%s", err, out)
	}
	// The plan changes nothing.
	before := treeHash(t, data)
	if out := mustServer(nil, "upgrade"); !strings.Contains(out, "[TODO]") || !strings.Contains(out, "needs: --revocation-url") || !strings.Contains(out, "needs: --rollover") {
		t.Fatalf("upgrade plan:\n%s", out)
	}
	if treeHash(t, data) != before {
		t.Fatal("upgrade without --apply changed the data directory")
	}
	// --apply without the decisions does what needs none, and says what is left.
	out, err := server(nil, "upgrade", "--apply")
	if err == nil || !strings.Contains(out, "[DONE] TLS") || !strings.Contains(err.Error()+out, "steps remain") {
		t.Fatalf("upgrade --apply without decisions: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(data, "tls.pem")); err != nil {
		t.Fatalf("tls.pem after the first --apply: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()
	out = mustServer([]string{pass}, "upgrade", "--apply", "--demo", "--revocation-url", "http://"+httpAddr, "--rollover")
	if strings.Contains(out, "[TODO]") || !strings.Contains(out, "アップグレードが終わりました") {
		t.Fatalf("upgrade --apply with the decisions:\n%s", out)
	}
	if out := mustServer(nil, "upgrade"); !strings.Contains(out, "up to date") {
		t.Fatalf("upgrade after the upgrade:\n%s", out)
	}
	// The fixture's TLS certificate was made in 2026 for two years: renew it so
	// this test keeps running, as the operator does every two years.
	mustServer([]string{pass}, "tls", "renew")
	if out, err := server(nil, "status"); err != nil || strings.Contains(out, "WARN") || strings.Contains(out, "ERR ") {
		t.Fatalf("status after the upgrade: %v\n%s", err, out)
	}
	var cfg struct {
		RevocationURL string `json:"revocation_url"`
		HTTPAddr      string `json:"http_addr"`
		Policy        string `json:"certificate_policy_oid"`
	}
	raw, _ := os.ReadFile(filepath.Join(data, "config.json"))
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg.RevocationURL != "http://"+httpAddr || cfg.HTTPAddr != httpAddr || cfg.Policy == "" {
		t.Fatalf("config.json after the upgrade: %+v %v", cfg, err)
	}
	if olds, _ := filepath.Glob(filepath.Join(data, "config.json.before-upgrade-*")); len(olds) != 2 {
		t.Fatalf("kept configs: %v", olds)
	}

	// serve, and the PC that has the old certificates.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var bank map[string]any
	raw, _ = os.ReadFile(filepath.Join(pc, "bank.json"))
	if err := json.Unmarshal(raw, &bank); err != nil {
		t.Fatal(err)
	}
	bank["server_url"] = "https://" + addr // the fixture's port was another
	raw, _ = json.Marshal(bank)
	os.WriteFile(filepath.Join(pc, "bank.json"), raw, 0o600)
	serve := exec.Command(filepath.Join(bin, "inkan-server"), "--data", data, "serve", "--addr", addr)
	serve.Env = append(os.Environ(), pass)
	var serveLog bytes.Buffer
	serve.Stdout, serve.Stderr = &serveLog, &serveLog
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		if err := serve.Wait(); err != nil {
			t.Errorf("inkan-server serve: %v\n%s", err, serveLog.String())
		}
	})
	for _, a := range []string{addr, httpAddr} {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if c, err := net.Dial("tcp", a); err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("inkan-server did not listen on %s:\n%s", a, serveLog.String())
			}
		}
	}
	inkanctl := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "inkanctl"), append([]string{"--config", filepath.Join(pc, "bank.json"),
			"--store", "dir:" + filepath.Join(pc, "store"), "--state-dir", pc, "--lang", "en"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("inkanctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := inkanctl(passwords["demo-admin"]+"\n", "login", "--id", "demo-admin+1376", "--password-stdin"); !strings.Contains(out, "logged in as demo-admin (admin") {
		t.Fatalf("login with the old leaf after the upgrade: %s", out)
	}
	inkanctl(passwords["demo-approver"]+"\n", "pickup", "--login-id", "demo-approver", "--password-stdin")
	var ids []struct{ Label, Fingerprint, State string }
	if err := json.Unmarshal([]byte(inkanctl("", "list", "--json")), &ids); err != nil || len(ids) != 3 {
		t.Fatalf("list --json: %+v, %v", ids, err)
	}
	var fresh string
	for _, id := range ids {
		if id.Label == "demo-approver+1376" {
			fresh = filepath.Join(pc, "store", id.Fingerprint+".pem")
		}
	}
	leaf := readLeaf(t, fresh)
	if leaf.Subject.CommonName != "demo-approver+1376" || strings.Contains(leaf.Subject.String(), "2.5.4.97") || !strings.HasPrefix(leaf.CRLDistributionPoints[0], "http://"+httpAddr+"/") {
		t.Fatalf("the new leaf: subject %s, CDP %v", leaf.Subject, leaf.CRLDistributionPoints)
	}

	// openssl as a relying party. The old root certificate names no CRL
	// distribution point (only a new root could), so its CRL is given by file.
	rootCRL := filepath.Join(work, "root-crl.pem")
	if out, err := exec.Command("openssl", "crl", "-inform", "DER", "-in", filepath.Join(data, "root.crl"), "-out", rootCRL).CombinedOutput(); err != nil {
		t.Fatalf("openssl crl: %v\n%s", err, out)
	}
	verify, err := exec.Command("openssl", "verify", "-crl_check_all", "-crl_download", "-CRLfile", rootCRL, "-purpose", "sslclient",
		"-CAfile", filepath.Join(data, "root-ca.crt"), "-untrusted", filepath.Join(data, "issuing-ca.crt"), fresh).CombinedOutput()
	if err != nil || !strings.Contains(string(verify), ": OK") {
		t.Fatalf("openssl verify -crl_check_all -crl_download of the new leaf: %v\n%s", err, verify)
	}
	retired, _ := filepath.Glob(filepath.Join(data, "retired", "*.crt"))
	if len(retired) != 1 {
		t.Fatalf("retired issuing CAs: %v", retired)
	}
	oldLeaf := filepath.Join(pc, "store", "1dd6e1468caf73762d8e713f0aa596187e315e15f9506d3f990e89cffe7b04a3.pem")
	ocsp := func() string {
		out, err := exec.Command("openssl", "ocsp", "-issuer", retired[0], "-cert", oldLeaf, "-url", "http://"+httpAddr+"/ocsp",
			"-VAfile", retired[0]).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Response verify OK") {
			t.Fatalf("openssl ocsp for the old leaf: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := ocsp(); !strings.Contains(out, ".pem: good") {
		t.Fatalf("openssl ocsp for the old leaf before its revocation:\n%s", out)
	}
	mustServer(nil, "cert", "revoke", "demo-admin")
	if out := ocsp(); !strings.Contains(out, ".pem: revoked") {
		t.Fatalf("openssl ocsp for the old leaf after its revocation:\n%s", out)
	}
	rows, err := exec.Command("sqlite3", filepath.Join(data, "inkan.db"), "select count(*) from certificates where status = 'active'").CombinedOutput()
	if err != nil || strings.TrimSpace(string(rows)) != "1" {
		t.Fatalf("sqlite3 on the upgraded database: %v %s", err, rows)
	}
}

// treeHash hashes every file's path, mode and content under dir.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h.Write([]byte(path + info.Mode().String()))
		if d.Type().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func readLeaf(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			t.Fatal(errors.New(path + " holds no certificate"))
		}
		if block.Type == "CERTIFICATE" {
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return cert
		}
	}
}
