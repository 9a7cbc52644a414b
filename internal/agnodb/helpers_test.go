package agnodb

import (
	"database/sql"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"

	_ "github.com/glebarez/go-sqlite"  // the "sqlite" database/sql driver
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
)

// openPostgres opens the test's own PostgreSQL schema and returns it with
// its name (the URL's search_path).
func openPostgres(t testing.TB) (*sql.DB, string) {
	t.Helper()
	raw := testdb.PostgresURL(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	db, err := sql.Open("pgx", raw)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, u.Query().Get("search_path")
}

// openSQLite opens a new SQLite file with foreign keys enforced, as agno
// 3.0's SqliteDb does on every connection.
func openSQLite(t testing.TB) *sql.DB {
	t.Helper()
	path := strings.TrimPrefix(testdb.SQLiteURL(t), "sqlite://")
	db, err := sql.Open("sqlite", path+"?_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// open opens a fresh database of dialect d; schema is empty on SQLite.
func open(t testing.TB, d Dialect) (db *sql.DB, schema string) {
	t.Helper()
	if d == Postgres {
		return openPostgres(t)
	}
	return openSQLite(t), ""
}

// forEachDialect runs test on PostgreSQL and on SQLite.
func forEachDialect(t *testing.T, test func(t *testing.T, d Dialect)) {
	for _, d := range []Dialect{Postgres, SQLite} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			test(t, d)
		})
	}
}

var layouts = []Layout{V2, V3, V3Migrated, V3BeforeFirstRun}

// forEachLayout runs test on every dialect and layout.
func forEachLayout(t *testing.T, test func(t *testing.T, d Dialect, l Layout)) {
	forEachDialect(t, func(t *testing.T, d Dialect) {
		for _, l := range layouts {
			t.Run(string(l), func(t *testing.T) {
				t.Parallel()
				test(t, d, l)
			})
		}
	})
}

// fatalRecorder is a testing.TB whose Fatalf ends only the goroutine
// running the code under test, so a test can check that it failed.
type fatalRecorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *fatalRecorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// fails runs fn with a recorder and returns the failure message it
// reported, or "" if it returned normally.
func fails(t testing.TB, fn func(tb testing.TB)) string {
	t.Helper()
	r := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	<-done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// colInfo is a column as the catalog shows it.
type colInfo struct {
	Name, Type string
	NotNull    bool
}

// catalogColumns reads a table's columns in order: PostgreSQL's data_type
// from information_schema, SQLite's declared type from table_info.
func catalogColumns(t testing.TB, db *sql.DB, d Dialect, schema, table string) []colInfo {
	t.Helper()
	var rows *sql.Rows
	var err error
	if d == Postgres {
		rows, err = db.Query(`SELECT column_name, data_type, is_nullable = 'NO' FROM information_schema.columns
			WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`, schema, table)
	} else {
		rows, err = db.Query(`SELECT name, type, "notnull" = 1 FROM pragma_table_info(?1) ORDER BY cid`, table)
	}
	if err != nil {
		t.Fatalf("columns of %s: %v", table, err)
	}
	defer rows.Close()
	var out []colInfo
	for rows.Next() {
		var c colInfo
		if err := rows.Scan(&c.Name, &c.Type, &c.NotNull); err != nil {
			t.Fatalf("columns of %s: %v", table, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("columns of %s: %v", table, err)
	}
	return out
}

// catalogIndexes maps each index on a table to its columns, comma
// separated in index order. On PostgreSQL it includes the indexes behind
// the primary key and unique constraints (<table>_pkey, …); on SQLite it
// leaves out SQLite's own sqlite_autoindex_* ones (see catalogUniques).
func catalogIndexes(t testing.TB, db *sql.DB, d Dialect, schema, table string) map[string]string {
	t.Helper()
	var rows *sql.Rows
	var err error
	if d == Postgres {
		rows, err = db.Query(`SELECT i.relname, string_agg(a.attname, ',' ORDER BY k.ord)
			FROM pg_index x
			JOIN pg_class i ON i.oid = x.indexrelid
			JOIN pg_class c ON c.oid = x.indrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace
			CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
			WHERE n.nspname = $1 AND c.relname = $2
			GROUP BY i.relname`, schema, table)
	} else {
		rows, err = db.Query(`SELECT il.name, (SELECT group_concat(name, ',') FROM
				(SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno))
			FROM pragma_index_list(?1) il WHERE il.name NOT LIKE 'sqlite_autoindex_%'`, table)
	}
	if err != nil {
		t.Fatalf("indexes of %s: %v", table, err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var name, cols string
		if err := rows.Scan(&name, &cols); err != nil {
			t.Fatalf("indexes of %s: %v", table, err)
		}
		out[name] = cols
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("indexes of %s: %v", table, err)
	}
	return out
}

// sqliteKeys returns a SQLite table's primary key columns and the column
// lists of its UNIQUE constraints.
func sqliteKeys(t testing.TB, db *sql.DB, table string) (pk string, uniques []string) {
	t.Helper()
	if err := db.QueryRow(`SELECT coalesce(group_concat(name, ','), '') FROM
		(SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk)`, table).Scan(&pk); err != nil {
		t.Fatalf("primary key of %s: %v", table, err)
	}
	rows, err := db.Query(`SELECT (SELECT group_concat(name, ',') FROM
			(SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno))
		FROM pragma_index_list(?1) il WHERE il.origin = 'u' ORDER BY il.name`, table)
	if err != nil {
		t.Fatalf("unique constraints of %s: %v", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var cols string
		if err := rows.Scan(&cols); err != nil {
			t.Fatalf("unique constraints of %s: %v", table, err)
		}
		uniques = append(uniques, cols)
	}
	return pk, uniques
}

// pgConstraints maps each constraint of a PostgreSQL table to its type
// (p, u, f) and definition, with every table named with its schema.
func pgConstraints(t testing.TB, db *sql.DB, schema, table string) map[string]string {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatalf("constraints of %s: %v", table, err)
	}
	defer func() { _ = tx.Rollback() }()
	// pg_get_constraintdef leaves out the schemas on the search_path.
	if _, err := tx.Exec("SET LOCAL search_path TO pg_catalog"); err != nil {
		t.Fatalf("constraints of %s: %v", table, err)
	}
	rows, err := tx.Query(`SELECT c.conname, c.contype::text || ' ' || pg_get_constraintdef(c.oid)
		FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
		WHERE n.nspname = $1 AND r.relname = $2 AND c.contype IN ('p', 'u', 'f')`, schema, table)
	if err != nil {
		t.Fatalf("constraints of %s: %v", table, err)
	}
	defer rows.Close()
	out := make(map[string]string)
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatalf("constraints of %s: %v", table, err)
		}
		out[name] = def
	}
	return out
}

// tableExists reports whether a table exists.
func tableExists(t testing.TB, db *sql.DB, d Dialect, schema, table string) bool {
	t.Helper()
	var ok bool
	var err error
	if d == Postgres {
		err = db.QueryRow("SELECT to_regclass(quote_ident($1) || '.' || quote_ident($2)) IS NOT NULL", schema, table).Scan(&ok)
	} else {
		err = db.QueryRow("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)", table).Scan(&ok)
	}
	if err != nil {
		t.Fatalf("look up table %s: %v", table, err)
	}
	return ok
}

func ptr[T any](v T) *T { return &v }
