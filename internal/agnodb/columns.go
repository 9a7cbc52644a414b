package agnodb

// column is one column of an agno table as agno's schema dicts declare it
// (libs/agno/agno/db/{postgres,sqlite}/schemas.py), in creation order.
type column struct {
	name    string
	kind    kind
	notNull bool
	index   bool // agno's single-column index idx_<table>_<name>
}

// kind is a column's SQLAlchemy type, rendered per dialect by typeName.
type kind int

const (
	kindString  kind = iota // String: VARCHAR on both dialects
	kindJSON                // JSONB (or JSON before agno 2.3.0) on PostgreSQL, JSON on SQLite
	kindBigInt              // BigInteger: BIGINT
	kindText                // Text: TEXT
	kindPreview             // Text on PostgreSQL, String on SQLite (agno_tool_results.preview)
)

// sessionColumns is agno's sessions table: 2.x's 15 columns, or 3.0's 14
// without runs. runs sits between metadata and summary, where 2.x put it.
func sessionColumns(withRuns bool) []column {
	cols := []column{
		{name: "session_id", kind: kindString, notNull: true},
		{name: "session_type", kind: kindString, notNull: true, index: true},
		{name: "agent_id", kind: kindString},
		{name: "team_id", kind: kindString},
		{name: "workflow_id", kind: kindString},
		{name: "user_id", kind: kindString},
		{name: "session_data", kind: kindJSON},
		{name: "agent_data", kind: kindJSON},
		{name: "team_data", kind: kindJSON},
		{name: "workflow_data", kind: kindJSON},
		{name: "metadata", kind: kindJSON},
		{name: "runs", kind: kindJSON},
		{name: "summary", kind: kindJSON},
		{name: "created_at", kind: kindBigInt, notNull: true, index: true},
		{name: "updated_at", kind: kindBigInt},
	}
	if withRuns {
		return cols
	}
	out := make([]column, 0, len(cols)-1)
	for _, c := range cols {
		if c.name != "runs" {
			out = append(out, c)
		}
	}
	return out
}

// runColumns is agno 3.0's runs table (_get_run_table_schema). Its
// composite index (session_id, run_index) is added by runIndexes.
func runColumns() []column {
	return []column{
		{name: "run_id", kind: kindString, notNull: true},
		{name: "session_id", kind: kindString, notNull: true, index: true},
		{name: "run_type", kind: kindString, notNull: true, index: true},
		{name: "agent_id", kind: kindString, index: true},
		{name: "team_id", kind: kindString, index: true},
		{name: "workflow_id", kind: kindString, index: true},
		{name: "user_id", kind: kindString, index: true},
		{name: "parent_run_id", kind: kindString},
		{name: "status", kind: kindString, index: true},
		{name: "run_index", kind: kindBigInt},
		{name: "run_data", kind: kindJSON, notNull: true},
		{name: "created_at", kind: kindBigInt, notNull: true, index: true},
		{name: "updated_at", kind: kindBigInt},
	}
}

// toolResultColumns is agno 3.0's agno_tool_results (TOOL_RESULTS_TABLE_SCHEMA),
// with UNIQUE (namespace, path) and the index (session_id, created_at).
func toolResultColumns() []column {
	return []column{
		{name: "result_id", kind: kindString, notNull: true},
		{name: "namespace", kind: kindString, notNull: true},
		{name: "path", kind: kindString, notNull: true},
		{name: "session_id", kind: kindString, notNull: true},
		{name: "run_id", kind: kindString, notNull: true},
		{name: "tool_call_id", kind: kindString, notNull: true},
		{name: "tool_name", kind: kindString, notNull: true},
		{name: "args_hash", kind: kindString, notNull: true},
		{name: "content_type", kind: kindString, notNull: true},
		{name: "size_bytes", kind: kindBigInt, notNull: true},
		{name: "line_count", kind: kindBigInt, notNull: true},
		{name: "preview", kind: kindPreview, notNull: true},
		{name: "user_id", kind: kindString},
		{name: "created_at", kind: kindBigInt, notNull: true},
		{name: "expires_at", kind: kindBigInt, index: true},
	}
}

// versionColumns is agno_schema_versions (VERSIONS_TABLE_SCHEMA): the
// timestamps are ISO strings, not epochs.
func versionColumns() []column {
	return []column{
		{name: "table_name", kind: kindString, notNull: true},
		{name: "version", kind: kindString, notNull: true},
		{name: "created_at", kind: kindString, notNull: true, index: true},
		{name: "updated_at", kind: kindString},
	}
}

// fsColumns is agno 3.0's AgentFS table (DbFileSystem in
// libs/agno/agno/fs/db.py), PRIMARY KEY (namespace, path), no indexes.
func fsColumns() []column {
	return []column{
		{name: "namespace", kind: kindString, notNull: true},
		{name: "path", kind: kindString, notNull: true},
		{name: "content", kind: kindText, notNull: true},
		{name: "size_bytes", kind: kindBigInt, notNull: true},
		{name: "version", kind: kindBigInt, notNull: true},
		{name: "created_at", kind: kindBigInt, notNull: true},
		{name: "updated_at", kind: kindBigInt},
	}
}

func names(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// The column names agno's is_valid_table requires of a table it did not
// create (reference §4), in creation order. They are agno's lists, written
// out here from its schema dicts, not the server's.
var (
	// SessionColumns2x is what agno 2.x requires of a sessions table: all
	// 15 columns, runs included.
	SessionColumns2x = names(sessionColumns(true))
	// SessionColumns3 is what agno 3.0 requires of a sessions table: its 14
	// columns; an extra runs column is fine.
	SessionColumns3 = names(sessionColumns(false))
	// RunColumns3 is what agno 3.0 requires of a runs table: all 13.
	RunColumns3 = names(runColumns())
)
