package agnodb

import (
	"database/sql"
	"testing"
)

// AgnoAccepts reports which agno versions' column checks (is_valid_table,
// reference §4) pass on a sessions table and its runs table, reading the
// catalog (information_schema on PostgreSQL, PRAGMA table_info on SQLite).
// Only column names count, as in agno.
//
//   - v2: the sessions table has all 15 of SessionColumns2x.
//   - v3: the sessions table has the 14 of SessionColumns3 and, when the
//     runs table exists, it has all 13 of RunColumns3. A missing runs table
//     is no failure: agno 3.0 creates it on the first stored run.
//
// A missing sessions table gives (false, false): there is nothing for
// either version to accept. schema is the PostgreSQL schema, empty for the
// connection's current one; runs empty means DefaultRunsFor(sessions).
func AgnoAccepts(t testing.TB, db *sql.DB, d Dialect, schema, sessions, runs string) (v2, v3 bool) {
	t.Helper()
	if runs == "" {
		runs = DefaultRunsFor(sessions)
	}
	sessionCols, sessionsExist := tableColumns(t, db, d, schema, sessions)
	if !sessionsExist {
		return false, false
	}
	v2 = hasAll(sessionCols, SessionColumns2x)
	v3 = hasAll(sessionCols, SessionColumns3)
	if runCols, runsExist := tableColumns(t, db, d, schema, runs); runsExist {
		v3 = v3 && hasAll(runCols, RunColumns3)
	}
	return v2, v3
}

// tableColumns returns a table's column names, and whether it exists.
func tableColumns(t testing.TB, db *sql.DB, d Dialect, schema, table string) (map[string]bool, bool) {
	t.Helper()
	var exists bool
	var rows *sql.Rows
	var err error
	switch d {
	case Postgres:
		if schema == "" {
			err = db.QueryRow("SELECT current_schema()").Scan(&schema)
			if err != nil {
				t.Fatalf("agnodb: current schema: %v", err)
			}
		}
		err = db.QueryRow("SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2)",
			schema, table).Scan(&exists)
		if err == nil && exists {
			rows, err = db.Query("SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
				schema, table)
		}
	case SQLite:
		err = db.QueryRow("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)", table).Scan(&exists)
		if err == nil && exists {
			rows, err = db.Query("SELECT name FROM pragma_table_info(?1)", table)
		}
	default:
		t.Fatalf("agnodb: unknown dialect %q", d)
	}
	if err != nil {
		t.Fatalf("agnodb: columns of %s: %v", table, err)
	}
	if !exists {
		return nil, false
	}
	defer rows.Close()
	cols := make(map[string]bool)
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatalf("agnodb: columns of %s: %v", table, err)
		}
		cols[name] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("agnodb: columns of %s: %v", table, err)
	}
	return cols, true
}

func hasAll(have map[string]bool, want []string) bool {
	for _, c := range want {
		if !have[c] {
			return false
		}
	}
	return true
}
