package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
)

// Versions written into agno_schema_versions for the tables this server
// creates. The sessions table keeps agno 2.x's runs column, so it is at
// agno 2.x's newest migration: a later agno 3.0 migration then still copies
// what agno 2.x writes into that column. The runs table is agno 3.0's.
const (
	sessionsTableVersion = "2.5.6"
	runsTableVersion     = "3.0.0"
)

// migrationLockKey is the PostgreSQL advisory lock held while tables are
// created, so that replicas starting together create them once.
const migrationLockKey int64 = 0x6167656e746f73 // "agentos"

// createLockTimeout bounds how long creating a table waits for a lock held
// by someone else (agno, or a long transaction), so that start-up fails
// with a clear error instead of hanging.
const createLockTimeout = 10 * time.Second

// listIndex is an index this server adds to a sessions table for its
// lists: an equality filter (session_type, user_id, or one of the
// component ids) followed by ORDER BY <sort key>, session_id in either
// direction reads the page straight off the index and stops at LIMIT +
// OFFSET rows instead of sorting every matching session.
type listIndex struct {
	suffix  string // the name is indexName(sessions table, suffix)
	columns string
}

// listIndexes are created with a table this server creates, and
// recommended (never created by serve) on a table agno created. Sorting by
// "updated_at" orders by COALESCE(updated_at, created_at), spelled exactly
// as here, so that both databases match the query to the index.
var listIndexes = []listIndex{
	{"session_type_created_at", "session_type, created_at, session_id"},
	{"user_id_created_at", "user_id, created_at, session_id"},
	{"created_at_session_id", "created_at, session_id"},
	{"updated_or_created_at", "(COALESCE(updated_at, created_at)), session_id"},
	{"session_type_updated_or_created_at", "session_type, (COALESCE(updated_at, created_at)), session_id"},
	{"agent_id", "agent_id"},
	{"team_id", "team_id"},
	{"workflow_id", "workflow_id"},
}

// agnoIndexName is the name agno gives an index (_create_table in
// libs/agno/agno/db/{postgres,sqlite}): idx_<table>_<col>[_<col>…]. A name
// longer than PostgreSQL keeps is shortened with a hash, as indexName does,
// so that two long names cannot collide.
func agnoIndexName(table string, columns ...string) string {
	name := "idx_" + table + "_" + strings.Join(columns, "_")
	if len(name) <= maxIdentLen {
		return name
	}
	return "idx_" + indexName(table, strings.Join(columns, "_"))
}

// ddl is one statement of the fresh layout and the object it creates.
type ddl struct {
	sql        string
	objectType string // "table" or "index"; "" for statements that create nothing of their own
	objectName string
	table      string
}

// freshLayout lists the statements that create a table pair as agno 3.0
// creates it (names, declared types, keys, the cascading foreign key and
// every index agno 3.0 creates), plus agno 2.x's runs column on the
// sessions table, so that agno 2.x's column check passes too, plus this
// server's list indexes.
func (d *database) freshLayout(pair TablePair) []ddl {
	str, json, bigint := d.columnTypes()
	out := []ddl{d.createTable(pair.Sessions, strings.Join([]string{
		"    session_id " + str + " NOT NULL PRIMARY KEY",
		"    session_type " + str + " NOT NULL",
		"    agent_id " + str,
		"    team_id " + str,
		"    workflow_id " + str,
		"    user_id " + str,
		"    session_data " + json,
		"    agent_data " + json,
		"    team_data " + json,
		"    workflow_data " + json,
		"    metadata " + json,
		"    " + legacyRunsColumn + " " + json,
		"    summary " + json,
		"    created_at " + bigint + " NOT NULL",
		"    updated_at " + bigint,
	}, ",\n"))}
	for _, col := range []string{"session_type", "created_at"} {
		out = append(out, d.createIndex(pair.Sessions, agnoIndexName(pair.Sessions, col), col))
	}
	for _, ix := range listIndexes {
		out = append(out, d.createIndex(pair.Sessions, indexName(pair.Sessions, ix.suffix), ix.columns))
	}
	return append(out, d.runsLayout(pair)...)
}

// runsLayout lists the statements that create agno 3.0's runs table with
// its foreign key and indexes.
func (d *database) runsLayout(pair TablePair) []ddl {
	str, json, bigint := d.columnTypes()
	out := []ddl{d.createTable(pair.Runs, strings.Join([]string{
		"    run_id " + str + " NOT NULL PRIMARY KEY",
		"    session_id " + str + " NOT NULL REFERENCES " + d.qualified(pair.Sessions) + " (session_id) ON DELETE CASCADE",
		"    run_type " + str + " NOT NULL",
		"    agent_id " + str,
		"    team_id " + str,
		"    workflow_id " + str,
		"    user_id " + str,
		"    parent_run_id " + str,
		"    status " + str,
		"    run_index " + bigint,
		"    run_data " + json + " NOT NULL",
		"    created_at " + bigint + " NOT NULL",
		"    updated_at " + bigint,
	}, ",\n"))}
	for _, col := range []string{"session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id", "status", "created_at"} {
		out = append(out, d.createIndex(pair.Runs, agnoIndexName(pair.Runs, col), col))
	}
	return append(out, d.createIndex(pair.Runs, agnoIndexName(pair.Runs, "session_id", "run_index"), "session_id, run_index"))
}

// columnTypes are the declared types agno gives text, JSON and integer
// columns on the dialect.
func (d *database) columnTypes() (str, json, bigint string) {
	if d.dialect == DialectPostgres {
		return "varchar", "jsonb", "bigint"
	}
	return "VARCHAR", "JSON", "BIGINT"
}

func (d *database) createTable(name, body string) ddl {
	return ddl{sql: "CREATE TABLE " + d.qualified(name) + " (\n" + body + "\n)", objectType: "table", objectName: name, table: name}
}

func (d *database) createIndex(table, name, columns string) ddl {
	return ddl{sql: "CREATE INDEX " + quoteIdent(name) + " ON " + d.qualified(table) + " (" + columns + ")",
		objectType: "index", objectName: name, table: table}
}

// bookkeeping creates, when missing, agno's version table and this
// server's own record of what it created.
func (d *database) bookkeeping() []string {
	str := "VARCHAR"
	if d.dialect == DialectPostgres {
		str = "varchar"
	}
	return []string{
		"CREATE TABLE IF NOT EXISTS " + d.qualified(versionsTable) + " (\n" +
			"    table_name " + str + " NOT NULL PRIMARY KEY,\n" +
			"    version " + str + " NOT NULL,\n" +
			"    created_at " + str + " NOT NULL,\n" +
			"    updated_at " + str + "\n)",
		"CREATE INDEX IF NOT EXISTS " + quoteIdent(agnoIndexName(versionsTable, "created_at")) + " ON " + d.qualified(versionsTable) + " (created_at)",
		"CREATE TABLE IF NOT EXISTS " + d.qualified(objectsTable) + " (\n" +
			"    object_type " + str + " NOT NULL,\n" +
			"    object_name " + str + " NOT NULL,\n" +
			"    table_name " + str + " NOT NULL,\n" +
			"    created_at " + str + " NOT NULL,\n" +
			"    PRIMARY KEY (object_type, object_name)\n)",
	}
}

// isoNow is a timestamp as agno writes them into agno_schema_versions:
// datetime.now().isoformat(), naive local time.
func isoNow() string { return time.Now().Format("2006-01-02T15:04:05.000000") }

// errConcurrentCreate means someone else (agno, or another replica without
// this server's lock) created a table of the pair while this server was
// creating it.
var errConcurrentCreate = errors.New("tables created concurrently")

// createPair creates pair in the fresh layout, in one transaction: under
// the migration advisory lock and a lock_timeout on PostgreSQL, under
// SQLite's write lock otherwise. It first probes again inside the
// transaction and creates nothing when the tables appeared meanwhile. It
// returns errConcurrentCreate when a table was created by someone who does
// not take the lock; the caller probes again.
func (d *database) createPair(ctx context.Context, pair TablePair) (created bool, err error) {
	tx, err := d.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if d.dialect == DialectPostgres {
		for _, q := range []string{
			"SET LOCAL statement_timeout = 0",
			fmt.Sprintf("SET LOCAL lock_timeout = %d", createLockTimeout.Milliseconds()),
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return false, err
			}
		}
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
			return false, fmt.Errorf("lock: %w", err)
		}
	}
	l, err := d.probe(ctx, tx, pair)
	if err != nil {
		return false, err
	}
	if l.sessionsExist() || l.runsTable() {
		return false, tx.Rollback()
	}
	if d.dialect == DialectPostgres {
		if _, err := tx.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+quoteIdent(d.schema)); err != nil {
			return false, concurrentCreate(fmt.Errorf("create schema %s: %w", d.schema, err))
		}
	}
	for _, q := range d.bookkeeping() {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return false, concurrentCreate(err)
		}
	}
	now := isoNow()
	p := d.placeholder
	record := "INSERT INTO " + d.qualified(objectsTable) + " (object_type, object_name, table_name, created_at) VALUES (" +
		p(1) + ", " + p(2) + ", " + p(3) + ", " + p(4) + ")"
	for _, stmt := range d.freshLayout(pair) {
		if _, err := tx.ExecContext(ctx, stmt.sql); err != nil {
			return false, concurrentCreate(fmt.Errorf("create %s %s: %w", stmt.objectType, stmt.objectName, err))
		}
		if _, err := tx.ExecContext(ctx, record, stmt.objectType, stmt.objectName, stmt.table, now); err != nil {
			return false, fmt.Errorf("record %s: %w", stmt.objectName, err)
		}
	}
	if d.dialect == DialectPostgres {
		if err := d.createTrigramIndex(ctx, tx, pair, record, now); err != nil {
			return false, err
		}
	}
	// agno's own upsert: a new row has created_at = updated_at; an existing
	// one (a table agno dropped and this server recreated) gets the new
	// version and updated_at only.
	version := "INSERT INTO " + d.qualified(versionsTable) + " (table_name, version, created_at, updated_at) VALUES (" +
		p(1) + ", " + p(2) + ", " + p(3) + ", " + p(3) + ") ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at"
	for _, v := range [][2]string{{pair.Sessions, sessionsTableVersion}, {pair.Runs, runsTableVersion}} {
		if _, err := tx.ExecContext(ctx, version, v[0], v[1], now); err != nil {
			return false, fmt.Errorf("write %s: %w", versionsTable, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, concurrentCreate(err)
	}
	return true, nil
}

// createTrigramIndex adds the session_name filter's trigram index to a
// sessions table being created, in the creating transaction, installing
// pg_trgm first. A savepoint keeps the creation going without the index
// when pg_trgm cannot be installed (installTrigram logs why).
func (d *database) createTrigramIndex(ctx context.Context, tx *sql.Tx, pair TablePair, record, now string) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT trigram"); err != nil {
		return err
	}
	trgm, err := d.installTrigram(ctx, tx)
	if err != nil || trgm == "" {
		_, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT trigram")
		return errors.Join(err, rerr)
	}
	l, err := d.probe(ctx, tx, pair)
	if err != nil {
		return err
	}
	name := indexName(pair.Sessions, trigramSuffix)
	if _, err := tx.ExecContext(ctx, d.trigramIndexSQL(pair, l, trgm, "")); err != nil {
		return fmt.Errorf("create index %s: %w", name, err)
	}
	_, err = tx.ExecContext(ctx, record, "index", name, pair.Sessions, now)
	return err
}

// createRunsTable creates agno 3.0's runs table next to a sessions table
// that has none yet, exactly as agno 3.0 does on the first run it stores
// (with its version row, 3.0.0), in one transaction under the table
// creation lock and a lock_timeout. A runs table created meanwhile, by
// another replica or by agno itself, is not an error.
func (t *sessionsTable) createRunsTable(ctx context.Context) (err error) {
	d := t.db
	tx, err := d.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
		if errors.Is(err, errConcurrentCreate) {
			err = nil
		}
	}()
	if d.dialect == DialectPostgres {
		for _, q := range []string{
			fmt.Sprintf("SET LOCAL lock_timeout = %d", createLockTimeout.Milliseconds()),
			"SELECT pg_advisory_xact_lock(" + fmt.Sprint(migrationLockKey) + ")",
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
	}
	l, err := d.probe(ctx, tx, t.names)
	if err != nil {
		return err
	}
	if l.runsTable() || !l.sessionsExist() {
		return tx.Rollback()
	}
	for _, stmt := range d.runsLayout(t.names) {
		if _, err := tx.ExecContext(ctx, stmt.sql); err != nil {
			return concurrentCreate(fmt.Errorf("create %s %s: %w", stmt.objectType, stmt.objectName, err))
		}
	}
	if _, err := tx.ExecContext(ctx, d.bookkeeping()[0]); err != nil {
		return concurrentCreate(err)
	}
	if _, err := tx.ExecContext(ctx, d.bookkeeping()[1]); err != nil {
		return concurrentCreate(err)
	}
	p := d.placeholder
	now := isoNow()
	if _, err := tx.ExecContext(ctx, "INSERT INTO "+d.qualified(versionsTable)+" (table_name, version, created_at, updated_at) VALUES ("+
		p(1)+", "+p(2)+", "+p(3)+", "+p(3)+") ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at",
		t.names.Runs, runsTableVersion, now); err != nil {
		return fmt.Errorf("write %s: %w", versionsTable, err)
	}
	d.logger.InfoContext(ctx, "created the runs table, as agno 3.0 does on its first run", "database", d.id, "runs_table", d.describeTable(t.names.Runs))
	return concurrentCreate(tx.Commit())
}

// concurrentCreate marks the errors a CREATE gets when another session
// created the same object first: duplicate_table, duplicate_object and
// the unique violation on the catalog a CREATE … IF NOT EXISTS race gives
// on PostgreSQL; "already exists" on SQLite.
func concurrentCreate(err error) error {
	if err == nil {
		return nil
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pgErr.Code {
		case "42P07", "42710", "23505", "42P06":
			return fmt.Errorf("%w: %w", errConcurrentCreate, err)
		}
	}
	if sqliteErr, ok := errors.AsType[*gosqlite.Error](err); ok && strings.Contains(sqliteErr.Error(), "already exists") {
		return fmt.Errorf("%w: %w", errConcurrentCreate, err)
	}
	return err
}
