// Package testdb gives tests databases of their own: a fresh PostgreSQL
// schema on the test server, or a SQLite file in the test's temporary
// directory. Both are removed when the test ends.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgresURL is the server tests use when TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// warnOnce makes the skip notice appear once per test binary.
var warnOnce sync.Once

// startHint tells a developer how to bring the local server up.
const startHint = "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

// PostgresURL creates a schema with a random name on the server at
// TEST_DATABASE_URL (DefaultPostgresURL when unset) and returns a URL whose
// connections use it as their search_path, so unqualified table names land
// there and concurrent test runs on the same server do not meet. The schema
// is dropped with everything in it when the test ends.
//
// When the server cannot be reached the test fails if CI=true and is
// skipped, loudly, otherwise.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testdb: PostgreSQL unreachable at %s: %v", redacted(base), err)
		}
		msg := fmt.Sprintf("testdb: *** PostgreSQL tests SKIPPED: server unreachable at %s (%v); %s, or set TEST_DATABASE_URL ***",
			redacted(base), err, startHint)
		// go test hides skip messages without -v: say it on stderr too, once.
		warnOnce.Do(func() { fmt.Fprintln(os.Stderr, msg) })
		t.Skip(msg)
	}
	defer conn.Close(context.Background())

	schema := "t_" + randomHex(t, 8)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("testdb: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("testdb: drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("testdb: drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("testdb: TEST_DATABASE_URL is not a URL: %v", err)
	}
	q := u.Query()
	// pgx sends unknown URL parameters as run-time parameters at connection
	// start-up, so every pooled connection gets this search_path.
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// SQLiteURL returns a sqlite:// URL to a new database file in the test's
// temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testdb: random schema name: %v", err)
	}
	return hex.EncodeToString(b)
}

func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "TEST_DATABASE_URL"
	}
	return u.Redacted()
}
