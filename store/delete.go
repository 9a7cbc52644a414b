package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// OrderedLockMaxKeys is the largest PostgreSQL bulk delete that locks its
// rows in session_id order before deleting them; a larger one runs alone
// on its table instead (see postgresDelete).
const OrderedLockMaxKeys = 1000

// lockMode is how a PostgreSQL bulk delete keeps clear of deadlocks.
type lockMode int

const (
	lockNone      lockMode = iota // one key: nothing to order
	lockOrdered                   // up to OrderedLockMaxKeys keys
	lockExclusive                 // more keys
	lockModes
)

// lockModeFor is the lock mode of a delete of n keys.
func lockModeFor(n int) lockMode {
	switch {
	case n <= 1:
		return lockNone
	case n <= OrderedLockMaxKeys:
		return lockOrdered
	}
	return lockExclusive
}

// bulkDeleteLockClass is the first half of the advisory lock key bulk
// deletes take (the two-integer key space, apart from the table creation's
// single-integer one); the second half names the table.
const bulkDeleteLockClass int32 = 0x61677373 // "agss"

// bulkDeleteLockKey is the advisory lock key of bulk deletes on a table,
// named schema.table: the same table name in two schemas is two tables.
func bulkDeleteLockKey(schema, sessions string) string {
	h := fnv.New32a()
	h.Write([]byte(schema + "." + sessions))
	return fmt.Sprintf("%d, %d", bulkDeleteLockClass, int32(h.Sum32()))
}

// postgresDelete deletes with one statement whatever the number of keys:
// the keys arrive as two text[] parameters ($1 ids, $2 types), so the
// 65,535 bind-parameter limit never applies.
//
// Overlapping bulk deletes must not deadlock, and they do not, three ways:
//
//   - One key (lockNone): the delete waits for one session row at most, and
//     holds nothing else while it waits, so it closes no cycle. No lock is
//     taken beyond the delete's own.
//   - Up to OrderedLockMaxKeys keys (lockOrdered), the statement takes
//     the table's bulk-delete advisory lock in shared mode, then locks every
//     target row in session_id order (bytewise, COLLATE "C": a total order,
//     and a cheap sort) before deleting any. Any number of these run at once
//     and queue behind each other only where they overlap.
//   - Above that (lockExclusive), it takes the same advisory lock in
//     exclusive mode and deletes without a lock pass: no other bulk delete
//     of the table runs meanwhile, so nothing can wait on it in the opposite
//     order. On 10,000 keys the ordered lock pass (join, sort, one lock and
//     one WAL record per row) costs about a fifth of the raw delete; holding
//     one lock costs nothing, and a delete that size takes its turn.
//
// Every other writer of this server (the single-session operations,
// recording a run) waits on one session row at most, so it closes no cycle
// with any of them. agno's own writers take no part in this order; the
// rare deadlock with them is retried (DeleteSessions).
//
// Each step is gated on the one before by a one-time filter over a
// materialized CTE, which PostgreSQL evaluates before it reads the first
// row. The delete finds its rows as the raw statement would, in whatever
// order its plan reads them, and takes no row lock the lock pass did not
// take already.
//
// Runs go by ON DELETE CASCADE where the runs table has it; otherwise a
// second DELETE of the same statement removes them. agno 3.0's tool
// results of the deleted sessions (their payloads in "fs".agno_fs, then
// their index rows) go in the same statement too. With report, RETURNING
// counts each deleted session's runs as GET /sessions/{id}/runs lists
// them, in the statement's snapshot, taken before any run was deleted. A
// key listed twice joins its row twice, which locks and deletes it once
// (the handler drops repeats for a report anyway).
func (s *layoutSQL) postgresDelete(t *sessionsTable, l *layout, byUser, report bool, mode lockMode) string {
	const keys = `unnest($1::text[], $2::text[]) AS p(session_id, session_type)`
	userFilter := ""
	if byUser {
		userFilter = "\n  AND s.user_id = $3"
	}
	lockFunc, gate := "pg_advisory_xact_lock_shared", "serial"
	if mode == lockExclusive {
		lockFunc = "pg_advisory_xact_lock"
	}
	var ctes []string
	if mode != lockNone {
		ctes = append(ctes, `serial AS MATERIALIZED (
    SELECT `+lockFunc+`(`+bulkDeleteLockKey(t.db.schema, t.names.Sessions)+`)
)`)
	}
	if mode == lockOrdered {
		gate = "locked"
		ctes = append(ctes, `locked AS MATERIALIZED (
    SELECT FROM `+s.sessions+` s
    JOIN `+keys+`
      ON s.session_id = p.session_id AND s.session_type = p.session_type
    WHERE (SELECT count(*) FROM serial) >= 0`+strings.ReplaceAll(userFilter, "\n", "\n  ")+`
    ORDER BY s.session_id COLLATE "C"
    FOR UPDATE OF s
)`)
	}
	gated := ""
	if mode != lockNone {
		gated = "\n  AND (SELECT count(*) FROM " + gate + ") >= 0"
	}
	del := `DELETE FROM ` + s.sessions + ` s
USING ` + keys + `
WHERE s.session_id = p.session_id AND s.session_type = p.session_type` + userFilter + gated
	runCount := s.run.count(s.run.listedRun())
	if !s.extraSteps {
		sql := del
		if report {
			sql += "\nRETURNING s.session_id, s.session_type,\n    " + runCount
		}
		if len(ctes) > 0 {
			sql = "WITH " + strings.Join(ctes, ", ") + "\n" + sql
		}
		return sql
	}
	returning := ""
	if report {
		returning = runCount
	}
	return s.postgresExtras(t, l, ctes, del, returning)
}

// postgresExtras turns a DELETE of sessions (alias s) into a statement
// that also deletes their runs, where no ON DELETE CASCADE does, and their
// tool results with their payloads. It returns one row, the number of
// sessions deleted, the tool results and the payloads removed; or, when
// runs is not "", one row per deleted session: its id, type, runs (that
// expression, evaluated in RETURNING), and the same two counts.
func (s *layoutSQL) postgresExtras(t *sessionsTable, l *layout, ctes []string, del, runs string) string {
	returning := "\nRETURNING s.session_id, s.session_type"
	if runs != "" {
		returning += ", " + runs + " AS runs"
	}
	ctes = append(ctes, "deleted AS (\n"+del+returning+"\n)")
	if s.runs != "" && !l.runsCascade {
		ctes = append(ctes, "runs_deleted AS (DELETE FROM "+s.runs+" AS r USING deleted WHERE r.session_id = deleted.session_id)")
	}
	counts := "0, 0"
	if l.toolResults {
		ctes = append(ctes, "results AS (DELETE FROM "+t.db.qualified(toolResultsTable)+
			" AS r USING deleted WHERE r.session_id = deleted.session_id RETURNING r.namespace, r.path)")
		counts = "(SELECT count(*) FROM results), 0"
		if l.payloads {
			ctes = append(ctes, `payloads AS (DELETE FROM "fs".agno_fs AS f USING results WHERE f.namespace = results.namespace AND f.path = results.path RETURNING 1)`)
			counts = "(SELECT count(*) FROM results), (SELECT count(*) FROM payloads)"
		}
	}
	final := "SELECT count(*), " + counts + " FROM deleted"
	if runs != "" {
		final = "SELECT session_id, session_type, runs, " + counts + " FROM deleted"
	}
	return "WITH " + strings.Join(ctes, ",\n") + "\n" + final
}

// sqliteTargets selects the session ids to delete: the keys arrive as one
// JSON array of [id, type] pairs (?1), read with json_each, so the 32,766
// bind-parameter limit never applies. CROSS JOIN pins the join order (SQLite
// never reorders it): each pair probes the primary key. Left to itself the
// planner may start from the user_id index and rescan all the pairs for
// every session of that user.
func (s *layoutSQL) sqliteTargets(byUser bool) string {
	sql := `SELECT s.session_id
    FROM json_each(?1) AS p
    CROSS JOIN ` + s.sessions + ` AS s
      ON s.session_id = json_extract(p.value, '$[0]')
     AND s.session_type = json_extract(p.value, '$[1]')`
	if byUser {
		sql += "\n    WHERE s.user_id = ?2"
	}
	return sql
}

// sqliteDelete deletes the target sessions; runs go by ON DELETE CASCADE,
// or by the statements of sqliteAfterSteps, which run first. SQLite writes
// one transaction at a time, so there is no lock order to keep.
func (s *layoutSQL) sqliteDelete(byUser, report bool) string {
	sql := `DELETE FROM ` + s.sessions + `
WHERE session_id IN (
    ` + s.sqliteTargets(byUser) + `
)`
	if report {
		sql += "\nRETURNING session_id, session_type"
	}
	return sql
}

// sqliteCount counts the listed runs of each target session. SQLite
// evaluates RETURNING row by row while the cascade is already deleting
// runs, so the count is taken by its own statement before the delete, in
// the same transaction (which holds the write lock from BEGIN:
// _txlock=immediate).
func (s *layoutSQL) sqliteCount(byUser bool) string {
	return `SELECT s.session_id, ` + s.run.count(s.run.listedRun()) + `
FROM ` + s.sessions + ` AS s
WHERE s.session_id IN (
    ` + s.sqliteTargets(byUser) + `
)`
}

// sqliteSteps are the statements a SQLite delete runs before the session
// delete, in its transaction, with the delete's own arguments (targets is
// the subquery that selects the ids of the sessions it deletes): the
// runs of a runs table without ON DELETE CASCADE (which must go first, or a
// foreign key without the cascade refuses the delete), then agno 3.0's
// tool results' payloads (in agno_fs, matched by namespace and path) and
// index rows. countSQL counts the tool results and the payloads found for
// them, before they go; it is "" without tool results.
func (s *layoutSQL) sqliteSteps(l *layout, targets string) (steps []string, countSQL string) {
	if s.runs != "" && !l.runsCascade {
		steps = append(steps, "DELETE FROM "+s.runs+" WHERE session_id IN ("+targets+")")
	}
	if l.toolResults {
		results := quoteIdent(toolResultsTable)
		if l.payloads {
			countSQL = "SELECT count(*), count(f.path) FROM " + results + " AS r LEFT JOIN agno_fs AS f ON f.namespace = r.namespace AND f.path = r.path WHERE r.session_id IN (" + targets + ")"
			steps = append(steps, "DELETE FROM agno_fs WHERE EXISTS (SELECT 1 FROM "+results+" AS r WHERE r.session_id IN ("+targets+
				") AND r.namespace = agno_fs.namespace AND r.path = agno_fs.path)")
		} else {
			countSQL = "SELECT count(*), 0 FROM " + results + " WHERE session_id IN (" + targets + ")"
		}
		steps = append(steps, "DELETE FROM "+results+" WHERE session_id IN ("+targets+")")
	}
	return steps, countSQL
}

// DeleteSessions implements Sessions. Errors are wrapped as
// "delete sessions: …"; none of them is a sentinel, and any of them means
// nothing was deleted.
//
// On PostgreSQL the delete is one statement, which the database runs as a
// transaction of its own: an explicit BEGIN and COMMIT would add two round
// trips and nothing else. On SQLite a report, or a layout that needs more
// than the cascade (see sqliteSteps), takes several statements in one
// transaction. A PostgreSQL deadlock (with agno's writers, which keep no
// lock order of ours) is retried once: nothing was committed.
func (t *sessionsTable) DeleteSessions(ctx context.Context, keys []SessionKey, opts DeleteOptions) (DeleteResult, error) {
	var res DeleteResult
	if opts.Report {
		res.Deleted = make([]DeletedSession, 0, len(keys))
	}
	if len(keys) == 0 {
		return res, nil
	}
	args, err := t.deleteArgs(keys, opts.UserID)
	if err != nil {
		return DeleteResult{}, fmt.Errorf("delete sessions: %w", err)
	}
	err = t.withState(ctx, func(s *tableState) error {
		for attempt := 0; ; attempt++ {
			out, err := t.deleteOnce(ctx, s, keys, args, opts)
			if err != nil && attempt == 0 && isDeadlock(err) {
				t.db.logger.WarnContext(ctx, "bulk delete deadlocked with another writer; retrying it once", "error", err)
				continue
			}
			if err == nil {
				out.Deleted = append(res.Deleted, out.Deleted...)
				res = out
			}
			return err
		}
	})
	if err != nil {
		return DeleteResult{}, fmt.Errorf("delete sessions: %w", err)
	}
	if opts.Report {
		res.Sessions = int64(len(res.Deleted))
	}
	return res, nil
}

// deleteOnce runs the delete in one layout.
func (t *sessionsTable) deleteOnce(ctx context.Context, s *tableState, keys []SessionKey, args []any, opts DeleteOptions) (DeleteResult, error) {
	var res DeleteResult
	byUser, report := 0, 0
	if opts.UserID != nil {
		byUser = 1
	}
	if opts.Report {
		report = 1
	}
	query := s.sql.deleteSQL[lockModeFor(len(keys))][byUser][report]
	var results, payloads int64
	var err error
	switch {
	case t.db.dialect == DialectPostgres && !s.sql.extraSteps && !opts.Report:
		var r sql.Result
		if r, err = t.db.sqlDB.ExecContext(ctx, query, args...); err == nil {
			res.Sessions, err = r.RowsAffected()
		}
	case t.db.dialect == DialectPostgres && !opts.Report:
		err = t.db.sqlDB.QueryRowContext(ctx, query, args...).Scan(&res.Sessions, &results, &payloads)
	case t.db.dialect == DialectPostgres:
		res.Deleted, results, payloads, err = scanDeleted(ctx, t.db.sqlDB, query, args, nil, s.sql.extraSteps)
	case !opts.Report && !s.sql.extraSteps:
		var r sql.Result
		if r, err = t.db.sqlDB.ExecContext(ctx, query, args...); err == nil {
			res.Sessions, err = r.RowsAffected()
		}
	default:
		err = t.sqliteDeleteTx(ctx, s, query, args, byUser == 1, opts.Report, &res, &results, &payloads)
	}
	if err != nil {
		return DeleteResult{}, err
	}
	if results > payloads {
		// As agno's own cascade logs them: their bytes live in a filesystem
		// this server has no access to.
		t.db.logger.WarnContext(ctx, "tool-result payloads of deleted sessions were not in the default payload table; they may live in a filesystem this server cannot reach",
			"database", t.db.id, "sessions_table", t.db.describeTable(t.names.Sessions), "tool_results", results, "payloads_removed", payloads, "payloads_not_found", results-payloads)
	}
	return res, nil
}

// sqliteDeleteTx runs a SQLite delete that takes more than one statement,
// in one transaction.
func (t *sessionsTable) sqliteDeleteTx(ctx context.Context, s *tableState, query string, args []any, byUser, report bool, res *DeleteResult, results, payloads *int64) error {
	tx, err := t.db.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	user := 0
	if byUser {
		user = 1
	}
	var runs map[string]int64
	if report {
		if runs, err = countRunsSQLite(ctx, tx, s.sql.countSQL[user], args); err != nil {
			return err
		}
	}
	steps, countSQL := s.sql.stepsSQL[user], s.sql.toolResultsSQL[user]
	if countSQL != "" {
		if err := tx.QueryRowContext(ctx, countSQL, args...).Scan(results, payloads); err != nil {
			return err
		}
	}
	for _, step := range steps {
		if _, err := tx.ExecContext(ctx, step, args...); err != nil {
			return err
		}
	}
	if report {
		if res.Deleted, _, _, err = scanDeleted(ctx, tx, query, args, runs, false); err != nil {
			return err
		}
	} else {
		r, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if res.Sessions, err = r.RowsAffected(); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// isDeadlock reports whether err is PostgreSQL's deadlock_detected.
func isDeadlock(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.Code == "40P01"
}

// deleteArgs binds keys (and the user filter) the way the dialect's
// statement reads them: two text[] on PostgreSQL, which pgx encodes from a
// Go []string natively; one JSON array of pairs on SQLite.
func (t *sessionsTable) deleteArgs(keys []SessionKey, userID *string) ([]any, error) {
	args := make([]any, 0, 3)
	if t.db.dialect == DialectPostgres {
		ids := make([]string, len(keys))
		types := make([]string, len(keys))
		for i, k := range keys {
			ids[i], types[i] = k.ID, k.Type
		}
		args = append(args, ids, types)
	} else {
		pairs := make([][2]string, len(keys))
		for i, k := range keys {
			pairs[i] = [2]string{k.ID, k.Type}
		}
		pairsJSON, err := json.Marshal(pairs)
		if err != nil {
			return nil, err
		}
		args = append(args, string(pairsJSON))
	}
	if userID != nil {
		args = append(args, *userID)
	}
	return args, nil
}

// scanDeleted runs a delete that returns (session_id, session_type) and,
// on PostgreSQL, the run count (and with extra, the tool results and
// payloads it removed); on SQLite the run counts come from runs.
func scanDeleted(ctx context.Context, conn queryer, query string, args []any, runs map[string]int64, extra bool) (deleted []DeletedSession, results, payloads int64, err error) {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var d DeletedSession
		dest := []any{&d.ID, &d.Type}
		if runs == nil {
			dest = append(dest, &d.RunsDeleted)
		}
		if extra {
			dest = append(dest, &results, &payloads)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, 0, err
		}
		if runs != nil {
			d.RunsDeleted = runs[d.ID]
		}
		deleted = append(deleted, d)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, 0, err
	}
	// Close reports a failed commit of a statement run on its own.
	return deleted, results, payloads, rows.Close()
}

func countRunsSQLite(ctx context.Context, conn queryer, query string, args []any) (map[string]int64, error) {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	runs := make(map[string]int64)
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		runs[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return runs, rows.Close()
}
