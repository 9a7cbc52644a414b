package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// stmt is one statement being put together, with its bind parameters.
type stmt struct {
	d    *database
	sql  strings.Builder
	args []any
	// planEach has PostgreSQL plan the statement for its parameters on
	// every execution, never with a generic plan (see planEachTime).
	planEach bool
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
	c := &stmt{d: s.d, args: append([]any(nil), s.args...), planEach: s.planEach}
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
	return conn.QueryContext(ctx, s.sql.String(), s.bound()...)
}

func (s *stmt) queryRow(ctx context.Context, conn gorm.ConnPool) *sql.Row {
	return conn.QueryRowContext(ctx, s.sql.String(), s.bound()...)
}

// bound is the statement's arguments as the driver takes them: on
// PostgreSQL, led by pgx's query mode when the statement is planned on
// each execution. pgx's QueryExecModeCacheDescribe sends it unnamed, in
// one round trip, and PostgreSQL plans an unnamed statement for the
// values bound to it; the default mode prepares a named statement, whose
// plan PostgreSQL may make generic after five executions.
func (s *stmt) bound() []any {
	if !s.planEach || s.d.dialect != DialectPostgres {
		return s.args
	}
	return append([]any{pgx.QueryExecModeCacheDescribe}, s.args...)
}

func (s *stmt) exec(ctx context.Context, conn gorm.ConnPool) (sql.Result, error) {
	return conn.ExecContext(ctx, s.sql.String(), s.bound()...)
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
