// Package agnodb builds, for tests, the session and run tables that agno
// (the Python agent framework) writes, exactly as agno builds them: the DDL
// of its 2.x and 3.0 layouts on PostgreSQL and SQLite, and rows in agno's
// own encodings, written with raw SQL. Its column lists are agno's, written
// out here from agno's schema dicts (libs/agno/agno/db/*/schemas.py) and
// the project's reference on agno's storage (shared/reference/
// agno-storage.md); it never borrows the server's store package, so a test
// built on it checks the server against agno and not against itself.
// TestColumnsMatchAgnoSource pins the lists to agno's source when a clone
// of agno is at hand (AGNO_REPO).
//
// # Layouts
//
//	layout                 sessions runs column   runs table
//	V2                     yes (15 columns)       no
//	V3                     no (14 columns)        yes (13 columns)
//	V3Migrated             yes, a frozen copy     yes
//	V3BeforeFirstRun       no                     not yet
//
// # Native encodings
//
// What agno writes in a JSON column, by dialect, layout and column:
//
//	PostgreSQL, every layout, every JSON column: the value as a jsonb
//	  (or json) document, its string values cleaned of the control
//	  characters agno's sanitize_postgres_strings removes.
//	SQLite, V2, every session JSON column: double-encoded (agno 2.x).
//	SQLite, 3.0 layouts, session JSON columns: plain JSON (agno 3.0.x
//	  after PR #9797; use Double for 3.0 before it).
//	SQLite, the legacy runs column on V2 and V3Migrated: double-encoded.
//	SQLite, run_data: plain JSON.
//	Any dialect, a nil value: JSON null, except the other components'
//	  *_data columns (team_data of an agent session, …), which agno's INSERT
//	  does not name and so stay SQL NULL.
//
// Text written to SQLite and to PostgreSQL json columns is Python's
// json.dumps output (see PyDumps), because that text is kept as it is.
//
// # Shared payload table
//
// agno 3.0 keeps offloaded tool-result payloads in "fs".agno_fs on
// PostgreSQL: one table for every schema of a database, so for the tests of
// one server it is shared. Create makes it IF NOT EXISTS under an advisory
// lock; rows are told apart by namespace, which by default is agno's own
// namespace_for(session_id, schema), unique per test because each test has
// its own schema. A fixture deletes the payload rows of its namespaces when
// its test ends, and Count("agno_fs") counts only those. On SQLite the
// table is agno_fs in the test's own file.
package agnodb

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Dialect is the database kind a fixture is built in.
type Dialect string

// The dialects agno's SQL adapters support that the server reads.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Layout is the shape of a sessions table and its runs table.
type Layout string

const (
	// V2 is agno 2.x's inline layout: a sessions table with all 15
	// columns, runs included, and no runs table. It is also what agno 3.0
	// works on before it stores its first run in a 2.x database.
	V2 Layout = "2.x"
	// V3 is a fresh agno 3.0 pair: sessions with 14 columns (no runs) and a
	// runs table with 13.
	V3 Layout = "3.0"
	// V3Migrated is a 2.x sessions table after agno's 3.0.0 migration:
	// 15 columns, runs kept as a frozen legacy copy, and the runs table.
	V3Migrated Layout = "3.0-migrated"
	// V3BeforeFirstRun is a 3.0 sessions table (14 columns) whose runs
	// table agno has not created yet.
	V3BeforeFirstRun Layout = "3.0-before-first-run"
)

// HasRunsColumn reports whether the layout's sessions table has runs.
func (l Layout) HasRunsColumn() bool { return l == V2 || l == V3Migrated }

// HasRunsTable reports whether the layout has a runs table.
func (l Layout) HasRunsTable() bool { return l == V3 || l == V3Migrated }

func (l Layout) valid() bool {
	switch l {
	case V2, V3, V3Migrated, V3BeforeFirstRun:
		return true
	}
	return false
}

// Table names agno uses that are not configurable, and the default ones.
const (
	// DefaultSessions is agno's default sessions table.
	DefaultSessions = "agno_sessions"
	// DefaultRuns is agno 3.0's runs table for agno_sessions.
	DefaultRuns = "agno_runs"
	// ToolResultsTable is agno 3.0's tool-result index.
	ToolResultsTable = "agno_tool_results"
	// PayloadsTable is agno 3.0's default payload table (AgentFS).
	PayloadsTable = "agno_fs"
	// VersionsTable holds agno's schema version per table.
	VersionsTable = "agno_schema_versions"
	// PayloadSchema is the PostgreSQL schema of agno's default payload
	// table, shared by every schema of a database.
	PayloadSchema = "fs"
)

// Options change what Create builds. The zero value builds agno's default
// tables in the connection's current schema.
type Options struct {
	// Schema is the PostgreSQL schema of every table but the payload table.
	// Empty means the connection's current_schema() (with testdb, the
	// test's own schema). A schema that does not exist is created and
	// dropped when the test ends; give each test its own. Ignored on SQLite.
	Schema string
	// Sessions is the sessions table; empty means agno_sessions.
	Sessions string
	// Runs is the runs table; empty means agno 3.0's rule: agno_runs for
	// agno_sessions, else <Sessions>_runs.
	Runs string
	// JSONType is "jsonb" (default) or "json", the type of the sessions
	// table's JSON columns on PostgreSQL: agno before 2.3.0 used json, and
	// its tables also had no primary key (set Legacy2_5 with it to get such
	// a table whole). The runs table's run_data is always jsonb, since
	// agno 3.0 creates it. On SQLite both give the JSON type agno always
	// used there; only the version rows differ (see VersionRows).
	JSONType string
	// NoCascade leaves out the runs table's foreign key to the sessions
	// table altogether.
	NoCascade bool
	// ToolResults also creates agno 3.0's agno_tool_results, in Schema.
	ToolResults bool
	// Payloads also creates agno 3.0's default payload table: "fs".agno_fs
	// on PostgreSQL, shared across tests (see the package comment), agno_fs
	// on SQLite.
	Payloads bool
	// VersionRows writes agno_schema_versions rows as agno does for the
	// tables it creates itself: the sessions table gets 2.5.6 on V2, 3.0.0
	// on 3.0 layouts, 2.3.0 with Legacy2_5 (agno 2.3.x–2.4.x), and none
	// with JSONType "json" (agno before 2.3.0 kept no versions); a runs
	// table and agno_tool_results get 3.0.0. With no row to write, the
	// versions table is not created. SetVersion changes a row afterwards,
	// e.g. to model agno 3.0 on an unmigrated 2.x table.
	VersionRows bool
	// Legacy2_5 builds the sessions table agno made before 2.5.0 on
	// PostgreSQL: UNIQUE constraint <Sessions>_uq_session_id instead of a
	// primary key. Only layouts with the runs column can be that old. On
	// SQLite agno always had the primary key, so only the version rows
	// differ.
	Legacy2_5 bool
}

// DB is a fixture: a pair of agno tables (and the extra tables Options
// asked for) in one database, and the handle to write rows into them.
type DB struct {
	Dialect Dialect
	Layout  Layout
	// Schema holds the tables on PostgreSQL; it is empty on SQLite.
	Schema string
	// Sessions and Runs are the table names. Runs is the name agno 3.0
	// would use even where the layout has no runs table.
	Sessions, Runs string
	// SQL is the database the fixture was created in.
	SQL *sql.DB

	opts Options

	mu         sync.Mutex
	namespaces map[string]bool // payload namespaces written, for PostgreSQL cleanup and Count
	toolCalls  map[[2]string]int
}

// Create makes the tables of layout l in db, as agno's _create_table would
// (names, declared types, nullability, keys, the foreign key ON DELETE
// CASCADE and every agno index name), and returns the fixture. It fails the
// test on error. db must stay open until the test ends.
func Create(t testing.TB, db *sql.DB, d Dialect, l Layout, o Options) *DB {
	t.Helper()
	if err := normalize(d, l, &o); err != nil {
		t.Fatalf("agnodb: %v", err)
	}
	f := &DB{
		Dialect: d, Layout: l, Sessions: o.Sessions, Runs: o.Runs, SQL: db, opts: o,
		namespaces: make(map[string]bool),
		toolCalls:  make(map[[2]string]int),
	}
	if d == Postgres {
		f.Schema = f.ensureSchema(t, o.Schema)
	}
	if err := f.execTx(f.ddl()); err != nil {
		t.Fatalf("agnodb: create %s tables: %v", l, err)
	}
	if o.Payloads && d == Postgres {
		f.createSharedPayloadTable(t)
	}
	if o.VersionRows {
		for _, v := range f.versionRows() {
			f.SetVersion(t, v[0], v[1])
		}
	}
	return f
}

// normalize checks o against d and l and fills in its defaults.
func normalize(d Dialect, l Layout, o *Options) error {
	if d != Postgres && d != SQLite {
		return fmt.Errorf("unknown dialect %q", d)
	}
	if !l.valid() {
		return fmt.Errorf("unknown layout %q", l)
	}
	if o.Sessions == "" {
		o.Sessions = DefaultSessions
	}
	if o.Runs == "" {
		o.Runs = DefaultRunsFor(o.Sessions)
	}
	if o.Runs == o.Sessions {
		return fmt.Errorf("runs table and sessions table are both %q", o.Sessions)
	}
	switch o.JSONType {
	case "":
		o.JSONType = "jsonb"
	case "json", "jsonb":
	default:
		return fmt.Errorf("JSONType %q: want json or jsonb", o.JSONType)
	}
	if !l.HasRunsColumn() && (o.Legacy2_5 || o.JSONType == "json") {
		return fmt.Errorf("layout %s has no runs column, so its sessions table is agno 3.0's: it never had json columns or the pre-2.5.0 unique constraint", l)
	}
	return nil
}

// DefaultRunsFor is agno 3.0's runs table name for a sessions table
// (libs/agno/agno/db/base.py): agno_runs for agno_sessions, else
// <sessions>_runs.
func DefaultRunsFor(sessions string) string {
	if sessions == DefaultSessions {
		return DefaultRuns
	}
	return sessions + "_runs"
}

// ensureSchema resolves the PostgreSQL schema and creates it if missing.
func (f *DB) ensureSchema(t testing.TB, schema string) string {
	t.Helper()
	if schema == "" {
		var current sql.NullString
		if err := f.SQL.QueryRow("SELECT current_schema()").Scan(&current); err != nil {
			t.Fatalf("agnodb: current schema: %v", err)
		}
		if !current.Valid {
			t.Fatalf("agnodb: the connection has no current schema; set Options.Schema")
		}
		return current.String
	}
	var exists bool
	if err := f.SQL.QueryRow("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		t.Fatalf("agnodb: look up schema %s: %v", schema, err)
	}
	if exists {
		return schema
	}
	if _, err := f.SQL.Exec("CREATE SCHEMA IF NOT EXISTS " + quote(schema)); err != nil {
		t.Fatalf("agnodb: create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := f.SQL.Exec("DROP SCHEMA IF EXISTS " + quote(schema) + " CASCADE"); err != nil {
			t.Errorf("agnodb: drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// createSharedPayloadTable makes "fs".agno_fs if no test has yet. The
// advisory lock serialises concurrent tests: two CREATE … IF NOT EXISTS
// racing each other can still fail on PostgreSQL's catalog unique indexes.
func (f *DB) createSharedPayloadTable(t testing.TB) {
	t.Helper()
	stmts := []string{
		"SELECT pg_advisory_xact_lock(hashtext('agnodb.fs.agno_fs'))",
		"CREATE SCHEMA IF NOT EXISTS " + quote(PayloadSchema),
		strings.Replace(f.createTable(f.payloadTable(), fsColumns(), []string{`PRIMARY KEY ("namespace", "path")`}, ""),
			"CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1),
	}
	if err := f.execTx(stmts); err != nil {
		t.Fatalf("agnodb: create %s: %v", f.payloadTable(), err)
	}
	t.Cleanup(func() {
		f.mu.Lock()
		ns := keys(f.namespaces)
		f.mu.Unlock()
		if len(ns) == 0 {
			return
		}
		q, args := inList("namespace", ns, f.ph)
		if _, err := f.SQL.Exec("DELETE FROM "+f.payloadTable()+" WHERE "+q, args...); err != nil {
			t.Errorf("agnodb: delete this test's rows of %s: %v", f.payloadTable(), err)
		}
	})
}

// versionRows are the (table, version) rows agno would have written.
func (f *DB) versionRows() [][2]string {
	var rows [][2]string
	switch {
	case f.opts.JSONType == "json":
	case f.opts.Legacy2_5:
		rows = append(rows, [2]string{f.Sessions, "2.3.0"})
	case f.Layout == V2:
		rows = append(rows, [2]string{f.Sessions, "2.5.6"})
	default:
		rows = append(rows, [2]string{f.Sessions, "3.0.0"})
	}
	if f.Layout.HasRunsTable() {
		rows = append(rows, [2]string{f.Runs, "3.0.0"})
	}
	if f.opts.ToolResults {
		rows = append(rows, [2]string{ToolResultsTable, "3.0.0"})
	}
	return rows
}

// SetVersion writes table's agno_schema_versions row as agno's
// upsert_schema_version does, creating the versions table if it is missing:
// a new row gets created_at = updated_at = now, an existing one keeps
// created_at. Timestamps are datetime.now().isoformat() strings, naive
// local time. table may be a logical name ("agno_sessions", "agno_runs").
func (f *DB) SetVersion(t testing.TB, table, version string) {
	t.Helper()
	_, name := f.resolve(table)
	now := pyISOFormat(time.Now())
	stmts := []string{
		strings.Replace(f.createTable(f.Qualified(VersionsTable), versionColumns(), []string{`PRIMARY KEY ("table_name")`}, ""),
			"CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1),
		strings.Replace(f.createIndex(VersionsTable, "created_at"), "CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1),
	}
	if err := f.execTx(stmts); err != nil {
		t.Fatalf("agnodb: create %s: %v", VersionsTable, err)
	}
	q := "INSERT INTO " + f.Qualified(VersionsTable) + ` ("table_name", "version", "created_at", "updated_at") VALUES (` +
		f.ph(1) + ", " + f.ph(2) + ", " + f.ph(3) + ", " + f.ph(3) + `) ON CONFLICT ("table_name") DO UPDATE SET "version" = excluded."version", "updated_at" = excluded."updated_at"`
	if _, err := f.SQL.Exec(q, name, version, now); err != nil {
		t.Fatalf("agnodb: version of %s: %v", name, err)
	}
}

// pyISOFormat is Python's datetime.isoformat() of a naive datetime:
// microseconds, and no fraction at all when they are zero.
func pyISOFormat(tm time.Time) string {
	s := tm.Format("2006-01-02T15:04:05")
	if us := tm.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	return s
}

// Qualified returns the quoted, schema-qualified name of one of the
// fixture's tables for raw SQL. table is a real name or a logical one
// ("agno_sessions" and "agno_runs" name the fixture's pair whatever they
// are called; "agno_fs" is "fs"."agno_fs" on PostgreSQL). Any other name is
// qualified with the fixture's schema.
func (f *DB) Qualified(table string) string {
	schema, name := f.resolve(table)
	if schema == "" {
		return quote(name)
	}
	return quote(schema) + "." + quote(name)
}

// resolve maps a real or logical table name to its schema and name.
func (f *DB) resolve(table string) (schema, name string) {
	switch {
	case table == f.Sessions:
		return f.Schema, f.Sessions
	case table == f.Runs:
		return f.Schema, f.Runs
	case table == DefaultSessions:
		return f.Schema, f.Sessions
	case table == DefaultRuns:
		return f.Schema, f.Runs
	case table == PayloadsTable && f.Dialect == Postgres:
		return PayloadSchema, PayloadsTable
	}
	return f.Schema, table
}

func (f *DB) payloadTable() string { return f.Qualified(PayloadsTable) }

// Count returns the number of rows in one of the fixture's tables, named
// as Qualified takes it. On PostgreSQL, "agno_fs" counts only the rows of
// the namespaces this fixture wrote, since the table is shared.
func (f *DB) Count(t testing.TB, table string) int64 {
	t.Helper()
	q := "SELECT count(*) FROM " + f.Qualified(table)
	var args []any
	if f.Dialect == Postgres && f.Qualified(table) == f.payloadTable() {
		f.mu.Lock()
		ns := keys(f.namespaces)
		f.mu.Unlock()
		if len(ns) == 0 {
			return 0
		}
		var where string
		where, args = inList("namespace", ns, f.ph)
		q += " WHERE " + where
	}
	var n int64
	if err := f.SQL.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("agnodb: count %s: %v", table, err)
	}
	return n
}

// execTx runs stmts in one transaction.
func (f *DB) execTx(stmts []string) (err error) {
	tx, err := f.SQL.Begin()
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback())
		}
	}()
	for _, s := range stmts {
		if _, err := tx.Exec(s); err != nil {
			return fmt.Errorf("%w\n%s", err, s)
		}
	}
	return tx.Commit()
}

// ph is the n-th (1-based) bind parameter in the fixture's dialect.
func (f *DB) ph(n int) string {
	if f.Dialect == Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return fmt.Sprintf("?%d", n)
}

// inList renders "col IN (…)" for values, with their arguments.
func inList(col string, values []string, ph func(int) string) (string, []any) {
	marks := make([]string, len(values))
	args := make([]any, len(values))
	for i, v := range values {
		marks[i] = ph(i + 1)
		args[i] = v
	}
	return quote(col) + " IN (" + strings.Join(marks, ", ") + ")", args
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// quote quotes an identifier for both dialects.
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
