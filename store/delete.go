package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	"gorm.io/gorm"
)

// sessionsTable is one configured session table and its runs table; it
// implements Sessions. Its statements are built once, from configured names
// only, when the database is opened.
type sessionsTable struct {
	db    *database
	names TablePair
	sql   tableSQL

	// deleteSQL[mode][byUser][report] is the bulk delete; on SQLite it is
	// the same statement for every lockMode.
	deleteSQL [3][2][2]string
	// countSQL[byUser] counts runs per target session on SQLite.
	countSQL [2]string
}

var _ Sessions = (*sessionsTable)(nil)

func newSessionsTable(d *database, pair TablePair) *sessionsTable {
	t := &sessionsTable{db: d, names: pair, sql: newTableSQL(d.dialect, pair)}
	for byUser := range 2 {
		for report := range 2 {
			for mode := range lockModes {
				if d.dialect == DialectPostgres {
					t.deleteSQL[mode][byUser][report] = postgresDeleteSQL(pair, byUser == 1, report == 1, mode)
				} else {
					t.deleteSQL[mode][byUser][report] = sqliteDeleteSQL(pair, byUser == 1, report == 1)
				}
			}
		}
		if d.dialect == DialectSQLite {
			t.countSQL[byUser] = sqliteCountSQL(pair, byUser == 1)
		}
	}
	return t
}

// OrderedLockMaxKeys is the largest PostgreSQL bulk delete that locks its
// rows in session_id order before deleting them; a larger one runs alone
// on its table instead (see postgresDeleteSQL).
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
// deletes take (the two-integer key space, apart from the migrations'
// single-integer one); the second half names the table.
const bulkDeleteLockClass int32 = 0x61677373 // "agss"

// bulkDeleteLockKey is the advisory lock key of bulk deletes on a table.
func bulkDeleteLockKey(sessions string) string {
	h := fnv.New32a()
	h.Write([]byte(sessions))
	return fmt.Sprintf("%d, %d", bulkDeleteLockClass, int32(h.Sum32()))
}

// postgresDeleteSQL deletes with one statement whatever the number of keys:
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
// Every other writer (the single-session operations, recording a run)
// waits on one session row at most, so it closes no cycle with any of them.
//
// Each step is gated on the one before by a one-time filter over a
// materialized CTE, which PostgreSQL evaluates before it reads the first
// row. The delete finds its rows as the raw statement would, in whatever
// order its plan reads them, and takes no row lock the lock pass did not
// take already.
//
// Runs go by ON DELETE CASCADE. With report, RETURNING counts each deleted
// session's runs in the statement's snapshot, taken before the cascade ran.
// A key listed twice joins its row twice, which locks and deletes it once
// (the handler drops repeats for a report anyway).
func postgresDeleteSQL(pair TablePair, byUser, report bool, mode lockMode) string {
	sessions, runs := quoteIdent(pair.Sessions), quoteIdent(pair.Runs)
	const keys = `unnest($1::text[], $2::text[]) AS p(session_id, session_type)`
	userFilter := ""
	if byUser {
		userFilter = "\n  AND s.user_id = $3"
	}
	lockFunc, gate := "pg_advisory_xact_lock_shared", "serial"
	if mode == lockExclusive {
		lockFunc = "pg_advisory_xact_lock"
	}
	sql := `WITH serial AS MATERIALIZED (
    SELECT ` + lockFunc + `(` + bulkDeleteLockKey(pair.Sessions) + `)
)`
	if mode == lockOrdered {
		gate = "locked"
		sql += `, locked AS MATERIALIZED (
    SELECT FROM ` + sessions + ` s
    JOIN ` + keys + `
      ON s.session_id = p.session_id AND s.session_type = p.session_type
    WHERE (SELECT count(*) FROM serial) >= 0` + strings.ReplaceAll(userFilter, "\n", "\n  ") + `
    ORDER BY s.session_id COLLATE "C"
    FOR UPDATE OF s
)`
	}
	gated := "\n  AND (SELECT count(*) FROM " + gate + ") >= 0"
	if mode == lockNone {
		sql, gated = "", ""
	} else {
		sql += "\n"
	}
	sql += `DELETE FROM ` + sessions + ` s
USING ` + keys + `
WHERE s.session_id = p.session_id AND s.session_type = p.session_type` + userFilter + gated
	if report {
		sql += `
RETURNING s.session_id, s.session_type,
    (SELECT count(*) FROM ` + runs + ` r WHERE r.session_id = s.session_id)`
	}
	return sql
}

// sqliteTargets selects the session ids to delete: the keys arrive as one
// JSON array of [id, type] pairs (?1), read with json_each, so the 32,766
// bind-parameter limit never applies. CROSS JOIN pins the join order (SQLite
// never reorders it): each pair probes the primary key. Left to itself the
// planner may start from the user_id index and rescan all the pairs for
// every session of that user.
func sqliteTargets(pair TablePair, byUser bool) string {
	sql := `SELECT s.session_id
    FROM json_each(?1) AS p
    CROSS JOIN ` + quoteIdent(pair.Sessions) + ` AS s
      ON s.session_id = json_extract(p.value, '$[0]')
     AND s.session_type = json_extract(p.value, '$[1]')`
	if byUser {
		sql += "\n    WHERE s.user_id = ?2"
	}
	return sql
}

// sqliteDeleteSQL deletes the target sessions; runs go by ON DELETE
// CASCADE. SQLite writes one transaction at a time, so there is no lock
// order to keep.
func sqliteDeleteSQL(pair TablePair, byUser, report bool) string {
	sql := `DELETE FROM ` + quoteIdent(pair.Sessions) + `
WHERE session_id IN (
    ` + sqliteTargets(pair, byUser) + `
)`
	if report {
		sql += "\nRETURNING session_id, session_type"
	}
	return sql
}

// sqliteCountSQL counts the runs of each target session. SQLite evaluates
// RETURNING row by row while the cascade is already deleting runs, so the
// count is taken by its own statement before the delete, in the same
// transaction (which holds the write lock from BEGIN: _txlock=immediate).
func sqliteCountSQL(pair TablePair, byUser bool) string {
	return `SELECT t.session_id, (SELECT count(*) FROM ` + quoteIdent(pair.Runs) + ` AS r WHERE r.session_id = t.session_id)
FROM ` + quoteIdent(pair.Sessions) + ` AS t
WHERE t.session_id IN (
    ` + sqliteTargets(pair, byUser) + `
)`
}

// DeleteSessions implements Sessions. Errors are wrapped as
// "delete sessions: …"; none of them is a sentinel, and any of them means
// nothing was deleted.
//
// The delete is one statement, which both databases run as a transaction
// of its own: an explicit BEGIN and COMMIT would add two round trips and
// nothing else. Only a report on SQLite takes two statements (the run
// count, then the delete), and so an explicit transaction.
func (t *sessionsTable) DeleteSessions(ctx context.Context, keys []SessionKey, opts DeleteOptions) (DeleteResult, error) {
	var res DeleteResult
	if opts.Report {
		res.Deleted = make([]DeletedSession, 0, len(keys))
	}
	if len(keys) == 0 {
		return res, nil
	}
	byUser, report := 0, 0
	if opts.UserID != nil {
		byUser = 1
	}
	if opts.Report {
		report = 1
	}
	args, err := t.deleteArgs(keys, opts.UserID)
	if err != nil {
		return DeleteResult{}, fmt.Errorf("delete sessions: %w", err)
	}
	query := t.deleteSQL[lockModeFor(len(keys))][byUser][report]
	switch {
	case !opts.Report:
		var r sql.Result
		if r, err = t.db.sqlDB.ExecContext(ctx, query, args...); err == nil {
			res.Sessions, err = r.RowsAffected()
		}
	case t.db.dialect == DialectPostgres:
		res.Deleted, err = scanDeleted(ctx, t.db.sqlDB, query, args, nil, res.Deleted)
	default:
		err = t.db.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			// Straight to the *sql.Tx: GORM's own parameter handling is not
			// needed for one JSON string.
			conn := tx.Statement.ConnPool
			runs, err := countRunsSQLite(ctx, conn, t.countSQL[byUser], args)
			if err != nil {
				return err
			}
			res.Deleted, err = scanDeleted(ctx, conn, query, args, runs, res.Deleted)
			return err
		})
	}
	if err != nil {
		return DeleteResult{}, fmt.Errorf("delete sessions: %w", err)
	}
	if opts.Report {
		res.Sessions = int64(len(res.Deleted))
	}
	return res, nil
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
// on PostgreSQL, the run count; on SQLite the run counts come from runs.
func scanDeleted(ctx context.Context, conn gorm.ConnPool, query string, args []any, runs map[string]int64, deleted []DeletedSession) ([]DeletedSession, error) {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d DeletedSession
		dest := []any{&d.ID, &d.Type}
		if runs == nil {
			dest = append(dest, &d.RunsDeleted)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		if runs != nil {
			d.RunsDeleted = runs[d.ID]
		}
		deleted = append(deleted, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Close reports a failed commit of a statement run on its own.
	return deleted, rows.Close()
}

func countRunsSQLite(ctx context.Context, conn gorm.ConnPool, query string, args []any) (map[string]int64, error) {
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
