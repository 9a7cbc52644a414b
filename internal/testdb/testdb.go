// Package testdb gives tests databases of their own: a fresh PostgreSQL
// schema on the test server, or a SQLite file in the test's temporary
// directory. Both are removed when the test ends. NewSchema makes the same
// fresh schema for the programs that need one (the soak and the bench).
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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
	u, drop, err := NewSchema(ctx, base, "t_")
	if errors.Is(err, ErrUnreachable) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testdb: %v", err)
		}
		msg := fmt.Sprintf("testdb: *** PostgreSQL tests SKIPPED: %v; %s, or set TEST_DATABASE_URL ***", err, startHint)
		// go test hides skip messages without -v: say it on stderr too, once.
		warnOnce.Do(func() { fmt.Fprintln(os.Stderr, msg) })
		t.Skip(msg)
	}
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := drop(ctx); err != nil {
			t.Errorf("testdb: %v", err)
		}
	})
	return u
}

// ErrUnreachable is returned by NewSchema when it cannot connect.
var ErrUnreachable = errors.New("PostgreSQL unreachable")

// NewSchema creates a schema with a random name that starts with prefix on
// the PostgreSQL server at base, and returns a URL whose connections use it
// as their search_path, and a function that drops it with everything in
// it. PostgresURL is its form for tests; programs (the soak and the bench)
// call it directly.
func NewSchema(ctx context.Context, base, prefix string) (schemaURL string, drop func(context.Context) error, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("database URL: %w", err)
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("%w at %s: %w", ErrUnreachable, u.Redacted(), err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if err := trigramInPublic(ctx, conn); err != nil {
		return "", nil, err
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("random schema name: %w", err)
	}
	name := prefix + hex.EncodeToString(b)
	schema := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	drop = func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		defer func() { _ = conn.Close(context.Background()) }()
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	q := u.Query()
	// pgx sends unknown URL parameters as run-time parameters at connection
	// start-up, so every pooled connection gets this search_path.
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// trigramInPublic installs pg_trgm in the public schema before any test
// store does. Otherwise the first store to install it would put it in its
// own schema (the first on its search_path), and dropping that schema at
// the end of its test would drop the extension and, with it, every other
// schema's trigram index, under the feet of tests still running, in this
// run or in another one on the same server. The advisory lock keeps two
// runs from installing it at once (which fails one of them).
func trigramInPublic(ctx context.Context, conn *pgx.Conn) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("install pg_trgm: %w", err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('agentos-sessions testdb pg_trgm'))"); err != nil {
		return fmt.Errorf("install pg_trgm: %w", err)
	}
	if _, err := tx.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"); err != nil {
		return fmt.Errorf("install pg_trgm: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("install pg_trgm: %w", err)
	}
	return nil
}

// SQLiteURL returns a sqlite:// URL to a new database file in the test's
// temporary directory.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
}

// Schema is the schema PostgresURL or NewSchema put on a URL's
// search_path, where the server under test keeps its tables; "" for any
// other URL (SQLite has no schemas).
func Schema(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return ""
	}
	return u.Query().Get("search_path")
}

// ServeArgs are the serve (or migrate, or seed) flags for a database of
// this package: its URL and, on PostgreSQL, the schema its tables live in.
func ServeArgs(raw string) []string {
	args := []string{"--database-url", raw}
	if schema := Schema(raw); schema != "" {
		args = append(args, "--db-schema", schema)
	}
	return args
}
