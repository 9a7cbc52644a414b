package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Columns agno 3.0 checks on a table it did not create (is_valid_table in
// libs/agno/agno/db/{postgres,sqlite}/utils.py): names only, in creation
// order. agno 2.x also wants legacyRunsColumn on the sessions table.
var (
	agnoSessionColumns = []string{
		"session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id",
		"session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary",
		"created_at", "updated_at",
	}
	agnoRunColumns = []string{
		"run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id",
		"parent_run_id", "status", "run_index", "run_data", "created_at", "updated_at",
	}
)

// legacyRunsColumn is agno 2.x's inline runs array on the sessions table,
// kept by agno 3.0's migration as a frozen legacy copy.
const legacyRunsColumn = "runs"

// ErrEarlierLayout means a table pair is still in the layout releases of
// this server before agno's used, which `agentos-sessions migrate`
// converts. The server refuses to serve it rather than serve nothing.
var ErrEarlierLayout = errors.New("tables in this server's earlier layout")

// ErrUnexpectedLayout means a table pair exists but lacks columns agno's
// layouts have.
var ErrUnexpectedLayout = errors.New("tables in no layout this server knows")

// layout is what one table pair looks like in its database at one moment:
// which tables and columns exist, and what agno's neighbouring tables hold.
type layout struct {
	// sessionCols and runCols map each column to its type ("jsonb",
	// "json", "text", …; SQLite: the declared type, upper case); nil when
	// the table does not exist.
	sessionCols map[string]string
	runCols     map[string]string
	// runsCascade: the runs table's session_id references the sessions
	// table with ON DELETE CASCADE, so deleting a session deletes its runs.
	runsCascade bool
	// runsOrderIndex: an index on the runs table leads with
	// (session_id, run_index), agno's own, which ordered reads use.
	runsOrderIndex bool
	// toolResults: agno 3.0's agno_tool_results exists in the schema;
	// payloads: its default payload table ("fs".agno_fs, or agno_fs on
	// SQLite) exists.
	toolResults bool
	payloads    bool
	// versions are the agno_schema_versions rows of the pair's tables.
	versions map[string]string
}

func (l *layout) sessionsExist() bool { return l.sessionCols != nil }
func (l *layout) runsTable() bool     { return l.runCols != nil }

// inlineRuns reports whether the sessions table has agno 2.x's runs
// column: the runs of a 2.x table, or a frozen legacy copy next to a runs
// table.
func (l *layout) inlineRuns() bool {
	_, ok := l.sessionCols[legacyRunsColumn]
	return ok
}

// describe names the layout for the start-up log.
func (l *layout) describe() string {
	switch {
	case l.inlineRuns() && l.runsTable():
		return "agno 3.0 with a legacy runs column (runs merged from both)"
	case l.runsTable():
		return "agno 3.0 (runs table)"
	case l.inlineRuns():
		return "agno 2.x (runs inline in the sessions table)"
	}
	return "agno 3.0 before its first run (no runs yet)"
}

// missing returns the columns of want that cols lacks, in want's order.
func missing(cols map[string]string, want []string) []string {
	var out []string
	for _, c := range want {
		if _, ok := cols[c]; !ok {
			out = append(out, c)
		}
	}
	return out
}

// probe reads the layout of pair from the catalog. It does not judge it:
// check does.
func (d *database) probe(ctx context.Context, q queryer, pair TablePair) (*layout, error) {
	if d.dialect == DialectPostgres {
		return d.probePostgres(ctx, q, pair)
	}
	return d.probeSQLite(ctx, q, pair)
}

// queryer is a connection pool, a connection or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (d *database) probePostgres(ctx context.Context, q queryer, pair TablePair) (*layout, error) {
	l := &layout{versions: map[string]string{}}
	rows, err := q.QueryContext(ctx, `SELECT c.relname, a.attname, format_type(a.atttypid, NULL)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = ANY($2) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
		d.schema, []string{pair.Sessions, pair.Runs})
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	if err := scanColumns(rows, pair, l); err != nil {
		return nil, err
	}
	sessions, runs := d.qualified(pair.Sessions), d.qualified(pair.Runs)
	if l.runsTable() && l.sessionsExist() {
		err := q.QueryRowContext(ctx, `SELECT
  EXISTS (SELECT 1 FROM pg_catalog.pg_constraint
          WHERE contype = 'f' AND conrelid = to_regclass($1) AND confrelid = to_regclass($2) AND confdeltype = 'c'),
  EXISTS (SELECT 1 FROM pg_catalog.pg_index i
          WHERE i.indrelid = to_regclass($1) AND i.indnatts >= 2
            AND (SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[0]) = 'session_id'
            AND (SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[1]) = 'run_index')`,
			runs, sessions).Scan(&l.runsCascade, &l.runsOrderIndex)
		if err != nil {
			return nil, fmt.Errorf("read runs constraints: %w", err)
		}
	}
	var versions sql.NullString
	err = q.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL, to_regclass('"fs".agno_fs') IS NOT NULL, to_regclass($2)::text`,
		d.qualified(toolResultsTable), d.qualified(versionsTable)).Scan(&l.toolResults, &l.payloads, &versions)
	if err != nil {
		return nil, fmt.Errorf("read neighbouring tables: %w", err)
	}
	if versions.Valid {
		if err := d.readVersions(ctx, q, pair, l); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func (d *database) probeSQLite(ctx context.Context, q queryer, pair TablePair) (*layout, error) {
	l := &layout{versions: map[string]string{}}
	rows, err := q.QueryContext(ctx, `SELECT m.name, c.name, upper(c.type)
FROM sqlite_master AS m, pragma_table_info(m.name) AS c
WHERE m.type = 'table' AND m.name IN (?1, ?2)`, pair.Sessions, pair.Runs)
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	if err := scanColumns(rows, pair, l); err != nil {
		return nil, err
	}
	if l.runsTable() && l.sessionsExist() {
		err := q.QueryRowContext(ctx, `SELECT
  EXISTS (SELECT 1 FROM pragma_foreign_key_list(?1)
          WHERE "table" = ?2 AND "from" = 'session_id' AND upper(on_delete) = 'CASCADE'),
  EXISTS (SELECT 1 FROM pragma_index_list(?1) AS il
          WHERE (SELECT name FROM pragma_index_info(il.name) WHERE seqno = 0) = 'session_id'
            AND (SELECT name FROM pragma_index_info(il.name) WHERE seqno = 1) = 'run_index')`,
			pair.Runs, pair.Sessions).Scan(&l.runsCascade, &l.runsOrderIndex)
		if err != nil {
			return nil, fmt.Errorf("read runs constraints: %w", err)
		}
	}
	var hasVersions bool
	err = q.QueryRowContext(ctx, `SELECT
  EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1),
  EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'agno_fs'),
  EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?2)`,
		toolResultsTable, versionsTable).Scan(&l.toolResults, &l.payloads, &hasVersions)
	if err != nil {
		return nil, fmt.Errorf("read neighbouring tables: %w", err)
	}
	if hasVersions {
		if err := d.readVersions(ctx, q, pair, l); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// scanColumns fills l's column maps from rows of (table, column, type).
func scanColumns(rows *sql.Rows, pair TablePair, l *layout) error {
	defer rows.Close()
	for rows.Next() {
		var table, column, typ string
		if err := rows.Scan(&table, &column, &typ); err != nil {
			return fmt.Errorf("read columns: %w", err)
		}
		target := &l.sessionCols
		if table == pair.Runs {
			target = &l.runCols
		}
		if *target == nil {
			*target = make(map[string]string)
		}
		(*target)[column] = strings.ToLower(typ)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read columns: %w", err)
	}
	return rows.Close()
}

func (d *database) readVersions(ctx context.Context, q queryer, pair TablePair, l *layout) error {
	p := d.placeholder
	rows, err := q.QueryContext(ctx, "SELECT table_name, version FROM "+d.qualified(versionsTable)+
		" WHERE table_name IN ("+p(1)+", "+p(2)+")", pair.Sessions, pair.Runs)
	if err != nil {
		return fmt.Errorf("read %s: %w", versionsTable, err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, version string
		if err := rows.Scan(&table, &version); err != nil {
			return fmt.Errorf("read %s: %w", versionsTable, err)
		}
		l.versions[table] = version
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", versionsTable, err)
	}
	return rows.Close()
}

// earlierLayoutAt returns where this server's earlier releases recorded a
// migration of the sessions table (a schema, or "main" on SQLite), or ""
// when none did. On PostgreSQL they created their tables unqualified, so
// in public or wherever the connection's search_path pointed.
func (d *database) earlierLayoutAt(ctx context.Context, sessions string) (string, error) {
	var where sql.NullString
	var err error
	if d.dialect == DialectPostgres {
		var schemas []string
		rows, qerr := d.sqlDB.QueryContext(ctx, `SELECT n.nspname FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = $1 AND c.relkind IN ('r', 'p') AND (n.nspname = 'public' OR n.nspname = ANY(current_schemas(false)))
ORDER BY n.nspname`, earlierMigrationsTable)
		if qerr != nil {
			return "", fmt.Errorf("look for %s: %w", earlierMigrationsTable, qerr)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return "", fmt.Errorf("look for %s: %w", earlierMigrationsTable, err)
			}
			schemas = append(schemas, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", fmt.Errorf("look for %s: %w", earlierMigrationsTable, err)
		}
		for _, s := range schemas {
			var found bool
			err = d.sqlDB.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+quoteIdent(s)+"."+quoteIdent(earlierMigrationsTable)+
				" WHERE sessions_table = $1)", sessions).Scan(&found)
			if err != nil {
				return "", fmt.Errorf("read %s.%s: %w", s, earlierMigrationsTable, err)
			}
			if found {
				return s, nil
			}
		}
		return "", nil
	}
	err = d.sqlDB.QueryRowContext(ctx, `SELECT CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)
  THEN 'check' END`, earlierMigrationsTable).Scan(&where)
	if err != nil || !where.Valid {
		return "", err
	}
	var found bool
	err = d.sqlDB.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+quoteIdent(earlierMigrationsTable)+
		" WHERE sessions_table = ?1)", sessions).Scan(&found)
	if err != nil || !found {
		return "", err
	}
	return "main", nil
}

// check judges a probed layout: nil when the server can serve it as it
// is, ErrEarlierLayout or ErrUnexpectedLayout (wrapped with what is wrong)
// otherwise. earlierAt is where earlierLayoutAt found this server's
// earlier migrations recorded, or "".
func (d *database) check(pair TablePair, l *layout, earlierAt string) error {
	where := d.describeTable(pair.Sessions)
	// The runs table of this server's earlier releases: keyed by
	// (session_id, run_id), without agno's run_type and run_index.
	earlierRuns := l.runsTable() && !slices.ContainsFunc([]string{"run_type", "run_index"}, func(c string) bool {
		_, ok := l.runCols[c]
		return ok
	})
	switch {
	case earlierRuns:
		return fmt.Errorf("%w: the runs table %s has no run_type or run_index column (it was created by an earlier release of this server); run `agentos-sessions migrate` with this configuration to convert it to agno's layout",
			ErrEarlierLayout, d.describeTable(pair.Runs))
	case earlierAt != "" && (!l.sessionsExist() || earlierAt != d.schemaOrMain()):
		return fmt.Errorf("%w: %s records sessions table %q of an earlier release of this server in %s, not in agno's layout at %s; run `agentos-sessions migrate` with this configuration to move and convert it",
			ErrEarlierLayout, earlierMigrationsTable, pair.Sessions, earlierAt, where)
	}
	if !l.sessionsExist() {
		if l.runsTable() {
			return fmt.Errorf("%w: the runs table %s exists but its sessions table %s does not", ErrUnexpectedLayout, d.describeTable(pair.Runs), where)
		}
		return nil // nothing there: created at start
	}
	if m := missing(l.sessionCols, agnoSessionColumns); len(m) > 0 {
		return fmt.Errorf("%w: the sessions table %s lacks the columns %s", ErrUnexpectedLayout, where, strings.Join(m, ", "))
	}
	if l.runsTable() {
		if m := missing(l.runCols, agnoRunColumns); len(m) > 0 {
			return fmt.Errorf("%w: the runs table %s lacks the columns %s", ErrUnexpectedLayout, d.describeTable(pair.Runs), strings.Join(m, ", "))
		}
	}
	return nil
}

// schemaOrMain is where the database's tables live, as earlierLayoutAt
// names places.
func (d *database) schemaOrMain() string {
	if d.dialect == DialectPostgres {
		return d.schema
	}
	return "main"
}

// describeTable names a table for a log line or an error: schema-qualified
// on PostgreSQL.
func (d *database) describeTable(name string) string {
	if d.dialect == DialectPostgres {
		return d.schema + "." + name
	}
	return name
}

// sortedVersions renders version rows for a log line.
func sortedVersions(v map[string]string) string {
	if len(v) == 0 {
		return "none"
	}
	keys := slices.Collect(maps.Keys(v))
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + v[k]
	}
	return strings.Join(parts, " ")
}
