package testdb

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TCPEnv names the variable holding the cluster's TCP listener, 127.0.0.1:PORT,
// which accepts TLS with a password only (scripts/with-postgres.sh).
const TCPEnv = "INKAN_TEST_POSTGRES_TCP"

// The files of the cluster's TLS certificate, in its data directory, where
// the first test that asks writes them; they stay for the cluster's life, so
// that concurrent test processes share one certificate.
const (
	tlsCAFile   = "inkan-test-ca.crt"
	tlsCertFile = "inkan-test-server.crt"
	tlsKeyFile  = "inkan-test-server.key"
)

// TLSDatabase is a fresh database reached over TCP with TLS and a password.
type TLSDatabase struct {
	// URL is postgres://ROLE@127.0.0.1:PORT/...?sslmode=verify-full&sslrootcert=CA
	// with the schema as its search_path; it carries no password.
	URL string
	// Role and Password are the database role that owns the schema and its password.
	Role, Password string
	// CAFile is the CA that signed the cluster's certificate (for 127.0.0.1
	// only, not for "localhost"), in a file of the test's.
	CAFile string
	// Addr is the cluster's 127.0.0.1:PORT.
	Addr string
}

// PostgresTLS makes a fresh schema, as [PostgresURL] does, owned by a new role
// with a random password, and returns how to reach it over the cluster's TCP
// listener with TLS verified against a CA the test made. The first call on a
// cluster makes that CA and the cluster's certificate, installs them (ALTER
// SYSTEM, pg_reload_conf) and turns TLS on. It skips, loudly, without
// INKAN_TEST_POSTGRES and INKAN_TEST_POSTGRES_TCP.
func PostgresTLS(t testing.TB) TLSDatabase {
	t.Helper()
	addr := os.Getenv(TCPEnv)
	if addr == "" || os.Getenv(PostgresEnv) == "" {
		t.Skipf("SKIPPED ON POSTGRESQL: %s or %s is unset; scripts/with-postgres.sh (make test) starts a private cluster with a TCP listener and sets them", PostgresEnv, TCPEnv)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, os.Getenv(PostgresEnv))
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	defer admin.Close(ctx)
	caFile := filepath.Join(t.TempDir(), "db-ca.crt")
	if err := os.WriteFile(caFile, clusterTLS(t, admin), 0o600); err != nil {
		t.Fatal(err)
	}

	b := make([]byte, 12)
	rand.Read(b)
	role, pw := "inkan_tls_"+hex.EncodeToString(b[:6]), hex.EncodeToString(b[6:])+"-Pw"
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", role, pw)); err != nil {
		t.Fatalf("create role %s: %v", role, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, os.Getenv(PostgresEnv))
		if err != nil {
			t.Errorf("drop role %s: %v", role, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP ROLE "+role); err != nil {
			t.Errorf("drop role %s: %v", role, err)
		}
	})
	// Registered after the role's cleanup, so the schema is dropped first.
	schemaURL, err := url.Parse(PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	schema := schemaURL.Query().Get("search_path")
	shared, err := pgx.Connect(ctx, WithDatabase(t, os.Getenv(PostgresEnv), sharedDB))
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close(ctx)
	if _, err := shared.Exec(ctx, fmt.Sprintf("ALTER SCHEMA %s OWNER TO %s", schema, role)); err != nil {
		t.Fatalf("give schema %s to %s: %v", schema, role, err)
	}

	q := url.Values{}
	q.Set("sslmode", "verify-full")
	q.Set("sslrootcert", caFile)
	q.Set("search_path", schema)
	q.Set("synchronous_commit", "off")
	u := url.URL{Scheme: "postgres", User: url.User(role), Host: addr, Path: "/" + sharedDB, RawQuery: q.Encode()}
	return TLSDatabase{URL: u.String(), Role: role, Password: pw, CAFile: caFile, Addr: addr}
}

// clusterTLS returns the CA (PEM) of the cluster's TLS certificate, making both and
// turning TLS on the first time, under an advisory lock against concurrent
// test processes. The files are written by the server itself (COPY TO, which
// writes them as the cluster's user, 0600), so that it can read its key
// whoever runs the tests.
func clusterTLS(t testing.TB, admin *pgx.Conn) []byte {
	t.Helper()
	ctx := context.Background()
	const lockKey = 0x696e6b74 // "inkt"
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", lockKey)

	var caPEM *string
	if err := admin.QueryRow(ctx, "SELECT pg_read_file($1::text, 0, 1048576, true)", tlsCAFile).Scan(&caPEM); err != nil {
		t.Fatalf("read the cluster's TLS CA: %v", err)
	}
	if caPEM == nil {
		var dataDir string
		if err := admin.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir); err != nil {
			t.Fatal(err)
		}
		files := newClusterTLS(t)
		for name, data := range files {
			path := dataDir + "/" + name
			if err := copyOut(ctx, admin, path, data); err != nil {
				t.Fatalf("write %s into the cluster's data directory: %v", name, err)
			}
			// COPY writes 0644; the server takes only a key of its own user's alone.
			if err := os.Chmod(path, 0o600); err != nil {
				t.Skipf("SKIPPED ON POSTGRESQL: the test cannot restrict %s, which the cluster wrote (it runs as another user than the cluster, and not as root): %v", path, err)
			}
		}
		for _, stmt := range []string{
			fmt.Sprintf("ALTER SYSTEM SET ssl_cert_file = '%s'", tlsCertFile),
			fmt.Sprintf("ALTER SYSTEM SET ssl_key_file = '%s'", tlsKeyFile),
			"ALTER SYSTEM SET ssl = on",
			"SELECT pg_reload_conf()",
		} {
			if _, err := admin.Exec(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		waitForTLS(t)
		return files[tlsCAFile]
	}
	waitForTLS(t)
	return []byte(*caPEM)
}

// newClusterTLS makes a CA and a certificate for 127.0.0.1 that it signs,
// and returns the files to write (the CA's key is thrown away).
func newClusterTLS(t testing.TB) map[string][]byte {
	t.Helper()
	now := time.Now()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Inkan test database CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(7 * 24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		tlsCAFile:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tlsCertFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		tlsKeyFile:  pemKey(t, key),
	}
}

func pemKey(t testing.TB, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

// copyOut has the server write data, a PEM text, to its file path: one line a row (PEM has no character COPY's text format escapes).
func copyOut(ctx context.Context, conn *pgx.Conn, name string, data []byte) error {
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.ContainsAny(l, `'\`+"\t\r") {
			return fmt.Errorf("line %q cannot be copied", l)
		}
		lines = append(lines, "'"+l+"'")
	}
	_, err := conn.Exec(ctx, fmt.Sprintf("COPY (SELECT unnest(ARRAY[%s])) TO '%s'", strings.Join(lines, ","), name))
	return err
}

// waitForTLS waits until the TCP listener answers TLS (a reload is not
// instant, and a failed one leaves TLS off while SHOW ssl says on): a
// handshake that gets as far as the password check is enough.
func waitForTLS(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	dsn := fmt.Sprintf("postgres://inkan@%s/postgres?sslmode=require&connect_timeout=5", os.Getenv(TCPEnv))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			conn.Close(ctx)
			return
		}
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == "28P01" { // TLS done, then the password refused: TLS is on
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster does not answer TLS on %s within 20 s of pg_reload_conf (its server.log says why): %v", os.Getenv(TCPEnv), err)
		}
	}
}
