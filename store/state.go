package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
)

// reprobeAfter is how long a table pair's layout is trusted before it is
// read again: agno 3.0 creates its runs table on the first run it stores
// into a 2.x table, and cleanup_legacy_runs_column drops the runs column,
// both under a running server.
const reprobeAfter = 5 * time.Second

// tableState is a table pair's layout as last read, and the statements
// built for it.
type tableState struct {
	layout   *layout
	sql      *layoutSQL
	probedAt time.Time
}

// prepare finds the layout of every table pair, creating the pairs that
// do not exist, and logs what it found.
func (d *database) prepare(ctx context.Context) error {
	for _, t := range d.tables {
		if err := t.prepare(ctx); err != nil {
			return fmt.Errorf("database %q table %s: %w", d.id, d.describeTable(t.names.Sessions), err)
		}
	}
	return nil
}

// prepare probes the pair, creates it when nothing is there, and refuses a
// layout the server cannot serve. Creation may race with agno creating the
// same tables; the pair is then probed again rather than failing.
func (t *sessionsTable) prepare(ctx context.Context) error {
	d := t.db
	for attempt := 0; ; attempt++ {
		l, err := d.probe(ctx, d.sqlDB, t.names)
		if err != nil {
			return err
		}
		earlierAt, err := d.earlierLayoutAt(ctx, t.names.Sessions)
		if err != nil {
			return err
		}
		if err := d.check(t.names, l, earlierAt); err != nil {
			return err
		}
		if l.sessionsExist() {
			t.setState(l)
			return t.logLayout(ctx, l, false)
		}
		created, err := d.createPair(ctx, t.names)
		if errors.Is(err, errConcurrentCreate) && attempt < 3 {
			d.logger.WarnContext(ctx, "tables appeared while being created; reading them again",
				"database", d.id, "sessions_table", d.describeTable(t.names.Sessions), "error", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("create tables: %w", err)
		}
		if created {
			l, err := d.probe(ctx, d.sqlDB, t.names)
			if err != nil {
				return err
			}
			t.setState(l)
			return t.logLayout(ctx, l, true)
		}
	}
}

// logLayout writes the start-up line of a table pair: schema, layout,
// version rows, and the recommended indexes it lacks with the statements
// that add them.
func (t *sessionsTable) logLayout(ctx context.Context, l *layout, created bool) error {
	d := t.db
	attrs := []any{
		"database", d.id, "schema", d.schema, "sessions_table", t.names.Sessions, "runs_table", t.names.Runs,
		"layout", l.describe(), "versions", sortedVersions(l.versions), "created", created,
	}
	d.logger.InfoContext(ctx, "tables", attrs...)
	missing, err := d.missingIndexes(ctx, t.names, l)
	if err != nil {
		return fmt.Errorf("list indexes: %w", err)
	}
	if len(missing) > 0 {
		d.logger.WarnContext(ctx, "recommended indexes are missing: lists and run reads on large tables are slower without them; `agentos-sessions migrate` adds them, or run",
			"database", d.id, "sessions_table", d.describeTable(t.names.Sessions), "statements", strings.Join(missing, "; "))
	}
	return nil
}

// setState builds the statements of layout l and makes them current.
func (t *sessionsTable) setState(l *layout) {
	t.state.Store(&tableState{layout: l, sql: t.buildSQL(l), probedAt: time.Now()})
}

// current returns the pair's state, reading the layout again when it is
// older than reprobeAfter. Only one request re-reads it at a time; the
// others go on with the state they have.
func (t *sessionsTable) current(ctx context.Context) *tableState {
	s := t.state.Load()
	if time.Since(s.probedAt) < reprobeAfter || !t.reprobing.TryLock() {
		return s
	}
	defer t.reprobing.Unlock()
	if s = t.state.Load(); time.Since(s.probedAt) < reprobeAfter {
		return s
	}
	return t.reprobe(ctx, s)
}

// reprobe reads the layout again and makes it current. A probe that fails
// (the database is away), or finds a layout the server cannot serve, keeps
// the state it had: the statements then fail on their own, with the
// database's error.
func (t *sessionsTable) reprobe(ctx context.Context, old *tableState) *tableState {
	l, err := t.db.probe(ctx, t.db.sqlDB, t.names)
	if err == nil && l.sessionsExist() {
		err = t.db.check(t.names, l, "")
	} else if err == nil {
		err = fmt.Errorf("%w: the sessions table %s is gone", ErrUnexpectedLayout, t.db.describeTable(t.names.Sessions))
	}
	if err != nil {
		t.db.logger.WarnContext(ctx, "reading the tables' layout again failed; keeping the layout read before",
			"database", t.db.id, "sessions_table", t.db.describeTable(t.names.Sessions), "error", err)
		refreshed := *old
		refreshed.probedAt = time.Now()
		t.state.Store(&refreshed)
		return &refreshed
	}
	if old.layout.describe() != l.describe() {
		t.db.logger.InfoContext(ctx, "tables changed layout", "database", t.db.id,
			"sessions_table", t.db.describeTable(t.names.Sessions), "from", old.layout.describe(), "to", l.describe())
	}
	t.setState(l)
	return t.state.Load()
}

// withState runs fn with the pair's current state. When fn fails because a
// table or column it names does not exist (any more, or yet), the layout
// is read again at once and fn runs once more, in a new transaction of its
// own: agno changed the layout under the server, and the request should
// not fail for it.
func (t *sessionsTable) withState(ctx context.Context, fn func(s *tableState) error) error {
	s := t.current(ctx)
	err := fn(s)
	if err == nil || !isLayoutChanged(err) || ctx.Err() != nil {
		return err
	}
	t.reprobing.Lock()
	s = t.reprobe(ctx, t.state.Load())
	t.reprobing.Unlock()
	return fn(s)
}

// isLayoutChanged reports whether err says a statement named a table or
// column that does not exist: SQLSTATE 42P01 or 42703 on PostgreSQL, or a
// cached plan whose tables changed shape (0A000, "cached plan must not
// change result type"); "no such table/column" on SQLite.
func isLayoutChanged(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == "42P01" || pgErr.Code == "42703" ||
			(pgErr.Code == "0A000" && strings.Contains(pgErr.Message, "cached plan"))
	}
	if sqliteErr, ok := errors.AsType[*gosqlite.Error](err); ok {
		msg := sqliteErr.Error()
		return strings.Contains(msg, "no such table") || strings.Contains(msg, "no such column")
	}
	return false
}

// stateCell is the current state of a table pair and the lock of the one
// request that re-reads it.
type stateCell struct {
	state     atomic.Pointer[tableState]
	reprobing sync.Mutex
}
