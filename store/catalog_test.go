package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
)

func TestParseURL(t *testing.T) {
	const pragmas = "?" + sqlitePragmas
	for _, tc := range []struct {
		url         string
		wantDialect string
		wantDSN     string
		wantErr     string
	}{
		{url: "postgres://u:p@db:5432/x?sslmode=disable", wantDialect: DialectPostgres, wantDSN: "postgres://u:p@db:5432/x?sslmode=disable"},
		{url: "postgresql://db/x", wantDialect: DialectPostgres, wantDSN: "postgresql://db/x"},
		{url: "POSTGRES://db/x", wantDialect: DialectPostgres, wantDSN: "postgres://db/x"},
		{url: "sqlite://data/sessions.db", wantDialect: DialectSQLite, wantDSN: "data/sessions.db" + pragmas},
		{url: "sqlite:///var/lib/agno/sessions.db", wantDialect: DialectSQLite, wantDSN: "/var/lib/agno/sessions.db" + pragmas},
		{url: "sqlite:///tmp/x.db?_pragma=synchronous(NORMAL)", wantDialect: DialectSQLite, wantDSN: "/tmp/x.db" + pragmas + "&_pragma=synchronous(NORMAL)"},
		{url: "sqlite::memory:", wantDialect: DialectSQLite, wantDSN: ":memory:" + pragmas},
		{url: "sqlite://:memory:", wantDialect: DialectSQLite, wantDSN: ":memory:" + pragmas},
		{url: "sqlite://", wantErr: "no file path"},
		{url: "sqlite:data.db", wantErr: "sqlite URL must be"},
		{url: "postgres:db", wantErr: "must start with postgres://"},
		{url: "mysql://db/x", wantErr: `unsupported database URL scheme "mysql" (want postgres://, postgresql:// or sqlite://)`},
		{url: "/var/lib/x.db", wantErr: `unsupported database URL scheme ""`},
		{url: "", wantErr: `unsupported database URL scheme ""`},
	} {
		t.Run(tc.url, func(t *testing.T) {
			dialect, dsn, err := ParseURL(tc.url)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error: got %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if dialect != tc.wantDialect || dsn != tc.wantDSN {
				t.Errorf("got (%q, %q), want (%q, %q)", dialect, dsn, tc.wantDialect, tc.wantDSN)
			}
		})
	}
}

func TestCatalog_Resolve(t *testing.T) {
	ctx := context.Background()
	single, err := Open(ctx, []DatabaseConfig{{ID: "solo", URL: "sqlite::memory:"}}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = single.Close() })
	multi, err := Open(ctx, []DatabaseConfig{
		{ID: "a", URL: "sqlite::memory:", Tables: []TablePair{{"first", "first_runs"}, {"second", "second_runs"}}},
		{ID: "b", URL: "sqlite::memory:"},
	}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = multi.Close() })

	for _, tc := range []struct {
		name      string
		catalog   *Catalog
		dbID      string
		table     string
		wantDB    string
		wantTable string
		wantErr   error
	}{
		{"SingleNoParams", single, "", "", "solo", "agno_sessions", nil},
		{"SingleByID", single, "solo", "", "solo", "agno_sessions", nil},
		{"SingleByIDAndTable", single, "solo", "agno_sessions", "solo", "agno_sessions", nil},
		{"SingleTableWithoutDB", single, "", "agno_sessions", "", "", ErrTableNeedsDatabase},
		{"SingleUnknownDB", single, "nope", "", "", "", ErrDatabaseNotFound},
		{"SingleUnknownTable", single, "solo", "agno_runs", "", "", ErrTableNotFound},
		{"TableNameIsExact", single, "solo", "AGNO_SESSIONS", "", "", ErrTableNotFound},
		{"MultiNoParams", multi, "", "", "", "", ErrDatabaseAmbiguous},
		{"MultiTableWithoutDB", multi, "", "second", "", "", ErrTableNeedsDatabase},
		{"MultiDefaultIsFirstPair", multi, "a", "", "a", "first", nil},
		{"MultiSecondPair", multi, "a", "second", "a", "second", nil},
		{"MultiOtherDBDefault", multi, "b", "", "b", "agno_sessions", nil},
		{"MultiTableOfOtherDB", multi, "b", "second", "", "", ErrTableNotFound},
		{"MultiUnknownDB", multi, "c", "first", "", "", ErrDatabaseNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.catalog.Resolve(tc.dbID, tc.table)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error: got %v, want %v", err, tc.wantErr)
				}
				if s != nil {
					t.Errorf("Sessions: got %v, want nil", s)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			got := s.(*sessionsTable)
			if got.db.id != tc.wantDB || got.names.Sessions != tc.wantTable {
				t.Errorf("got %s/%s, want %s/%s", got.db.id, got.names.Sessions, tc.wantDB, tc.wantTable)
			}
		})
	}
}

func TestOpen_Errors(t *testing.T) {
	mem := "sqlite::memory:"
	for _, tc := range []struct {
		name    string
		dbs     []DatabaseConfig
		wantErr string
	}{
		{"NoDatabases", nil, "no databases configured"},
		{"EmptyID", []DatabaseConfig{{URL: mem}}, "database 1: empty id"},
		{"DuplicateID", []DatabaseConfig{{ID: "a", URL: mem}, {ID: "a", URL: mem}}, `database "a": duplicate id`},
		{"EmptyURL", []DatabaseConfig{{ID: "a"}}, `database "a": empty url`},
		{"EmptySessionsTable", []DatabaseConfig{{ID: "a", URL: mem, Tables: []TablePair{{Runs: "r"}}}}, "sessions table: empty name"},
		{"SchemaOnSQLite", []DatabaseConfig{{ID: "a", URL: mem, Schema: "ai"}}, `database "a": schema "ai" is for PostgreSQL; a SQLite database has no schemas, so remove it`},
		{"RunsNamedLikeDefault", []DatabaseConfig{{ID: "a", URL: mem, Tables: []TablePair{{Sessions: "s"}, {"s_runs", "r"}}}}, `table name "s_runs" used twice`},
		{"DuplicateSessionsTable", []DatabaseConfig{{ID: "a", URL: mem, Tables: []TablePair{{"s", "r1"}, {"s", "r2"}}}}, `table name "s" used twice`},
		{"SharedRunsTable", []DatabaseConfig{{ID: "a", URL: mem, Tables: []TablePair{{"s1", "r"}, {"s2", "r"}}}}, `table name "r" used twice`},
		{"RunsSameAsSessions", []DatabaseConfig{{ID: "a", URL: mem, Tables: []TablePair{{"s", "s"}}}}, `table name "s" used twice`},
		{"ReservedName", []DatabaseConfig{{ID: "a", URL: mem, Tables: []TablePair{{versionsTable, "r"}}}}, "used twice (or reserved)"},
		{"TooLong", []DatabaseConfig{{ID: "a", URL: mem, Tables: []TablePair{{strings.Repeat("s", 64), "r"}}}}, "longer than 63 bytes"},
		{"UnsupportedScheme", []DatabaseConfig{{ID: "a", URL: "mysql://u:hunter2@db/x"}}, `database "a": unsupported database URL scheme "mysql"`},
		{"MissingDirectory", []DatabaseConfig{{ID: "a", URL: "sqlite:///nonexistent-dir/x/y.db"}}, `open database "a": ping: `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Open(context.Background(), tc.dbs, nil)
			if err == nil {
				_ = c.Close()
				t.Fatalf("error: got nil, want one containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error: got %q, want one containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error: got %q, which leaks the password", err)
			}
		})
	}
}

func TestOpen_HidesPassword(t *testing.T) {
	for _, url := range []string{
		"postgres://agno:hunter2@127.0.0.1:1/x?sslmode=disable&connect_timeout=2",
		"postgres://agno@127.0.0.1:1/x?sslmode=disable&connect_timeout=2&password=hunter2",
		"postgresql://agno:hunter2@127.0.0.1:notaport/x",
		"postgres://agno:hunter2@[::1/x",
	} {
		t.Run(url, func(t *testing.T) {
			c, err := Open(context.Background(), []DatabaseConfig{dbConfig(url)}, nil)
			if err == nil {
				_ = c.Close()
				t.Fatal("error: got nil, want a connection error")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error: got %q, which leaks the password", err)
			}
			if !strings.HasPrefix(err.Error(), `open database "main": `) {
				t.Errorf("error: got %q, want it prefixed %q", err, `open database "main": `)
			}
		})
	}
}

func TestStore_SQLiteMemory(t *testing.T) {
	c := openCatalog(t, "sqlite::memory:")
	if got := c.byID["main"].sqlDB.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("max open connections: got %d, want 1", got)
	}
	pair := DefaultTables
	seed(t, c, pair, session{ID: "a", Type: "agent", Runs: 2}, session{ID: "b", Type: "agent", Runs: 1})
	got, err := resolve(t, c, "").DeleteSessions(context.Background(), []SessionKey{{"a", "agent"}}, DeleteOptions{Report: true})
	if err != nil {
		t.Fatalf("DeleteSessions: %v", err)
	}
	checkDeleted(t, got, "a/agent:2")
	checkRemaining(t, c, pair, map[string]int64{"b": 1})
}

func TestStore_SQLiteForeignKeysOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	c := openCatalog(t, testdb.SQLiteURL(t))
	db := c.byID["main"].sqlDB
	pair := DefaultTables
	const conns = 4
	seed(t, c, pair,
		session{ID: "s0", Type: "agent", Runs: 2}, session{ID: "s1", Type: "agent", Runs: 2},
		session{ID: "s2", Type: "agent", Runs: 2}, session{ID: "s3", Type: "agent", Runs: 2},
	)
	// Hold all the connections at once, so that each is a distinct one.
	for i := range conns {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatalf("Conn: %v", err)
		}
		defer func() { _ = conn.Close() }()
		var fk int
		var journal string
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatalf("PRAGMA foreign_keys: %v", err)
		}
		if fk != 1 {
			t.Errorf("connection %d: foreign_keys: got %d, want 1", i, fk)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
			t.Fatalf("PRAGMA journal_mode: %v", err)
		}
		if journal != "wal" {
			t.Errorf("connection %d: journal_mode: got %q, want wal", i, journal)
		}
		// The cascade itself, on this connection.
		id := "s" + string(rune('0'+i))
		if _, err := conn.ExecContext(ctx, `DELETE FROM "agno_sessions" WHERE session_id = ?1`, id); err != nil {
			t.Fatalf("connection %d: delete: %v", i, err)
		}
		var runs int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM "agno_runs" WHERE session_id = ?1`, id).Scan(&runs); err != nil {
			t.Fatalf("connection %d: count runs: %v", i, err)
		}
		if runs != 0 {
			t.Errorf("connection %d: runs of deleted session: got %d, want 0", i, runs)
		}
	}
	if got := db.Stats().OpenConnections; got < conns {
		t.Errorf("open connections: got %d, want at least %d", got, conns)
	}
}
