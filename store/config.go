package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Dialects understood by ParseURL.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Names of the default session and run tables, as agno names them.
const (
	DefaultSessionsTable = "agno_sessions"
	DefaultRunsTable     = "agno_runs"
)

// DefaultSchema is the PostgreSQL schema of a database whose configuration
// names none: agno's own default (PostgresDb(db_schema=None) uses "ai").
const DefaultSchema = "ai"

// Names of the tables agno keeps next to the sessions in the same schema,
// and of this server's own bookkeeping table.
const (
	// versionsTable is agno's agno_schema_versions: one row per table agno
	// (or this server) created, with the newest migration it is at.
	versionsTable = "agno_schema_versions"
	// toolResultsTable is agno 3.0's index of offloaded tool output; its
	// name is not configurable in agno.
	toolResultsTable = "agno_tool_results"
	// objectsTable records what this server created in a schema, so that a
	// later release (and `migrate`) can tell its objects from agno's.
	objectsTable = "agentos_sessions_objects"
	// earlierMigrationsTable is where releases before agno's layout
	// recorded their own migrations.
	earlierMigrationsTable = "agentos_schema_migrations"
)

// maxIdentLen is PostgreSQL's identifier limit (NAMEDATALEN-1); longer
// names would be truncated silently, so configuration may not use them.
const maxIdentLen = 63

// sqlitePragmas is the query every SQLite DSN starts with. The driver runs
// each _pragma on every new pooled connection, which is the only way to have
// foreign keys (and so ON DELETE CASCADE) on for all of them. _txlock=immediate
// takes the write lock at BEGIN, so a transaction that reads before it writes
// cannot fail with SQLITE_BUSY when upgrading its lock.
const sqlitePragmas = "_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)&_txlock=immediate"

// TablePair is a configured session table and its runs table.
type TablePair struct {
	Sessions string `yaml:"sessions"`
	// Runs may be left empty: it is then named by agno 3.0's rule (RunsTableFor).
	Runs string `yaml:"runs"`
}

// RunsTableFor is the runs table agno 3.0 pairs with a sessions table when
// none is configured: agno_runs for agno_sessions, <sessions>_runs for any
// other (libs/agno/agno/db/base.py).
func RunsTableFor(sessions string) string {
	if sessions == DefaultSessionsTable {
		return DefaultRunsTable
	}
	return sessions + "_runs"
}

// withDefaults fills in the runs table agno 3.0 would pick.
func (p TablePair) withDefaults() TablePair {
	if p.Runs == "" {
		p.Runs = RunsTableFor(p.Sessions)
	}
	return p
}

// DefaultTables is the pair used by a database whose configuration lists no
// tables. Treat it as a constant.
var DefaultTables = TablePair{Sessions: DefaultSessionsTable, Runs: DefaultRunsTable}

// DatabaseConfig is one configured database.
type DatabaseConfig struct {
	// ID names the database in requests (the db_id query parameter).
	ID string `yaml:"id"`
	// URL is postgres://…, postgresql://…, sqlite://relative/path,
	// sqlite:///absolute/path or sqlite::memory:.
	URL string `yaml:"url"`
	// Schema is the PostgreSQL schema the tables live in; empty means
	// DefaultSchema. A SQLite database has no schema, and naming one is a
	// configuration error.
	Schema string `yaml:"schema"`
	// Tables lists the session tables a request may name. The first pair is
	// the database's default; an empty list means DefaultTables only.
	Tables []TablePair `yaml:"tables"`
}

// tablePairs returns the configured pairs, each with its runs table named,
// or DefaultTables when none are configured.
func (c DatabaseConfig) tablePairs() []TablePair {
	if len(c.Tables) == 0 {
		return []TablePair{DefaultTables}
	}
	pairs := make([]TablePair, len(c.Tables))
	for i, p := range c.Tables {
		pairs[i] = p.withDefaults()
	}
	return pairs
}

// schema returns the schema the database's tables live in: "" on SQLite.
func (c DatabaseConfig) schema(dialect string) string {
	if dialect != DialectPostgres {
		return ""
	}
	if c.Schema == "" {
		return DefaultSchema
	}
	return c.Schema
}

// validateConfigs checks what Open needs before it connects anywhere:
// unique non-empty database ids, and table names that are non-empty,
// distinct within a database, and representable as PostgreSQL identifiers.
func validateConfigs(dbs []DatabaseConfig) error {
	if len(dbs) == 0 {
		return errors.New("no databases configured")
	}
	ids := make(map[string]struct{}, len(dbs))
	for i, db := range dbs {
		if db.ID == "" {
			return fmt.Errorf("database %d: empty id", i+1)
		}
		if _, dup := ids[db.ID]; dup {
			return fmt.Errorf("database %q: duplicate id", db.ID)
		}
		ids[db.ID] = struct{}{}
		if db.URL == "" {
			return fmt.Errorf("database %q: empty url", db.ID)
		}
		if db.Schema != "" {
			if dialect, _, err := ParseURL(db.URL); err == nil && dialect != DialectPostgres {
				return fmt.Errorf("database %q: schema %q is for PostgreSQL; a SQLite database has no schemas, so remove it", db.ID, db.Schema)
			}
			if err := checkTableName(db.Schema); err != nil {
				return fmt.Errorf("database %q: schema: %w", db.ID, err)
			}
		}
		names := map[string]struct{}{versionsTable: {}, toolResultsTable: {}, objectsTable: {}, earlierMigrationsTable: {}}
		for j, pair := range db.tablePairs() {
			for _, name := range []struct{ role, name string }{{"sessions", pair.Sessions}, {"runs", pair.Runs}} {
				if err := checkTableName(name.name); err != nil {
					return fmt.Errorf("database %q: table pair %d: %s table: %w", db.ID, j+1, name.role, err)
				}
				if _, dup := names[name.name]; dup {
					return fmt.Errorf("database %q: table pair %d: table name %q used twice (or reserved)", db.ID, j+1, name.name)
				}
				names[name.name] = struct{}{}
			}
		}
	}
	return nil
}

func checkTableName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case len(name) > maxIdentLen:
		return fmt.Errorf("name %q longer than %d bytes", name, maxIdentLen)
	case strings.ContainsRune(name, 0):
		return errors.New("name contains a NUL byte")
	}
	return nil
}

// ParseURL maps a database URL to a dialect (DialectPostgres or
// DialectSQLite) and the DSN its driver takes. PostgreSQL URLs are passed
// through; SQLite URLs become a file path (or :memory:) followed by the
// pragmas every connection needs, then any query the URL carried.
func ParseURL(raw string) (dialect string, dsn string, err error) {
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		scheme = ""
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if !strings.HasPrefix(rest, "//") {
			return "", "", fmt.Errorf("postgres URL must start with %s://", scheme)
		}
		// pgx only recognises the lower-case schemes as URLs.
		return DialectPostgres, strings.ToLower(scheme) + ":" + rest, nil
	case "sqlite":
		var path string
		switch {
		case strings.HasPrefix(rest, "//"):
			path = strings.TrimPrefix(rest, "//")
		case strings.HasPrefix(rest, ":memory:"):
			path = rest
		default:
			return "", "", errors.New("sqlite URL must be sqlite://path, sqlite:///absolute/path or sqlite::memory:") //nolint:staticcheck // ST1005: the final colon is part of the URL sqlite::memory:
		}
		path, query, _ := strings.Cut(path, "?")
		if path == "" {
			return "", "", errors.New("sqlite URL has no file path")
		}
		dsn = path + "?" + sqlitePragmas
		if query != "" {
			dsn += "&" + query
		}
		return DialectSQLite, dsn, nil
	default:
		return "", "", fmt.Errorf("unsupported database URL scheme %q (want postgres://, postgresql:// or sqlite://)", scheme)
	}
}

// isMemoryDSN reports whether a SQLite DSN names an in-memory database,
// which exists only as long as its one connection does.
func isMemoryDSN(dsn string) bool {
	path, _, _ := strings.Cut(dsn, "?")
	return path == ":memory:"
}

// urlSecrets returns the spellings in which the password of a database URL
// may appear in an error message, each with the text to put in its place.
// Each spelling includes the delimiters around the password, so that a
// short password does not blank out unrelated words.
func urlSecrets(raw string) *strings.Replacer {
	var pws []string
	if u, err := url.Parse(raw); err == nil {
		if pw, ok := u.User.Password(); ok {
			pws = append(pws, pw)
		}
		pws = append(pws, u.Query()["password"]...)
	} else if _, after, ok := strings.Cut(raw, "://"); ok {
		// An unparseable URL may still carry user:password@.
		if userinfo, _, ok := strings.Cut(after, "@"); ok {
			if _, pw, ok := strings.Cut(userinfo, ":"); ok {
				pws = append(pws, pw)
			}
		}
	}
	var pairs []string
	for _, pw := range pws {
		if pw == "" {
			continue
		}
		for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
			pairs = append(pairs,
				":"+form+"@", ":xxxxx@",
				"password="+form, "password=xxxxx",
			)
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return strings.NewReplacer(pairs...)
}

// redactedError hides secrets in a wrapped error's text while keeping it
// reachable for errors.Is and errors.As.
type redactedError struct {
	err     error
	secrets *strings.Replacer
}

func (e *redactedError) Error() string { return e.secrets.Replace(e.err.Error()) }

func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err so its message cannot reveal the password in rawURL.
func redact(err error, rawURL string) error {
	if err == nil {
		return nil
	}
	secrets := urlSecrets(rawURL)
	if secrets == nil {
		return err
	}
	return &redactedError{err: err, secrets: secrets}
}
