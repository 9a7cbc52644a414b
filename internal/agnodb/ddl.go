package agnodb

import (
	"strings"
)

// ddl is every statement Create runs in one transaction: the tables of the
// layout and the extra tables asked for, each followed by its indexes, as
// SQLAlchemy's Table.create emits them for agno's _create_table
// (libs/agno/agno/db/{postgres,sqlite}/{postgres,sqlite}.py). Constraints
// are unnamed where agno leaves them unnamed, so PostgreSQL names them
// <table>_pkey and <table>_session_id_fkey as it would for agno.
func (f *DB) ddl() []string {
	var stmts []string

	sessionKey := `PRIMARY KEY ("session_id")`
	if f.opts.Legacy2_5 && f.Dialect == Postgres {
		sessionKey = "CONSTRAINT " + quote(f.Sessions+"_uq_session_id") + ` UNIQUE ("session_id")`
	}
	cols := sessionColumns(f.Layout.HasRunsColumn())
	stmts = append(stmts, f.createTable(f.Qualified(f.Sessions), cols, []string{sessionKey}, f.opts.JSONType))
	stmts = append(stmts, f.indexes(f.Sessions, cols)...)

	if f.Layout.HasRunsTable() {
		constraints := []string{`PRIMARY KEY ("run_id")`}
		if !f.opts.NoCascade {
			constraints = append(constraints,
				`FOREIGN KEY ("session_id") REFERENCES `+f.Qualified(f.Sessions)+` ("session_id") ON DELETE CASCADE`)
		}
		cols := runColumns()
		stmts = append(stmts, f.createTable(f.Qualified(f.Runs), cols, constraints, "jsonb"))
		stmts = append(stmts, f.indexes(f.Runs, cols)...)
		stmts = append(stmts, f.createIndex(f.Runs, "session_id", "run_index"))
	}

	if f.opts.ToolResults {
		cols := toolResultColumns()
		stmts = append(stmts, f.createTable(f.Qualified(ToolResultsTable), cols, []string{
			`PRIMARY KEY ("result_id")`,
			"CONSTRAINT " + quote(ToolResultsTable+"_uq_tool_results_namespace_path") + ` UNIQUE ("namespace", "path")`,
		}, ""))
		stmts = append(stmts, f.indexes(ToolResultsTable, cols)...)
		stmts = append(stmts, f.createIndex(ToolResultsTable, "session_id", "created_at"))
	}

	if f.opts.Payloads && f.Dialect == SQLite {
		stmts = append(stmts, f.createTable(f.payloadTable(), fsColumns(), []string{`PRIMARY KEY ("namespace", "path")`}, ""))
	}
	return stmts
}

// createTable renders CREATE TABLE for cols and table constraints.
// jsonType is the PostgreSQL type of JSON columns ("jsonb" or "json").
func (f *DB) createTable(qualified string, cols []column, constraints []string, jsonType string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + qualified + " (\n")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("\t" + quote(c.name) + " " + f.typeName(c.kind, jsonType))
		if c.notNull {
			b.WriteString(" NOT NULL")
		}
	}
	for _, c := range constraints {
		b.WriteString(",\n\t" + c)
	}
	b.WriteString("\n)")
	return b.String()
}

// typeName is the declared type SQLAlchemy renders for a column kind.
func (f *DB) typeName(k kind, jsonType string) string {
	switch k {
	case kindJSON:
		if f.Dialect == SQLite {
			return "JSON"
		}
		return strings.ToUpper(jsonType)
	case kindBigInt:
		return "BIGINT"
	case kindText:
		return "TEXT"
	case kindPreview:
		if f.Dialect == SQLite {
			return "VARCHAR"
		}
		return "TEXT"
	}
	return "VARCHAR"
}

// indexes are agno's single-column indexes idx_<table>_<column>.
func (f *DB) indexes(table string, cols []column) []string {
	var out []string
	for _, c := range cols {
		if c.index {
			out = append(out, f.createIndex(table, c.name))
		}
	}
	return out
}

// createIndex renders agno's index idx_<table>_<col>[_<col>…] on table.
// agno names a composite index by its columns, not by the name its schema
// dict gives it. On PostgreSQL the index lives in the table's schema; on
// SQLite its name is global to the file.
func (f *DB) createIndex(table string, cols ...string) string {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quote(c)
	}
	return "CREATE INDEX " + quote("idx_"+table+"_"+strings.Join(cols, "_")) +
		" ON " + f.Qualified(table) + " (" + strings.Join(quoted, ", ") + ")"
}
