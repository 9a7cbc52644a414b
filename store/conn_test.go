package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
)

func TestOpenWith_ConnectionSettings(t *testing.T) {
	ctx := context.Background()
	show := func(t *testing.T, c *Catalog, name string) string {
		t.Helper()
		var v string
		if err := c.databases[0].sqlDB.QueryRowContext(ctx, "SHOW "+name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	t.Run("Defaults", func(t *testing.T) {
		c, err := Open(ctx, []DatabaseConfig{pgConfig(testdb.PostgresURL(t))}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		if got := show(t, c, "application_name"); got != DefaultApplicationName {
			t.Errorf("application_name = %q, want %q", got, DefaultApplicationName)
		}
		if got := c.databases[0].sqlDB.Stats().MaxOpenConnections; got != DefaultMaxOpenConns {
			t.Errorf("max open connections = %d, want %d", got, DefaultMaxOpenConns)
		}
		if got := show(t, c, "jit"); got != "off" {
			t.Errorf("jit = %q, want off", got)
		}
	})
	t.Run("Settings", func(t *testing.T) {
		c, err := OpenWith(ctx, []DatabaseConfig{pgConfig(testdb.PostgresURL(t))},
			ConnSettings{ApplicationName: "blue", StatementTimeout: 1500 * time.Millisecond, MaxOpenConns: 3}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		if got := show(t, c, "application_name"); got != "blue" {
			t.Errorf("application_name = %q, want blue", got)
		}
		if got := show(t, c, "statement_timeout"); got != "1500ms" {
			t.Errorf("statement_timeout = %q, want 1500ms", got)
		}
		if got := c.databases[0].sqlDB.Stats().MaxOpenConnections; got != 3 {
			t.Errorf("max open connections = %d, want 3", got)
		}
	})
	t.Run("URLWins", func(t *testing.T) {
		u, _ := url.Parse(testdb.PostgresURL(t))
		q := u.Query()
		q.Set("application_name", "from-url")
		q.Set("statement_timeout", "7s")
		q.Set("jit", "on")
		u.RawQuery = q.Encode()
		c, err := OpenWith(ctx, []DatabaseConfig{pgConfig(u.String())}, ConnSettings{ApplicationName: "blue", StatementTimeout: time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.Close() }()
		if got := show(t, c, "application_name"); got != "from-url" {
			t.Errorf("application_name = %q, want from-url", got)
		}
		if got := show(t, c, "statement_timeout"); got != "7s" {
			t.Errorf("statement_timeout = %q, want 7s", got)
		}
		if got := show(t, c, "jit"); got != "on" {
			t.Errorf("jit = %q, want on", got)
		}
	})
}

// TestOpenWith_StatementTimeoutSparesMigrations starts a server while
// another holds the migration lock for longer than the statement timeout:
// the migration waits for it instead of failing.
func TestOpenWith_StatementTimeoutSparesMigrations(t *testing.T) {
	ctx := context.Background()
	dbURL := testdb.PostgresURL(t)
	holder, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = holder.Close(ctx) }()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	app := "agentos-test-" + hex.EncodeToString(b)

	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		t.Fatal(err)
	}
	opened := make(chan error, 1)
	go func() {
		c, err := OpenWith(ctx, []DatabaseConfig{pgConfig(dbURL)}, ConnSettings{ApplicationName: app, StatementTimeout: 20 * time.Millisecond}, nil)
		if err == nil {
			err = c.Close()
		}
		opened <- err
	}()
	// Hold the lock until the migration waits for it, then for ten times
	// the statement timeout more.
	deadline := time.Now().Add(time.Minute)
	for {
		var waiting int
		if err := holder.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event = 'advisory'`, app).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the migration never waited for the lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", migrationLockKey); err != nil {
		t.Fatal(err)
	}
	if err := <-opened; err != nil {
		t.Errorf("open while another migration held the lock: %v", err)
	}
}
