package store

import (
	"context"
	"encoding/json"
	"fmt"

	"gorm.io/gorm"
)

// sessionsTable is one configured session table and its runs table; it
// implements Sessions. Its statements are built once, from configured names
// only, when the database is opened.
type sessionsTable struct {
	db    *database
	names TablePair
	sql   tableSQL

	// deleteSQL[byUser][countRuns] on PostgreSQL; deleteSQL[byUser][0] on SQLite.
	deleteSQL [2][2]string
	// countSQL[byUser] counts runs per target session on SQLite.
	countSQL [2]string
}

var _ Sessions = (*sessionsTable)(nil)

func newSessionsTable(d *database, pair TablePair) *sessionsTable {
	t := &sessionsTable{db: d, names: pair, sql: newTableSQL(d.dialect, pair)}
	for byUser := range 2 {
		for countRuns := range 2 {
			if d.dialect == DialectPostgres {
				t.deleteSQL[byUser][countRuns] = postgresDeleteSQL(pair, byUser == 1, countRuns == 1)
			} else {
				t.deleteSQL[byUser][countRuns] = sqliteDeleteSQL(pair, byUser == 1)
			}
		}
		if d.dialect == DialectSQLite {
			t.countSQL[byUser] = sqliteCountSQL(pair, byUser == 1)
		}
	}
	return t
}

// postgresDeleteSQL deletes with one statement whatever the number of keys:
// the keys arrive as two text[] parameters ($1 ids, $2 types), so the
// 65,535 bind-parameter limit never applies. The target rows are locked in
// session_id order before any is deleted, so overlapping bulk deletes queue
// behind each other instead of deadlocking. Runs go by ON DELETE CASCADE;
// the run count in RETURNING reads the statement's snapshot, taken before
// the cascade ran. A key listed twice joins its row twice, which locks and
// deletes it once: no DISTINCT pass is needed (the handler drops repeats
// anyway).
func postgresDeleteSQL(pair TablePair, byUser, countRuns bool) string {
	sessions, runs := quoteIdent(pair.Sessions), quoteIdent(pair.Runs)
	userFilter := ""
	if byUser {
		userFilter = "\n    WHERE s.user_id = $3"
	}
	returning := "s.session_id, s.session_type"
	if countRuns {
		returning += ",\n    (SELECT count(*) FROM " + runs + " r WHERE r.session_id = s.session_id)"
	}
	return `WITH targets AS MATERIALIZED (
    SELECT s.session_id
    FROM ` + sessions + ` s
    JOIN unnest($1::text[], $2::text[]) AS p(session_id, session_type)
      ON s.session_id = p.session_id AND s.session_type = p.session_type` + userFilter + `
    ORDER BY s.session_id
    FOR UPDATE OF s
)
DELETE FROM ` + sessions + ` s
USING targets t
WHERE s.session_id = t.session_id
RETURNING ` + returning
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

// sqliteDeleteSQL deletes the target sessions; runs go by ON DELETE CASCADE.
func sqliteDeleteSQL(pair TablePair, byUser bool) string {
	return `DELETE FROM ` + quoteIdent(pair.Sessions) + `
WHERE session_id IN (
    ` + sqliteTargets(pair, byUser) + `
)
RETURNING session_id, session_type`
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
// the transaction was rolled back.
func (t *sessionsTable) DeleteSessions(ctx context.Context, keys []SessionKey, opts DeleteOptions) ([]DeletedSession, error) {
	deleted := make([]DeletedSession, 0, len(keys))
	if len(keys) == 0 {
		return deleted, nil
	}
	err := t.db.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The statements go straight to the *sql.Tx: GORM would expand a
		// []string argument into a list of bind parameters.
		conn := tx.Statement.ConnPool
		var err error
		if t.db.dialect == DialectPostgres {
			deleted, err = t.deletePostgres(ctx, conn, keys, opts, deleted)
		} else {
			deleted, err = t.deleteSQLite(ctx, conn, keys, opts, deleted)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delete sessions: %w", err)
	}
	return deleted, nil
}

func (t *sessionsTable) deletePostgres(ctx context.Context, conn gorm.ConnPool, keys []SessionKey, opts DeleteOptions, deleted []DeletedSession) ([]DeletedSession, error) {
	ids := make([]string, len(keys))
	types := make([]string, len(keys))
	for i, k := range keys {
		ids[i], types[i] = k.ID, k.Type
	}
	// pgx encodes a Go []string as text[] natively.
	args := []any{ids, types}
	byUser := 0
	if opts.UserID != nil {
		args = append(args, *opts.UserID)
		byUser = 1
	}
	countRuns := 0
	if opts.CountRuns {
		countRuns = 1
	}
	rows, err := conn.QueryContext(ctx, t.deleteSQL[byUser][countRuns], args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d DeletedSession
		dest := []any{&d.ID, &d.Type}
		if opts.CountRuns {
			dest = append(dest, &d.RunsDeleted)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		deleted = append(deleted, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return deleted, rows.Close()
}

func (t *sessionsTable) deleteSQLite(ctx context.Context, conn gorm.ConnPool, keys []SessionKey, opts DeleteOptions, deleted []DeletedSession) ([]DeletedSession, error) {
	pairs := make([][2]string, len(keys))
	for i, k := range keys {
		pairs[i] = [2]string{k.ID, k.Type}
	}
	pairsJSON, err := json.Marshal(pairs)
	if err != nil {
		return nil, err
	}
	args := []any{string(pairsJSON)}
	byUser := 0
	if opts.UserID != nil {
		args = append(args, *opts.UserID)
		byUser = 1
	}
	var runs map[string]int64
	if opts.CountRuns {
		if runs, err = t.countRunsSQLite(ctx, conn, t.countSQL[byUser], args); err != nil {
			return nil, err
		}
	}
	rows, err := conn.QueryContext(ctx, t.deleteSQL[byUser][0], args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d DeletedSession
		if err := rows.Scan(&d.ID, &d.Type); err != nil {
			return nil, err
		}
		d.RunsDeleted = runs[d.ID]
		deleted = append(deleted, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return deleted, rows.Close()
}

func (t *sessionsTable) countRunsSQLite(ctx context.Context, conn gorm.ConnPool, query string, args []any) (map[string]int64, error) {
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
