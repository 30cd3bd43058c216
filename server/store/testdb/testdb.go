// Package testdb gives tests fresh databases of either kind: a SQLite file in
// a temporary directory, or a new database in the PostgreSQL cluster that
// INKAN_TEST_POSTGRES names (scripts/test.sh starts one). Tests that need
// PostgreSQL skip, saying so, when the variable is unset; `make test` always
// sets it.
//
// INKAN_TEST_DB=postgres makes [Open] and [URL] hand out PostgreSQL
// databases, so that the life-cycle and server rule tests run on PostgreSQL too.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/inkan-dev/inkan/server/store"
	"github.com/inkan-dev/inkan/server/store/postgres"
	"github.com/inkan-dev/inkan/server/store/sqlite"
)

// PostgresEnv names the variable holding the URL of a PostgreSQL cluster's
// maintenance database, as a role allowed to create databases.
const PostgresEnv = "INKAN_TEST_POSTGRES"

// EngineEnv names the variable choosing the engine of [Open] and [URL]:
// "postgres", or unset (or "sqlite") for SQLite.
const EngineEnv = "INKAN_TEST_DB"

// SQLite makes a fresh SQLite database and returns how to open handles on it.
func SQLite(t *testing.T) func(t *testing.T) store.Store {
	path := filepath.Join(t.TempDir(), "inkan.db")
	return func(t *testing.T) store.Store {
		t.Helper()
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// Postgres makes a fresh PostgreSQL database and returns how to open handles on it.
func Postgres(t *testing.T) func(t *testing.T) store.Store {
	u := PostgresURL(t)
	return func(t *testing.T) store.Store {
		t.Helper()
		db, err := postgres.Open(context.Background(), u, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// PostgresURL creates an empty schema, dropped when the test ends, in the
// database inkan_tests of the cluster INKAN_TEST_POSTGRES names, and returns
// a URL whose search_path is that schema: to the store, a database of its
// own. (A schema takes milliseconds to make; a database a second or two.)
// It skips the test, loudly, when the variable is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresEnv)
	if admin == "" {
		t.Skipf("SKIPPED ON POSTGRESQL: %s is unset; scripts/test.sh (make test) starts a private cluster and sets it", PostgresEnv)
	}
	ctx := context.Background()
	db := WithDatabase(t, admin, sharedDB)
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		createShared(t, admin)
		conn, err = pgx.Connect(ctx, db)
	}
	if err != nil {
		t.Fatalf("connect to %s: %v", postgres.Redact(db), err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "inkan_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, db)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Tests need no durability across a crash of the cluster; commits then
	// do not wait for the disk (the benchmarks keep real commits).
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// sharedDB is the database of the cluster that holds the tests' schemas.
const sharedDB = "inkan_tests"

// createShared creates sharedDB, unless a concurrent test did first.
func createShared(t testing.TB, admin string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s=%s: %v", PostgresEnv, postgres.Redact(admin), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+sharedDB); err != nil {
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || (pg.Code != "42P04" && pg.Code != "23505") {
			t.Fatalf("create database %s: %v", sharedDB, err)
		}
	}
}

// WithDatabase returns the URL admin pointing at database name instead.
func WithDatabase(t testing.TB, admin, name string) string {
	t.Helper()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	if q.Has("dbname") {
		q.Set("dbname", name)
		u.RawQuery = q.Encode()
	} else {
		u.Path = "/" + name
	}
	return u.String()
}

// OnPostgres reports whether INKAN_TEST_DB asks for PostgreSQL.
func OnPostgres() bool { return os.Getenv(EngineEnv) == "postgres" }

// Open returns a fresh store of the engine INKAN_TEST_DB chooses, closed when the test ends.
func Open(t *testing.T) store.Store {
	t.Helper()
	if OnPostgres() {
		return Postgres(t)(t)
	}
	return SQLite(t)(t)
}

// URL returns "" for SQLite (the server's default database in its data
// directory), or the URL of a fresh PostgreSQL database when INKAN_TEST_DB asks for one.
func URL(t testing.TB) string {
	t.Helper()
	if OnPostgres() {
		return PostgresURL(t)
	}
	return ""
}
