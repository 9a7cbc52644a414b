package agnodb

import (
	"database/sql"
	"net/url"
	"strings"
	"testing"

	_ "github.com/glebarez/go-sqlite"  // the "sqlite" driver
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// OpenURL opens a database URL of internal/testdb (postgres://… or
// sqlite://path) with database/sql and nothing of the server in between,
// for a fixture to write into; SQLite connections enforce foreign keys, as
// agno 3.0's do. The database is closed when the test ends.
func OpenURL(t testing.TB, raw string) (*sql.DB, Dialect) {
	t.Helper()
	driver, dsn, d := "pgx", raw, Postgres
	if path, ok := strings.CutPrefix(raw, "sqlite://"); ok {
		driver, dsn, d = "sqlite", path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)", SQLite
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("agnodb: open %s: %v", raw, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, d
}

// CreateAt creates a fixture in the database at raw: on PostgreSQL in the
// schema on the URL's search_path (testdb's schema of the test), unless
// o.Schema names another.
func CreateAt(t testing.TB, raw string, l Layout, o Options) *DB {
	t.Helper()
	db, d := OpenURL(t, raw)
	if o.Schema == "" && d == Postgres {
		if u, err := url.Parse(raw); err == nil {
			o.Schema = u.Query().Get("search_path")
		}
	}
	return Create(t, db, d, l, o)
}
