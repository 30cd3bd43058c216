//go:build linux && cgo

package e2e

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// softHSMModule is where Debian's softhsm2 puts its PKCS#11 module.
const softHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// TestIssuingKeyInSoftHSM: init --kms makes the issuing CA key in a SoftHSM2
// token, serve signs through it, a PC picks up a certificate, and openssl
// finds the leaf and the OCSP answers signed by the issuing CA whose key is
// in the token, with no issuing key file in DATA. ca rollover --kms makes the
// next issuing key in the token, and both keys sign from there. A wrong PIN
// stops serve.
func TestIssuingKeyInSoftHSM(t *testing.T) {
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Fatal("softhsm2-util is missing: apt-get install softhsm2 (scripts/install-deps.sh does)")
	}
	if _, err := os.Stat(softHSMModule); err != nil {
		t.Fatalf("the SoftHSM2 module: %v (apt-get install softhsm2)", err)
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is missing (scripts/install-deps.sh installs it)")
	}
	bin := binaries(t)
	hsmDir := t.TempDir()
	conf := filepath.Join(hsmDir, "softhsm2.conf")
	write(t, conf, "directories.tokendir = "+filepath.Join(hsmDir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n")
	if err := os.Mkdir(filepath.Join(hsmDir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	if out, err := exec.Command(util, "--init-token", "--free", "--label", "inkan-ca", "--so-pin", "87654321", "--pin", "246810").CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	pinFile := filepath.Join(hsmDir, "pin")
	write(t, pinFile, "246810\n")
	env := append(os.Environ(), "INKAN_CA_PASSPHRASE=e2e hsm passphrase", "SOFTHSM2_CONF="+conf)
	srv := filepath.Join(bin, "inkan-server")
	data, pc := filepath.Join(t.TempDir(), "data"), t.TempDir()
	cmd := func(want int, stdin string, args ...string) (string, string) {
		t.Helper()
		c := exec.Command(srv, append([]string{"--data", data}, args...)...)
		c.Env, c.Stdin = env, strings.NewReader(stdin)
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		err := c.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != want {
			t.Fatalf("inkan-server %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
		}
		return stdout.String(), stderr.String()
	}

	httpAddr, addr := freeAddr(t), freeAddr(t)
	uri := "pkcs11:token=inkan-ca;object=issuing-ca?pin-source=file:" + pinFile
	// An init that fails after making its key in the token takes the key out
	// again, so the same name is free for the next init.
	if _, stderr := cmd(1, "", "init", "--bank-code", "1376", "--bank-name", "インカン信用金庫", "--revocation-url", "https://pki.bank.example.jp",
		"--policy-oid", "1.2.392.200000.1.1", "--kms", uri, "--pkcs11-module", softHSMModule); !strings.Contains(stderr, "removed from the token again") {
		t.Fatalf("a failed init --kms: %s", stderr)
	}
	cmd(0, "", "init", "--demo", "--bank-code", "1376", "--bank-name", "インカン信用金庫", "--host", "127.0.0.1",
		"--revocation-url", "http://"+httpAddr, "--http-addr", httpAddr, "--kms", uri, "--pkcs11-module", softHSMModule)
	// The same name again is refused: the token keeps one issuing key of a name.
	if _, stderr := cmd(1, "", "--data", t.TempDir(), "init", "--demo", "--bank-code", "1376", "--bank-name", "x", "--kms", uri, "--pkcs11-module", softHSMModule); !strings.Contains(stderr, "already holds a key") {
		t.Fatalf("a second init with the same object: %s", stderr)
	}
	// No file in DATA holds an issuing CA's key: the only private keys are the
	// (encrypted) root key and the TLS key.
	noIssuingKeyFile := func() {
		t.Helper()
		filepath.Walk(data, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, _ := os.ReadFile(path)
			rel, _ := filepath.Rel(data, path)
			if bytes.Contains(b, []byte("PRIVATE KEY-----")) && rel != "offline/root-ca.key" && rel != "tls.pem" {
				t.Errorf("%s holds a private key", rel)
			}
			return nil
		})
		if _, err := os.Stat(filepath.Join(data, "issuing-ca.key")); !os.IsNotExist(err) {
			t.Fatalf("issuing-ca.key in DATA: %v", err)
		}
	}
	noIssuingKeyFile()

	out, _ := cmd(0, "", "--json", "contract", "add", "株式会社インカン商事")
	contract := strings.Split(strings.Split(out, `"id": "`)[1], `"`)[0]
	cmd(0, password("kanri")+"\n", "user", "add", "kanri", "--contract", contract, "--role", "admin", "--password-stdin")
	cmd(0, "", "cert", "issue", "kanri")
	cmd(0, "", "agent-config", "--url", "https://"+addr, "--out", filepath.Join(pc, "bank.json"))

	startServe := func() (stop func()) {
		serve := exec.Command(srv, "--data", data, "serve", "--addr", addr)
		serve.Env = env
		var serveLog bytes.Buffer
		serve.Stdout, serve.Stderr = &serveLog, &serveLog
		if err := serve.Start(); err != nil {
			t.Fatal(err)
		}
		stopped := false
		stop = func() {
			if !stopped {
				stopped = true
				serve.Process.Signal(os.Interrupt)
				if err := serve.Wait(); err != nil {
					t.Errorf("serve: %v\n%s", err, serveLog.String())
				}
			}
		}
		t.Cleanup(stop)
		waitListen(t, addr, &serveLog)
		waitListen(t, httpAddr, &serveLog)
		return stop
	}
	pickup := func(loginID string) string {
		t.Helper()
		ctl := exec.Command(filepath.Join(bin, "inkanctl"), "--config", filepath.Join(pc, "bank.json"), "--store", "dir:"+filepath.Join(pc, loginID),
			"--state-dir", filepath.Join(pc, loginID), "--lang", "en", "pickup", "--login-id", loginID, "--password-stdin")
		ctl.Stdin = strings.NewReader(password(loginID) + "\n")
		if out, err := ctl.CombinedOutput(); err != nil {
			t.Fatalf("inkanctl pickup %s: %v\n%s", loginID, err, out)
		}
		leaf := filepath.Join(pc, loginID+".pem")
		write(t, leaf, string(pickedUpLeaf(t, filepath.Join(pc, loginID))))
		return leaf
	}
	ossl := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	root, issuing := filepath.Join(data, "root-ca.crt"), filepath.Join(data, "issuing-ca.crt")
	// checkSignedBy: leaf verifies up to the root through issuer, and an OCSP
	// answer for it verifies with issuer as the only responder openssl trusts
	// (-VAfile): only the token's key of that issuing CA can have signed them.
	checkSignedBy := func(leaf, issuer string) {
		t.Helper()
		if out := ossl("verify", "-CAfile", root, "-untrusted", issuer, leaf); !strings.Contains(out, ": OK") {
			t.Fatalf("openssl verify: %s", out)
		}
		if out := ossl("verify", "-partial_chain", "-CAfile", issuer, leaf); !strings.Contains(out, ": OK") {
			t.Fatalf("openssl verify against the issuing CA alone: %s", out)
		}
		ocspURL := strings.TrimSpace(ossl("x509", "-in", leaf, "-noout", "-ocsp_uri"))
		if !strings.HasPrefix(ocspURL, "http://"+httpAddr) {
			t.Fatalf("the leaf's OCSP URL %q is not on the revocation listener %s", ocspURL, httpAddr)
		}
		if out := ossl("ocsp", "-issuer", issuer, "-cert", leaf, "-url", ocspURL, "-VAfile", issuer, "-resp_text"); !strings.Contains(out, "Response verify OK") || !strings.Contains(out, leaf+": good") {
			t.Fatalf("openssl ocsp: %s", out)
		}
	}

	stop := startServe()
	first := pickup("kanri")
	checkSignedBy(first, issuing)
	stop()

	// ca rollover --kms: the new issuing key is made in the token too; the old
	// one, retired, keeps signing OCSP for its certificates from the token.
	firstIssuing, err := os.ReadFile(issuing)
	if err != nil {
		t.Fatal(err)
	}
	// A rollover that fails (here: not the root key) leaves no new key behind.
	if _, stderr := cmd(1, "", "ca", "rollover", "--root-key", pinFile, "--kms", "pkcs11:token=inkan-ca;object=issuing-ca-2?pin-source=file:"+pinFile, "--pkcs11-module", softHSMModule); !strings.Contains(stderr, "removed from the token again") {
		t.Fatalf("a failed rollover --kms: %s", stderr)
	}
	cmd(0, "", "ca", "rollover", "--kms", "pkcs11:token=inkan-ca;object=issuing-ca-2?pin-source=file:"+pinFile, "--pkcs11-module", softHSMModule)
	retiredURIs, _ := filepath.Glob(filepath.Join(data, "retired", "*.uri"))
	if len(retiredURIs) != 1 {
		t.Fatalf("retired/*.uri after the rollover: %v", retiredURIs)
	}
	retiredCert := strings.TrimSuffix(retiredURIs[0], ".uri") + ".crt"
	if b, err := os.ReadFile(retiredCert); err != nil || !bytes.Equal(b, firstIssuing) {
		t.Fatalf("%s is not the first issuing CA: %v", retiredCert, err)
	}
	if b, _ := os.ReadFile(filepath.Join(data, "config.json")); !strings.Contains(string(b), "object=issuing-ca-2") {
		t.Fatalf("config.json's ca_key does not name the new key:\n%s", b)
	}
	noIssuingKeyFile()
	cmd(0, password("ippan")+"\n", "user", "add", "ippan", "--contract", contract, "--role", "general", "--password-stdin")
	cmd(0, "", "cert", "issue", "ippan")
	stop = startServe()
	checkSignedBy(pickup("ippan"), issuing)
	checkSignedBy(first, retiredCert)
	stop()

	// A wrong PIN: serve refuses to start and says so, in Japanese first.
	write(t, pinFile, "135790\n")
	_, stderr := cmd(1, "", "serve", "--addr", freeAddr(t), "--http-addr", freeAddr(t))
	ja, en := strings.Index(stderr, "PIN が違います"), strings.Index(stderr, "the PIN of token \"inkan-ca\" is wrong")
	if ja < 0 || en < ja {
		t.Fatalf("serve with a wrong PIN: %s", stderr)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// waitListen waits until something listens on addr.
func waitListen(t *testing.T, addr string, log *bytes.Buffer) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s:\n%s", addr, log.String())
		}
	}
}

// pickedUpLeaf is the PEM of the one end-entity certificate in the dir store.
func pickedUpLeaf(t *testing.T, store string) []byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(store, "*.pem"))
	if err != nil || len(files) != 1 {
		t.Fatalf("the store holds %d identities (%v), want 1", len(files), err)
	}
	rest, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			t.Fatalf("%s holds no end-entity certificate", files[0])
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil && !c.IsCA {
			return pem.EncodeToMemory(block)
		}
	}
}
