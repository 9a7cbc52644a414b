package testdb

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestPostgresURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var schema string
	t.Run("SearchPathIsTheNewSchema", func(t *testing.T) {
		raw := PostgresURL(t)
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("parse %q: %v", raw, err)
		}
		schema = u.Query().Get("search_path")
		if !strings.HasPrefix(schema, "t_") {
			t.Fatalf("search_path: got %q, want a t_… schema", schema)
		}
		conn, err := pgx.Connect(ctx, raw)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer func() { _ = conn.Close(ctx) }()
		if _, err := conn.Exec(ctx, "CREATE TABLE probe (id int)"); err != nil {
			t.Fatalf("create table: %v", err)
		}
		var current string
		var found bool
		if err := conn.QueryRow(ctx, "SELECT current_schema(), to_regclass(quote_ident($1) || '.probe') IS NOT NULL", schema).Scan(&current, &found); err != nil {
			t.Fatalf("find table: %v", err)
		}
		if current != schema || !found {
			t.Errorf("current schema, probe table in it: got %q, %t, want %q, true", current, found, schema)
		}
		if other := PostgresURL(t); other == raw {
			t.Errorf("second URL: got %q again, want a different schema", other)
		}
	})
	if schema == "" {
		return // skipped or failed above
	}
	// pg_trgm is in public before any test store installs it into the
	// first schema on its search_path, whose drop would take every other
	// schema's trigram index with it.
	t.Run("TrigramInPublic", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, PostgresURL(t))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer func() { _ = conn.Close(ctx) }()
		var in string
		if err := conn.QueryRow(ctx, `SELECT n.nspname FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`).Scan(&in); err != nil {
			t.Fatalf("find pg_trgm: %v", err)
		}
		if in != "public" {
			t.Errorf("pg_trgm in schema %q, want public", in)
		}
	})
	t.Run("SchemaDroppedAfterTest", func(t *testing.T) {
		conn, err := pgx.Connect(ctx, PostgresURL(t))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer func() { _ = conn.Close(ctx) }()
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil {
			t.Fatalf("look up schema: %v", err)
		}
		if n != 0 {
			t.Errorf("schema %s after its test ended: got %d, want 0", schema, n)
		}
	})
}

func TestSQLiteURL(t *testing.T) {
	t.Parallel()
	got := SQLiteURL(t)
	if !strings.HasPrefix(got, "sqlite:///") || !strings.HasSuffix(got, ".db") {
		t.Errorf("got %q, want sqlite:///<temp dir>/….db", got)
	}
}
