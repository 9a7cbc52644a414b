package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/glebarez/sqlite" // the "sqlite" database/sql driver
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/agentos-sessions/agentos-sessions/internal/benchdata"
	"github.com/agentos-sessions/agentos-sessions/internal/spawn"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// backend is one database with the spawned server in front of it and the
// raw-SQL baseline beside it.
type backend struct {
	name    string
	dialect string
	server  *server
	// reset empties both tables; seed inserts rows; settle brings the
	// planner's statistics up to date after seeding; rawDelete is the baseline: one transaction with
	// one DELETE of the given ids, runs going by ON DELETE CASCADE; left
	// counts the sessions and runs still in the tables.
	reset     func(ctx context.Context) error
	seed      benchdata.Exec
	settle    func(ctx context.Context) error
	rawDelete func(ctx context.Context, ids []string) (int64, error)
	left      func(ctx context.Context) (int64, error)
	close     func()
}

func openBackend(ctx context.Context, name string, opts options) (*backend, error) {
	switch name {
	case "postgres":
		return openPostgres(ctx, opts)
	case "sqlite":
		return openSQLite(ctx, opts)
	}
	return nil, fmt.Errorf("unknown backend %q (want postgres or sqlite)", name)
}

// openPostgres creates a schema of its own on the server, so that the run
// can share that server with test runs.
func openPostgres(ctx context.Context, opts options) (*backend, error) {
	dbURL, drop, err := testdb.NewSchema(ctx, opts.postgresURL, "bench_")
	if err != nil {
		return nil, err
	}
	dropSchema := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = drop(ctx)
	}
	srv, err := startServer(ctx, opts.serverBin, dbURL)
	if err != nil {
		dropSchema()
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		srv.stop()
		dropSchema()
		return nil, err
	}
	cfg.MaxConns = int32(opts.clients)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		srv.stop()
		dropSchema()
		return nil, err
	}
	return &backend{
		name: "postgres", dialect: store.DialectPostgres, server: srv,
		// A truncated table gives each set it seeds contiguous fresh pages,
		// where a table with holes from earlier rounds would place the set
		// seeded first into the freed space and the second at the end, and
		// one of them would delete faster for that alone.
		reset: func(ctx context.Context) error {
			_, err := pool.Exec(ctx, "TRUNCATE agno_sessions, agno_runs")
			return err
		},
		seed: func(ctx context.Context, query string, args ...any) error {
			_, err := pool.Exec(ctx, query, args...)
			return err
		},
		// Without fresh statistics a connection keeps the plan of the
		// cascade's foreign-key query it made while the tables were nearly
		// empty (a sequential scan of the runs per deleted session), and a
		// 10k delete on it took 1.8 s instead of 0.2 s: a measure of when the
		// table was last analyzed, not of the delete.
		// The checkpoint starts both deletes from the same place: each pays
		// for the first change of its own pages after one (full-page
		// images in the WAL), rather than whichever follows a checkpoint
		// that happened to fall in its round.
		settle: func(ctx context.Context) error {
			_, err := pool.Exec(ctx, "ANALYZE agno_sessions, agno_runs")
			if err == nil {
				_, err = pool.Exec(ctx, "CHECKPOINT")
			}
			return err
		},
		rawDelete: func(ctx context.Context, ids []string) (int64, error) {
			var n int64
			err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				tag, err := tx.Exec(ctx, "DELETE FROM agno_sessions WHERE session_id = ANY($1)", ids)
				n = tag.RowsAffected()
				return err
			})
			return n, err
		},
		left: func(ctx context.Context) (int64, error) {
			var n int64
			err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM agno_sessions) + (SELECT count(*) FROM agno_runs)").Scan(&n)
			return n, err
		},
		close: func() { pool.Close(); srv.stop(); dropSchema() },
	}, nil
}

// openSQLite puts the database in a temporary directory. The baseline
// opens the file the way the server does (foreign keys on, busy timeout,
// BEGIN IMMEDIATE) and reads the ids from one JSON array with json_each.
func openSQLite(ctx context.Context, opts options) (*backend, error) {
	dir, err := os.MkdirTemp("", "agentos-bench-")
	if err != nil {
		return nil, err
	}
	dbURL := "sqlite://" + filepath.Join(dir, "bench.db")
	srv, err := startServer(ctx, opts.serverBin, dbURL) // creates and migrates the file
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	_, dsn, err := store.ParseURL(dbURL)
	if err == nil {
		var db *sql.DB
		if db, err = sql.Open("sqlite", dsn); err == nil {
			return &backend{
				name: "sqlite", dialect: store.DialectSQLite, server: srv,
				// Every round leaves both tables empty, and the order in
				// which the two sets are seeded alternates.
				reset: func(context.Context) error { return nil },
				seed: func(ctx context.Context, query string, args ...any) error {
					_, err := db.ExecContext(ctx, query, args...)
					return err
				},
				settle: func(context.Context) error { return nil },
				rawDelete: func(ctx context.Context, ids []string) (int64, error) {
					idsJSON, err := json.Marshal(ids)
					if err != nil {
						return 0, err
					}
					tx, err := db.BeginTx(ctx, nil)
					if err != nil {
						return 0, err
					}
					res, err := tx.ExecContext(ctx, "DELETE FROM agno_sessions WHERE session_id IN (SELECT value FROM json_each(?1))", string(idsJSON))
					if err != nil {
						return 0, errors.Join(err, tx.Rollback())
					}
					n, _ := res.RowsAffected()
					return n, tx.Commit()
				},
				left: func(ctx context.Context) (int64, error) {
					var n int64
					err := db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM agno_sessions) + (SELECT count(*) FROM agno_runs)").Scan(&n)
					return n, err
				},
				close: func() { _ = db.Close(); srv.stop(); _ = os.RemoveAll(dir) },
			}, nil
		}
	}
	srv.stop()
	_ = os.RemoveAll(dir)
	return nil, err
}

// server is a spawned agentos-sessions process.
type server struct {
	*spawn.Server
}

// startServer spawns the binary over dbURL, without a security key, and
// returns once it listens.
func startServer(ctx context.Context, bin, dbURL string) (*server, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("server binary %s: %w (run make build)", bin, err)
	}
	s, err := spawn.Start(ctx, bin, spawn.Options{Args: testdb.ServeArgs(dbURL), Env: []string{"OS_SECURITY_KEY="}})
	if err != nil {
		return nil, err
	}
	return &server{s}, nil
}

func (s *server) stop() { _ = s.Stop(10 * time.Second) }

// resetPeakRSS makes the kernel forget the process's peak resident set, so
// that the next peakRSS reads the peak since now (Linux: clear_refs 5).
func (s *server) resetPeakRSS() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.Pid()), []byte("5"), 0)
}

// peakRSS is the process's peak resident set size in bytes (VmHWM).
func (s *server) peakRSS() (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.Pid()))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}
