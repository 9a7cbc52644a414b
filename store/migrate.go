package store

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"gorm.io/gorm"
)

// migrationFiles holds one file per schema version, named NNNN_what.sql.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock every migration holds, so
// that replicas starting together apply each version once, one at a time.
const migrationLockKey int64 = 0x6167656e746f73 // "agentos"

// migration is one schema version, its statements still templates.
type migration struct {
	version    int
	name       string
	statements []*template.Template
}

// migrationData fills a migration template for one table pair and dialect.
type migrationData struct {
	Sessions string // quoted session table name
	Runs     string // quoted runs table name
	JSON     string // column type for JSON documents
	sessions string // unquoted session table name, for index names
}

// loadMigrations parses the embedded migration files, ordered by version.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	migrations := make([]migration, 0, len(names))
	seen := make(map[int]string, len(names))
	for _, name := range names {
		base := path.Base(name)
		prefix, _, _ := strings.Cut(base, "_")
		version, err := strconv.Atoi(prefix)
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version number", base)
		}
		if other, dup := seen[version]; dup {
			return nil, fmt.Errorf("migration %s: version %d already used by %s", base, version, other)
		}
		seen[version] = base
		src, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		m := migration{version: version, name: base}
		// Split the template source, not the rendered SQL: a quoted table
		// name may itself contain ";\n".
		for i, chunk := range strings.Split(string(src), ";\n") {
			if isBlankSQL(chunk) {
				continue
			}
			tmpl, err := template.New(fmt.Sprintf("%s#%d", base, i+1)).Option("missingkey=error").Parse(chunk)
			if err != nil {
				return nil, fmt.Errorf("parse migration %s: %w", base, err)
			}
			m.statements = append(m.statements, tmpl)
		}
		migrations = append(migrations, m)
	}
	slices.SortFunc(migrations, func(a, b migration) int { return a.version - b.version })
	return migrations, nil
}

// isBlankSQL reports whether a chunk holds nothing but whitespace and
// line comments.
func isBlankSQL(chunk string) bool {
	for line := range strings.SplitSeq(chunk, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "--") {
			return false
		}
	}
	return true
}

// Index returns the quoted name of the session table's index on suffix.
func (d migrationData) Index(suffix string) string {
	return quoteIdent(indexName(d.sessions, suffix))
}

// render fills a statement template for one table pair.
func render(tmpl *template.Template, data migrationData) (string, error) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// migrate brings every table pair of d up to the newest schema version.
func (d *database) migrate(ctx context.Context, migrations []migration, logger *slog.Logger) error {
	for _, t := range d.tables {
		if err := d.migratePair(ctx, migrations, t.names, logger); err != nil {
			return fmt.Errorf("migrate database %q table %q: %w", d.id, t.names.Sessions, err)
		}
	}
	return nil
}

// migratePair applies, in one transaction, the versions not yet recorded
// for pair. On PostgreSQL the transaction first takes an advisory lock, so a
// concurrent migrator waits and then finds the versions recorded.
func (d *database) migratePair(ctx context.Context, migrations []migration, pair TablePair, logger *slog.Logger) error {
	data := migrationData{
		Sessions: quoteIdent(pair.Sessions),
		Runs:     quoteIdent(pair.Runs),
		JSON:     "JSONB",
		sessions: pair.Sessions,
	}
	if d.dialect == DialectSQLite {
		data.JSON = "TEXT"
	}
	p := d.placeholder
	return d.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		conn := tx.Statement.ConnPool
		if d.dialect == DialectPostgres {
			// Waiting for another replica's migration, and building an
			// index on a large table, may outlast the statement timeout
			// meant for requests.
			if _, err := conn.ExecContext(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
				return fmt.Errorf("lift statement timeout: %w", err)
			}
			if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_xact_lock("+p(1)+")", migrationLockKey); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		create := "CREATE TABLE IF NOT EXISTS " + quoteIdent(migrationsTable) + ` (
    sessions_table TEXT NOT NULL,
    version        INTEGER NOT NULL,
    applied_at     BIGINT NOT NULL,
    PRIMARY KEY (sessions_table, version)
)`
		if _, err := conn.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("create %s: %w", migrationsTable, err)
		}
		applied, err := appliedVersions(ctx, conn, p, pair.Sessions)
		if err != nil {
			return err
		}
		for _, m := range migrations {
			if applied[m.version] {
				continue
			}
			for _, tmpl := range m.statements {
				sql, err := render(tmpl, data)
				if err != nil {
					return fmt.Errorf("render %s: %w", m.name, err)
				}
				if _, err := conn.ExecContext(ctx, sql); err != nil {
					return fmt.Errorf("apply %s: %w", m.name, err)
				}
			}
			record := "INSERT INTO " + quoteIdent(migrationsTable) +
				" (sessions_table, version, applied_at) VALUES (" + p(1) + ", " + p(2) + ", " + p(3) + ")"
			if _, err := conn.ExecContext(ctx, record, pair.Sessions, m.version, time.Now().Unix()); err != nil {
				return fmt.Errorf("record %s: %w", m.name, err)
			}
			logger.InfoContext(ctx, "applied migration",
				"database", d.id, "sessions_table", pair.Sessions, "runs_table", pair.Runs, "version", m.version)
		}
		return nil
	})
}

func appliedVersions(ctx context.Context, conn gorm.ConnPool, p func(int) string, sessions string) (map[int]bool, error) {
	rows, err := conn.QueryContext(ctx,
		"SELECT version FROM "+quoteIdent(migrationsTable)+" WHERE sessions_table = "+p(1), sessions)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", migrationsTable, err)
	}
	defer rows.Close()
	applied := make(map[int]bool)
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read %s: %w", migrationsTable, err)
		}
		applied[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", migrationsTable, err)
	}
	return applied, nil
}
