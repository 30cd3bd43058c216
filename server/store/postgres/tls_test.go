package postgres_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkan-dev/inkan/server/store/postgres"
	"github.com/inkan-dev/inkan/server/store/testdb"
)

// TestOpenOverVerifiedTLSWithAPasswordFile connects to the private cluster's
// TCP listener with sslmode=verify-full against a CA the test made and the
// password from a file (then PGPASSWORD, then a PGPASSFILE), and checks in
// pg_stat_ssl that the store's sessions are TLS. Every way of getting it wrong is refused with an error that says
// what to do and never shows the password.
func TestOpenOverVerifiedTLSWithAPasswordFile(t *testing.T) {
	d := testdb.PostgresTLS(t)
	ctx := context.Background()
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "db-password")
	if err := os.WriteFile(pwFile, []byte(d.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	db, err := postgres.Open(ctx, d.URL, postgres.Options{PasswordFile: pwFile})
	if err != nil {
		t.Fatalf("open over TLS: %v", err)
	}
	var ssl bool
	var version string
	if err := db.Pool().QueryRow(ctx, `SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&ssl, &version); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if !ssl || !strings.HasPrefix(version, "TLSv1.") {
		t.Fatalf("the store's session: ssl=%v version=%q, want TLS", ssl, version)
	}
	if desc, ok := postgres.Security(d.URL); !ok || !strings.Contains(desc, "verify-full") {
		t.Errorf("Security(%s) = %q, %v", postgres.Redact(d.URL), desc, ok)
	}

	// PGPASSWORD does as well as the file.
	t.Setenv("PGPASSWORD", d.Password)
	db, err = postgres.Open(ctx, d.URL, postgres.Options{})
	if err != nil {
		t.Fatalf("open with PGPASSWORD: %v", err)
	}
	db.Close()
	os.Unsetenv("PGPASSWORD")
	// So does a PGPASSFILE (libpq's .pgpass format).
	host, port, _ := strings.Cut(d.Addr, ":")
	pgpass := filepath.Join(dir, "pgpass")
	if err := os.WriteFile(pgpass, []byte(host+":"+port+":*:"+d.Role+":"+d.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PGPASSFILE", pgpass)
	db, err = postgres.Open(ctx, d.URL, postgres.Options{})
	if err != nil {
		t.Fatalf("open with PGPASSFILE: %v", err)
	}
	db.Close()

	with := func(key, value string) string {
		u, _ := url.Parse(d.URL)
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	otherCA := write("other-ca.crt", otherCAPEM(t), 0o600)
	localhost := strings.Replace(d.URL, "@127.0.0.1:", "@localhost:", 1)
	for _, c := range []struct {
		name, url, pwFile string
		want              []string
	}{
		{"wrong password", d.URL, write("wrong", "not-the-password\n", 0o600), []string{"パスワードを受け付けませんでした", "refused the password of \"" + d.Role + "\""}},
		{"no password", d.URL, "", []string{"パスワードがありません", "none was given", "--db-password-file"}},
		{"no TLS", with("sslmode", "disable"), pwFile, []string{"TLS なしの接続を拒否しました", "sslmode=verify-full&sslrootcert=FILE"}},
		{"another CA", with("sslrootcert", otherCA), pwFile, []string{"証明書を検証できません", "not signed by the CA of sslrootcert"}},
		{"another host name", localhost, pwFile, []string{"ホスト名が一致しません", `not for the host "localhost"`}},
		{"missing CA file", with("sslrootcert", filepath.Join(dir, "missing.crt")), pwFile, []string{"URL を読めません", "unable to read CA file"}},
		{"password file others can read", d.URL, write("open", d.Password+"\n", 0o644), []string{"他の利用者も読めます", "chmod 600"}},
		{"empty password file", d.URL, write("empty", "\n", 0o600), []string{"が空です", "is empty"}},
		{"missing password file", d.URL, filepath.Join(dir, "missing"), []string{"パスワードファイルを読めません", "no such file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("PGPASSFILE", filepath.Join(dir, "no-pgpass"))
			db, err := postgres.Open(ctx, c.url, postgres.Options{PasswordFile: c.pwFile})
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			t.Log(err)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), d.Password) {
				t.Errorf("error shows the password:\n%v", err)
			}
		})
	}
}

// otherCAPEM is a CA certificate that signed nothing the cluster has.
func otherCAPEM(t *testing.T) string {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Some other CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// TestSecurityNamesUnprotectedConnections: the server's log says how the
// database connection is protected, and warns when records would cross a
// network without a verified certificate.
func TestSecurityNamesUnprotectedConnections(t *testing.T) {
	for _, c := range []struct {
		url  string
		ok   bool
		want string
	}{
		{"postgres:///inkan?host=/run/postgresql", true, "unix socket"},
		{"postgres://inkan@db.bank.example/inkan?sslmode=verify-full", true, "verify-full"},
		{"postgres://inkan@db.bank.example/inkan?sslmode=verify-ca", true, "verify-ca"},
		{"postgres://inkan@db.bank.example/inkan?sslmode=require", false, "not checked"},
		{"postgres://inkan@db.bank.example/inkan", false, "only if the database offers it"},
		{"postgres://inkan@db.bank.example/inkan?sslmode=disable", false, "no TLS"},
		{"postgres://inkan@127.0.0.1/inkan?sslmode=disable", true, "no TLS"},
	} {
		desc, ok := postgres.Security(c.url)
		if ok != c.ok || !strings.Contains(desc, c.want) {
			t.Errorf("Security(%s) = %q, %v; want %q, %v", c.url, desc, ok, c.want, c.ok)
		}
	}
}
