// Package testkit is the one kit of the tests that go through HTTP: a
// server under test over real databases, built by server.NewServer as main
// builds it (NewAPI, NewAPIWith), the one way rows are put in its tables
// behind its back (Seed), the one way its database configurations are
// made (Database), PostgreSQL's view of its connections, and a spawned
// server binary (Spawn). Fresh databases come from internal/testdb.
package testkit

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/agentos-sessions/agentos-sessions/handlers"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// NewURL makes a fresh, empty database of one kind and returns its URL.
type NewURL func(testing.TB) string

// EachBackend runs test once over PostgreSQL (a fresh schema per NewURL
// call) and once over SQLite (a fresh file), as parallel subtests.
func EachBackend(t *testing.T, test func(t *testing.T, newURL NewURL)) {
	t.Helper()
	for name, newURL := range map[string]NewURL{"postgres": testdb.PostgresURL, "sqlite": testdb.SQLiteURL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, newURL)
		})
	}
}

// Database is the configuration of a database under test: its id, URL and
// session tables (store.DefaultTables when none). Every database the kit
// opens is configured here.
func Database(id, url string, tables ...store.TablePair) store.DatabaseConfig {
	return store.DatabaseConfig{ID: id, URL: url, Schema: testdb.Schema(url), Tables: tables}
}

// Options are what a test sets about the server under test; the zero value
// is main's defaults over an open API.
type Options struct {
	// Config is the server's; zero limits are the defaults.
	Config server.Config
	// Conn are the connection settings the store opens with.
	Conn store.ConnSettings
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
	// Resolver, when set, stands in for the databases: a hand-written fake
	// of the store, for failures a real database cannot be made to produce
	// on demand. No database is opened then.
	Resolver handlers.Resolver
}

// NewAPI serves one database, id "default", at url with the default
// tables, configured as cfg says (zero limits are the defaults).
func NewAPI(t testing.TB, url string, cfg server.Config) *API {
	t.Helper()
	return NewAPIWith(t, Options{Config: cfg}, Database("default", url))
}

// NewAPIWith serves dbs (or opts.Resolver) through the whole stack
// server.NewServer builds, with a direct connection to each database for
// checking its rows. Both are closed when the test ends. It is the one
// place a server under test is built.
func NewAPIWith(t testing.TB, opts Options, dbs ...store.DatabaseConfig) *API {
	t.Helper()
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg := opts.Config
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = server.DefaultMaxBatch
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = server.DefaultMaxBodyBytes
	}
	resolver := opts.Resolver
	if resolver == nil {
		catalog, err := store.OpenWith(context.Background(), dbs, opts.Conn, log)
		if err != nil {
			t.Fatalf("testkit: open store: %v", err)
		}
		t.Cleanup(func() { _ = catalog.Close() })
		resolver = catalog
	}
	e, err := server.NewServer(cfg, resolver, log)
	if err != nil {
		t.Fatalf("testkit: new server: %v", err)
	}
	a := &API{Handler: e, DB: make(map[string]*gorm.DB, len(dbs)), router: responseRouter(t)}
	for _, d := range dbs {
		a.DB[d.ID] = Open(t, d.URL)
	}
	return a
}

// Open returns a direct connection to the database at url, closed when the
// test ends, for reading and writing rows behind the server's back.
func Open(t testing.TB, url string) *gorm.DB {
	t.Helper()
	dialect, dsn, err := store.ParseURL(url)
	if err != nil {
		t.Fatalf("testkit: parse url: %v", err)
	}
	dial := postgres.Open(dsn)
	if dialect == store.DialectSQLite {
		dial = sqlite.Open(dsn)
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		t.Fatalf("testkit: open %s: %v", url, err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}
