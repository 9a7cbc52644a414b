package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Catalog holds the open databases and their configured table pairs.
type Catalog struct {
	databases []*database // in configuration order
	byID      map[string]*database
}

// database is one open database.
type database struct {
	id      string
	dialect string
	// schema is the PostgreSQL schema of the tables; "" on SQLite.
	schema string
	db     *gorm.DB
	sqlDB  *sql.DB
	tables []*sessionsTable // in configuration order; the first is the default
	byName map[string]*sessionsTable
	logger *slog.Logger
}

// qualified is a table of the database's schema, quoted: "schema"."name"
// on PostgreSQL, "name" on SQLite.
func (d *database) qualified(name string) string {
	if d.schema == "" {
		return quoteIdent(name)
	}
	return quoteIdent(d.schema) + "." + quoteIdent(name)
}

// placeholder returns the n-th (1-based) bind parameter in d's dialect.
func (d *database) placeholder(n int) string {
	if d.dialect == DialectPostgres {
		return "$" + strconv.Itoa(n)
	}
	return "?" + strconv.Itoa(n)
}

// Open connects to every configured database, checks that it answers, and
// finds the layout of each of its table pairs: agno 2.x's, agno 3.0's, or
// nothing yet, in which case it creates agno 3.0's (see Prepare). A pair in
// this server's earlier layout (ErrEarlierLayout) or in none it knows
// (ErrUnexpectedLayout) is refused. Configuration mistakes (empty or
// duplicate ids, empty or duplicate table names, a schema for SQLite,
// unknown URL schemes) are reported before anything is opened. Error
// messages never contain the password of a database URL.
func Open(ctx context.Context, dbs []DatabaseConfig, logger *slog.Logger) (*Catalog, error) {
	return OpenWith(ctx, dbs, ConnSettings{}, logger)
}

// OpenWith is Open with connection settings for the PostgreSQL databases.
func OpenWith(ctx context.Context, dbs []DatabaseConfig, settings ConnSettings, logger *slog.Logger) (*Catalog, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c, err := openWith(ctx, dbs, settings, logger)
	if err != nil {
		return nil, err
	}
	for _, d := range c.databases {
		if err := d.prepare(ctx); err != nil {
			return nil, errors.Join(err, c.Close())
		}
	}
	return c, nil
}

func openWith(ctx context.Context, dbs []DatabaseConfig, settings ConnSettings, logger *slog.Logger) (*Catalog, error) {
	if err := validateConfigs(dbs); err != nil {
		return nil, err
	}
	type parsed struct{ dialect, dsn string }
	urls := make([]parsed, len(dbs))
	for i, cfg := range dbs {
		dialect, dsn, err := ParseURL(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("database %q: %w", cfg.ID, redact(err, cfg.URL))
		}
		urls[i] = parsed{dialect, dsn}
	}
	c := &Catalog{byID: make(map[string]*database, len(dbs))}
	for i, cfg := range dbs {
		d, err := openDatabase(ctx, cfg, urls[i].dialect, urls[i].dsn, settings)
		if err == nil {
			d.logger = logger
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open database %q: %w", cfg.ID, redact(err, cfg.URL)), c.Close())
		}
		c.databases = append(c.databases, d)
		c.byID[d.id] = d
	}
	return c, nil
}

// openDatabase connects to one database and pings it.
func openDatabase(ctx context.Context, cfg DatabaseConfig, dialect, dsn string, settings ConnSettings) (*database, error) {
	var sqlDB *sql.DB
	switch dialect {
	case DialectPostgres:
		var err error
		if sqlDB, err = openPostgres(dsn, settings); err != nil {
			return nil, err
		}
	case DialectSQLite:
		var err error
		if sqlDB, err = sql.Open(sqlite.DriverName, dsn); err != nil {
			return nil, err
		}
		if isMemoryDSN(dsn) {
			// Every connection to :memory: is a database of its own, so
			// there must be exactly one, and it must never be closed.
			sqlDB.SetMaxOpenConns(1)
			sqlDB.SetMaxIdleConns(1)
			sqlDB.SetConnMaxLifetime(0)
			sqlDB.SetConnMaxIdleTime(0)
		} else {
			sizePool(sqlDB, sqlitePoolSize())
		}
	default:
		return nil, fmt.Errorf("unsupported dialect %q", dialect)
	}
	d, err := newDatabase(ctx, cfg, dialect, sqlDB)
	if err == nil && dialect == DialectSQLite && !isMemoryDSN(dsn) {
		err = enableWAL(ctx, sqlDB)
	}
	if err != nil {
		return nil, errors.Join(err, sqlDB.Close())
	}
	return d, nil
}

// enableWAL puts a SQLite file in WAL mode, so that readers run while a
// bulk delete writes. The mode is stored in the file, so it is set once, not
// per connection. Switching needs the file to itself: when another process
// opening it at the same moment holds it, SQLite answers busy at once
// instead of waiting, so the switch is retried for a while.
func enableWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil {
			return nil
		}
		sqliteErr, busy := errors.AsType[*gosqlite.Error](err)
		if time.Now().After(deadline) || !busy || sqliteErr.Code()&0xff != sqliteBusy {
			return fmt.Errorf("enable WAL: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("enable WAL: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// newDatabase pings an open connection pool and wraps it for cfg's tables.
func newDatabase(ctx context.Context, cfg DatabaseConfig, dialect string, sqlDB *sql.DB) (*database, error) {
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("ping: %w", err)
	}
	var dialector gorm.Dialector
	if dialect == DialectPostgres {
		dialector = postgres.New(postgres.Config{Conn: sqlDB})
	} else {
		dialector = &sqlite.Dialector{Conn: sqlDB}
	}
	gdb, err := gorm.Open(dialector, &gorm.Config{
		Logger:               logger.Default.LogMode(logger.Silent),
		DisableAutomaticPing: true,
	})
	if err != nil {
		return nil, err
	}
	d := &database{
		id:      cfg.ID,
		dialect: dialect,
		schema:  cfg.schema(dialect),
		db:      gdb,
		sqlDB:   sqlDB,
		byName:  make(map[string]*sessionsTable),
		logger:  slog.New(slog.DiscardHandler),
	}
	for _, pair := range cfg.tablePairs() {
		t := newSessionsTable(d, pair)
		d.tables = append(d.tables, t)
		d.byName[pair.Sessions] = t
	}
	return d, nil
}

// Resolve returns the session table a request names. An empty dbID or table
// means the parameter was absent. It returns ErrTableNeedsDatabase when a
// table is named without a database, ErrDatabaseAmbiguous when no database
// is named and several are configured, ErrDatabaseNotFound for an unknown
// database id, and ErrTableNotFound for a table that is not one of that
// database's configured session tables. Without a table it returns the
// database's first configured pair.
func (c *Catalog) Resolve(dbID, table string) (Sessions, error) {
	var d *database
	switch {
	case dbID == "" && table != "":
		return nil, ErrTableNeedsDatabase
	case dbID == "" && len(c.databases) > 1:
		return nil, ErrDatabaseAmbiguous
	case dbID == "" && len(c.databases) == 1:
		d = c.databases[0]
	default:
		var ok bool
		if d, ok = c.byID[dbID]; !ok {
			return nil, fmt.Errorf("database %q: %w", dbID, ErrDatabaseNotFound)
		}
	}
	if table == "" {
		return d.tables[0], nil
	}
	t, ok := d.byName[table]
	if !ok {
		return nil, fmt.Errorf("database %q table %q: %w", d.id, table, ErrTableNotFound)
	}
	return t, nil
}

// Close closes every database. It is safe to call on a partly opened
// Catalog.
func (c *Catalog) Close() error {
	var errs []error
	for _, d := range c.databases {
		if err := d.sqlDB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database %q: %w", d.id, err))
		}
	}
	return errors.Join(errs...)
}
