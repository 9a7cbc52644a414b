package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// DefaultApplicationName is the application_name PostgreSQL shows for the
// server's connections unless ConnSettings or the URL names another.
const DefaultApplicationName = "agentos-sessions"

// DefaultMaxOpenConns is the pool size per PostgreSQL database when
// ConnSettings leaves it at zero.
const DefaultMaxOpenConns = 20

// ConnSettings tune the connections the store opens to PostgreSQL. The zero
// value means the defaults. Parameters a database URL sets itself win.
type ConnSettings struct {
	// ApplicationName is sent at connection start-up, so operators (and
	// tests) can find this server's backends in pg_stat_activity.
	ApplicationName string
	// StatementTimeout bounds every statement, and so how long one request
	// can hold row locks. It is a start-up parameter of each connection,
	// not a SET statement per request. Zero leaves the server's setting.
	StatementTimeout time.Duration
	// MaxOpenConns is the most connections the pool opens to one database;
	// as many are kept idle, so a busy server does not reconnect.
	MaxOpenConns int
}

// SessionParams are the start-up parameters of every connection the store
// opens to PostgreSQL, unless the URL sets them: jit off. The planner
// compiles a statement whose estimated cost passes jit_above_cost, and a
// page of 1,000 sessions with its names' subqueries does: on 100,000
// sessions, compiling it took 280–380 ms of a 350–490 ms statement that
// runs in 60–130 ms without it. The store's statements are short and
// index-driven; none gains from it.
// Benchmarks open their floor connections with the same parameters.
func SessionParams() map[string]string { return map[string]string{"jit": "off"} }

// openPostgres opens a pool to PostgreSQL with s applied.
func openPostgres(dsn string, s ConnSettings) (*sql.DB, error) {
	pgcfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if _, set := pgcfg.RuntimeParams["application_name"]; !set {
		name := s.ApplicationName
		if name == "" {
			name = DefaultApplicationName
		}
		pgcfg.RuntimeParams["application_name"] = name
	}
	for k, v := range SessionParams() {
		if _, set := pgcfg.RuntimeParams[k]; !set {
			pgcfg.RuntimeParams[k] = v
		}
	}
	if _, set := pgcfg.RuntimeParams["statement_timeout"]; !set && s.StatementTimeout > 0 {
		pgcfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(s.StatementTimeout.Milliseconds(), 10)
	}
	// A pooled connection whose backend died (pg_terminate_backend, a
	// restarted server, a cut network) is only noticed when it is read.
	// As it leaves the pool it is pinged if it sat idle for a second or
	// more (pgx's own rule), or if its socket already has something to read
	// (socketDead: the FATAL message and end of file a terminated backend
	// leaves behind). A failed ping is driver.ErrBadConn, on which
	// database/sql takes another connection before anything of the request
	// was sent. A busy pool so costs no round trip per request. A
	// connection lost later, mid-statement, is an error and never retried:
	// whether its commit happened is unknown.
	sqlDB := stdlib.OpenDB(*pgcfg, stdlib.OptionShouldPing(shouldPing))
	n := s.MaxOpenConns
	if n <= 0 {
		n = DefaultMaxOpenConns
	}
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	return sqlDB, nil
}

// shouldPing decides whether a connection is pinged as it leaves the pool.
func shouldPing(_ context.Context, p stdlib.ShouldPingParams) bool {
	return p.IdleDuration >= time.Second || socketDead(p.Conn.PgConn().Conn())
}

// PingError is a database that did not answer Catalog.Ping.
type PingError struct {
	DatabaseID string
	Err        error
}

func (e *PingError) Error() string { return fmt.Sprintf("ping database %q: %v", e.DatabaseID, e.Err) }

func (e *PingError) Unwrap() error { return e.Err }

// Ping checks, concurrently, that every configured database answers. It
// returns nil, or one *PingError per database that did not, joined, in
// configuration order.
func (c *Catalog) Ping(ctx context.Context) error {
	errs := make([]error, len(c.databases))
	var wg sync.WaitGroup
	for i, d := range c.databases {
		wg.Go(func() {
			if err := d.sqlDB.PingContext(ctx); err != nil {
				errs[i] = &PingError{DatabaseID: d.id, Err: err}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
