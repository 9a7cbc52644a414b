package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// indexLockKey is the session-level advisory lock held while indexes are
// built on tables this server did not create, so that two `migrate` runs
// never build the same index at once.
const indexLockKey int64 = 0x61676964 // "agid"

// indexWaitWarning is how long an index build may wait behind another
// transaction before the wait is logged as a warning.
const indexWaitWarning = 10 * time.Second

// indexBuild is one index `migrate` adds to a table agno created.
type indexBuild struct {
	table string // unqualified
	name  string
	sql   string // CREATE INDEX [CONCURRENTLY] IF NOT EXISTS …
}

// recommendedIndexes are the indexes this server's reads want on a table
// pair: its list indexes on the sessions table, on PostgreSQL the trigram
// index of the session_name filter (when pg_trgm is installed, in trgm),
// and agno's (session_id, run_index) index on the runs table, which agno
// 3.0 creates itself but tables migrated by hand may lack.
func (d *database) recommendedIndexes(pair TablePair, l *layout, trgm string) []indexBuild {
	concurrently := ""
	if d.dialect == DialectPostgres {
		concurrently = "CONCURRENTLY "
	}
	var out []indexBuild
	for _, ix := range listIndexes {
		name := indexName(pair.Sessions, ix.suffix)
		out = append(out, indexBuild{table: pair.Sessions, name: name,
			sql: "CREATE INDEX " + concurrently + "IF NOT EXISTS " + quoteIdent(name) + " ON " + d.qualified(pair.Sessions) + " (" + ix.columns + ")"})
	}
	if trgm != "" {
		name := indexName(pair.Sessions, trigramSuffix)
		out = append(out, indexBuild{table: pair.Sessions, name: name, sql: d.trigramIndexSQL(pair, l, trgm, concurrently)})
	}
	if l.runsTable() {
		name := agnoIndexName(pair.Runs, "session_id", "run_index")
		out = append(out, indexBuild{table: pair.Runs, name: name,
			sql: "CREATE INDEX " + concurrently + "IF NOT EXISTS " + quoteIdent(name) + " ON " + d.qualified(pair.Runs) + " (session_id, run_index)"})
	}
	return out
}

// indexState reports whether an index exists and whether PostgreSQL
// considers it valid (a CREATE INDEX CONCURRENTLY that failed leaves an
// invalid one behind, which IF NOT EXISTS would then keep).
func (d *database) indexState(ctx context.Context, q queryer, name string) (exists, valid bool, err error) {
	if d.dialect == DialectSQLite {
		err = q.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1)", name).Scan(&exists)
		return exists, exists, err
	}
	err = q.QueryRowContext(ctx, `SELECT i.indisvalid FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2`, d.schema, name).Scan(&valid)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	return err == nil, valid, err
}

// buildIndexes builds the missing or invalid ones of builds, one at a
// time. On PostgreSQL each is built outside any transaction (CREATE INDEX
// CONCURRENTLY, which lets agno's writers go on), on one pinned connection
// holding a session-level advisory lock, with statement_timeout off; an
// invalid index is dropped and built again; a build that waits behind
// another transaction for more than indexWaitWarning is logged as a
// warning. On SQLite the build holds the write lock, which the caller
// says in its log. Every index is logged before and after, with how long
// it took.
func (d *database) buildIndexes(ctx context.Context, builds []indexBuild) error {
	if len(builds) == 0 {
		return nil
	}
	conn, err := d.sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	if d.dialect == DialectPostgres {
		if _, err := conn.ExecContext(ctx, "SET statement_timeout = 0"); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", indexLockKey); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", indexLockKey)
		}()
	}
	for _, b := range builds {
		exists, valid, err := d.indexState(ctx, conn, b.name)
		if err != nil {
			return fmt.Errorf("index %s: %w", b.name, err)
		}
		if exists && valid {
			d.logger.InfoContext(ctx, "index present", "database", d.id, "table", d.describeTable(b.table), "index", b.name)
			continue
		}
		if exists {
			d.logger.WarnContext(ctx, "index invalid (an earlier build failed); dropping and building it again", "database", d.id, "index", b.name)
			if _, err := conn.ExecContext(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+d.qualified(b.name)); err != nil {
				return fmt.Errorf("drop invalid index %s: %w", b.name, err)
			}
		}
		d.logger.InfoContext(ctx, "building index", "database", d.id, "table", d.describeTable(b.table), "index", b.name, "statement", b.sql)
		start := time.Now()
		if err := d.buildOne(ctx, conn, b); err != nil {
			return fmt.Errorf("build index %s: %w", b.name, err)
		}
		d.logger.InfoContext(ctx, "built index", "database", d.id, "table", d.describeTable(b.table), "index", b.name,
			"duration", time.Since(start).Round(time.Millisecond).String())
	}
	return nil
}

// buildOne runs one CREATE INDEX on conn, watching on another connection
// whether it waits for a lock.
func (d *database) buildOne(ctx context.Context, conn *sql.Conn, b indexBuild) error {
	if d.dialect != DialectPostgres {
		_, err := conn.ExecContext(ctx, b.sql)
		return err
	}
	var pid int
	if err := conn.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(ctx, b.sql)
		done <- err
	}()
	var waitingSince time.Time
	warned := false
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			var waiting bool
			if err := d.sqlDB.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock')", pid).Scan(&waiting); err != nil {
				continue
			}
			switch {
			case !waiting:
				waitingSince = time.Time{}
			case waitingSince.IsZero():
				waitingSince = time.Now()
			case !warned && time.Since(waitingSince) > indexWaitWarning:
				warned = true
				d.logger.WarnContext(ctx, "index build is waiting for another transaction to end (CREATE INDEX CONCURRENTLY waits for every transaction that could use the table)",
					"database", d.id, "index", b.name, "waiting", time.Since(waitingSince).Round(time.Second).String())
			}
		}
	}
}

// trigramSuffix names the trigram index of a sessions table.
const trigramSuffix = "session_name_trgm"

// trigramIndexSQL is the CREATE INDEX of the session_name filter's trigram
// index: a GIN index over the very expression the filter matches (see
// nameExpr), with pg_trgm's operator class qualified by the schema the
// extension lives in (some hosts keep extensions in a schema of their
// own).
func (d *database) trigramIndexSQL(pair TablePair, l *layout, trgm, concurrently string) string {
	expr := nameExpr(jsonSQL{postgres: true}, "", l)
	return "CREATE INDEX " + concurrently + "IF NOT EXISTS " + quoteIdent(indexName(pair.Sessions, trigramSuffix)) + " ON " +
		d.qualified(pair.Sessions) + " USING gin ((" + expr + ") " + quoteIdent(trgm) + ".gin_trgm_ops)"
}

// trigramSchema is the schema pg_trgm is installed in, "" when it is not
// installed (or on SQLite).
func (d *database) trigramSchema(ctx context.Context, q queryer) (string, error) {
	if d.dialect != DialectPostgres {
		return "", nil
	}
	var schema string
	err := q.QueryRowContext(ctx, `SELECT n.nspname FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`).Scan(&schema)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return schema, err
}

// installTrigram makes sure pg_trgm (a trusted extension: a database owner
// or anyone with CREATE on the database may install it) is there and
// returns its schema. Without the privilege it logs the one statement a
// DBA must run and returns "": the session_name filter then works without
// the index.
func (d *database) installTrigram(ctx context.Context, q queryer) (string, error) {
	if d.dialect != DialectPostgres {
		return "", nil
	}
	if schema, err := d.trigramSchema(ctx, q); err != nil || schema != "" {
		return schema, err
	}
	if _, err := q.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS pg_trgm"); err != nil {
		d.logger.WarnContext(ctx, "pg_trgm could not be installed, so the session_name filter scans; a DBA can run the statement, then `agentos-sessions migrate` builds the index",
			"database", d.id, "statement", "CREATE EXTENSION IF NOT EXISTS pg_trgm", "error", err)
		return "", nil
	}
	return d.trigramSchema(ctx, q)
}

// missingIndexes lists the statements that would add the recommended
// indexes a pair lacks (or has invalid), for the start-up log: on
// PostgreSQL without pg_trgm, the statement installing it comes first.
func (d *database) missingIndexes(ctx context.Context, pair TablePair, l *layout) ([]string, error) {
	trgm, err := d.trigramSchema(ctx, d.sqlDB)
	if err != nil {
		return nil, err
	}
	var out []string
	if d.dialect == DialectPostgres && trgm == "" {
		out = append(out, "CREATE EXTENSION IF NOT EXISTS pg_trgm")
	}
	for _, b := range d.recommendedIndexes(pair, l, trgm) {
		if l.runsTable() && b.table == pair.Runs && l.runsOrderIndex {
			continue // agno's own, under whatever name
		}
		exists, valid, err := d.indexState(ctx, d.sqlDB, b.name)
		if err != nil {
			return nil, err
		}
		if !exists || !valid {
			out = append(out, b.sql)
		}
	}
	return out, nil
}
