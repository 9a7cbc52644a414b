package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Columns of the two tables, in the order the scanners below expect them.
var (
	sessionColumns = []string{
		"session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id",
		"session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary",
		"created_at", "updated_at",
	}
	runColumns = []string{
		"run_id", "session_id", "agent_id", "team_id", "workflow_id", "user_id",
		"parent_run_id", "status", "run_data", "created_at", "updated_at",
	}
)

// tableSQL holds the pieces of the single-session statements that depend on
// configuration: quoted table names and column lists. Statements are put
// together from these and constant fragments; request values only ever
// travel as bind parameters.
type tableSQL struct {
	sessions string // quoted session table name
	runs     string // quoted runs table name

	sessionCols  string // session columns, unqualified
	sessionColsS string // session columns qualified by the alias s
	runCols      string // run columns, unqualified
	runColsR     string // run columns qualified by the alias r

	// sessionName is the session's name, read from session_data as text.
	sessionName string
	// ilike is the case-insensitive LIKE operator.
	ilike string
	// forUpdate locks the rows a SELECT reads until the transaction ends;
	// SQLite needs nothing, as its write transactions hold the database
	// lock from BEGIN.
	forUpdate string
}

func newTableSQL(dialect string, pair TablePair) tableSQL {
	q := tableSQL{
		sessions:     quoteIdent(pair.Sessions),
		runs:         quoteIdent(pair.Runs),
		sessionCols:  columnList("", sessionColumns),
		sessionColsS: columnList("s.", sessionColumns),
		runCols:      columnList("", runColumns),
		runColsR:     columnList("r.", runColumns),
	}
	if dialect == DialectPostgres {
		q.sessionName = "(session_data->>'session_name')"
		q.ilike = "ILIKE"
		q.forUpdate = " FOR UPDATE"
	} else {
		q.sessionName = "json_extract(session_data, '$.session_name')"
		// SQLite's LIKE already ignores the case of ASCII letters.
		q.ilike = "LIKE"
	}
	return q
}

func columnList(prefix string, cols []string) string {
	qualified := make([]string, len(cols))
	for i, c := range cols {
		qualified[i] = prefix + c
	}
	return strings.Join(qualified, ", ")
}

// stmt is one statement being put together, with its bind parameters.
type stmt struct {
	d    *database
	sql  strings.Builder
	args []any
}

func (t *sessionsTable) newStmt(fragments ...string) *stmt {
	s := &stmt{d: t.db}
	s.add(fragments...)
	return s
}

// add appends SQL text: constant fragments and configured, quoted names
// only.
func (s *stmt) add(fragments ...string) *stmt {
	for _, f := range fragments {
		s.sql.WriteString(f)
	}
	return s
}

// arg records a bind parameter and returns its placeholder.
func (s *stmt) arg(v any) string {
	s.args = append(s.args, v)
	return s.d.placeholder(len(s.args))
}

// after returns a new statement made of prefix followed by s, with s's
// parameters; adding to it leaves s unchanged.
func (s *stmt) after(prefix string) *stmt {
	c := &stmt{d: s.d, args: append([]any(nil), s.args...)}
	c.add(prefix, s.sql.String())
	return c
}

// owner narrows a WHERE clause to the sessions that pass o; alias is the
// session table's alias followed by a dot, or "".
func (s *stmt) owner(alias string, o Owner) *stmt {
	if o.Type != nil {
		s.add(" AND ", alias, "session_type = ", s.arg(*o.Type))
	}
	if o.UserID != nil {
		s.add(" AND ", alias, "user_id = ", s.arg(*o.UserID))
	}
	return s
}

// jsonArg records m, encoded, as a bind parameter for a JSON column and
// returns its placeholder, cast to jsonb on PostgreSQL. A nil m is NULL.
func (s *stmt) jsonArg(m map[string]any) (string, error) {
	v, err := encodeJSON(m)
	if err != nil {
		return "", err
	}
	p := s.arg(v)
	if s.d.dialect == DialectPostgres {
		p += "::jsonb"
	}
	return p, nil
}

func (s *stmt) query(ctx context.Context, conn gorm.ConnPool) (*sql.Rows, error) {
	return conn.QueryContext(ctx, s.sql.String(), s.args...)
}

func (s *stmt) queryRow(ctx context.Context, conn gorm.ConnPool) *sql.Row {
	return conn.QueryRowContext(ctx, s.sql.String(), s.args...)
}

func (s *stmt) exec(ctx context.Context, conn gorm.ConnPool) (sql.Result, error) {
	return conn.ExecContext(ctx, s.sql.String(), s.args...)
}

// pool returns the connection pool for statements that run on their own.
func (t *sessionsTable) pool() gorm.ConnPool { return t.db.sqlDB }

// readTx runs fn in a read-only transaction whose statements all see one
// snapshot: REPEATABLE READ on PostgreSQL; on SQLite a deferred
// transaction, which takes no write lock and, in WAL mode, reads one
// snapshot from its first statement on.
func (t *sessionsTable) readTx(ctx context.Context, fn func(conn gorm.ConnPool) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if t.db.dialect == DialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return t.db.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(tx.Statement.ConnPool)
	}, opts)
}

// writeTx runs fn in a read-write transaction.
func (t *sessionsTable) writeTx(ctx context.Context, fn func(conn gorm.ConnPool) error) error {
	return t.db.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(tx.Statement.ConnPool)
	})
}

// SQLite extended result codes of constraint violations.
const (
	sqliteConstraintForeignKey = 787
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

// sqliteBusy is SQLITE_BUSY, the primary code of every busy error.
const sqliteBusy = 5

// isUniqueViolation reports whether err is a duplicate primary or unique
// key: SQLSTATE 23505 on PostgreSQL, SQLITE_CONSTRAINT_PRIMARYKEY or
// SQLITE_CONSTRAINT_UNIQUE on SQLite.
func isUniqueViolation(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == "23505"
	}
	if sqliteErr, ok := errors.AsType[*gosqlite.Error](err); ok {
		return sqliteErr.Code() == sqliteConstraintPrimaryKey || sqliteErr.Code() == sqliteConstraintUnique
	}
	return false
}

// isForeignKeyViolation reports whether err is a reference to a missing
// row: SQLSTATE 23503 on PostgreSQL, SQLITE_CONSTRAINT_FOREIGNKEY on SQLite.
func isForeignKeyViolation(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == "23503"
	}
	if sqliteErr, ok := errors.AsType[*gosqlite.Error](err); ok {
		return sqliteErr.Code() == sqliteConstraintForeignKey
	}
	return false
}

// notFound turns the absence of a row into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// encodeJSON returns the JSON text of m for a JSON column, or nil (SQL
// NULL) for a nil map. HTML characters are written as they are, not as
// \u003c and the like, so the stored text reads as it was sent.
func encodeJSON(m map[string]any) (any, error) {
	if m == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// decodeJSON decodes a JSON column; NULL (and JSON null) is a nil map.
// Numbers decode as json.Number, so that they are written back exactly as
// they were read, however large or precise.
func decodeJSON(raw []byte) (map[string]any, error) {
	if raw == nil {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// sessionRow receives one row of sessionColumns.
type sessionRow struct {
	s    Session
	json [6][]byte // session_data … summary
}

func (r *sessionRow) dest() []any {
	return []any{
		&r.s.ID, &r.s.Type, &r.s.AgentID, &r.s.TeamID, &r.s.WorkflowID, &r.s.UserID,
		&r.json[0], &r.json[1], &r.json[2], &r.json[3], &r.json[4], &r.json[5],
		&r.s.CreatedAt, &r.s.UpdatedAt,
	}
}

func (r *sessionRow) session() (Session, error) {
	fields := [6]struct {
		name string
		dst  *map[string]any
	}{
		{"session_data", &r.s.SessionData},
		{"agent_data", &r.s.AgentData},
		{"team_data", &r.s.TeamData},
		{"workflow_data", &r.s.WorkflowData},
		{"metadata", &r.s.Metadata},
		{"summary", &r.s.Summary},
	}
	for i, f := range fields {
		m, err := decodeJSON(r.json[i])
		if err != nil {
			return Session{}, fmt.Errorf("session %q: decode %s: %w", r.s.ID, f.name, err)
		}
		*f.dst = m
	}
	return r.s, nil
}

// runRow receives one row of runColumns.
type runRow struct {
	r    Run
	data []byte
}

func (r *runRow) dest() []any {
	return []any{
		&r.r.ID, &r.r.SessionID, &r.r.AgentID, &r.r.TeamID, &r.r.WorkflowID, &r.r.UserID,
		&r.r.ParentRunID, &r.r.Status, &r.data, &r.r.CreatedAt, &r.r.UpdatedAt,
	}
}

func (r *runRow) run() (Run, error) {
	data, err := decodeJSON(r.data)
	if err != nil {
		return Run{}, fmt.Errorf("run %q: decode run_data: %w", r.r.ID, err)
	}
	r.r.Data = data
	return r.r, nil
}

// scanSession reads the one session a statement returns; no row is
// ErrNotFound.
func scanSession(row *sql.Row) (Session, error) {
	var r sessionRow
	if err := row.Scan(r.dest()...); err != nil {
		return Session{}, notFound(err)
	}
	return r.session()
}

// scanSessions reads every session rows returns and closes it.
func scanSessions(rows *sql.Rows, capacity int64) ([]Session, error) {
	defer rows.Close()
	sessions := make([]Session, 0, capacity)
	for rows.Next() {
		var r sessionRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		s, err := r.session()
		if err != nil {
			return nil, err
		}
		sessions = append(sessions, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return sessions, rows.Close()
}

// scanRuns reads every run rows returns and closes it.
func scanRuns(rows *sql.Rows) ([]Run, error) {
	defer rows.Close()
	runs := make([]Run, 0)
	for rows.Next() {
		var r runRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		run, err := r.run()
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return runs, rows.Close()
}
