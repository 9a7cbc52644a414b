package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/agnodb"
)

func seedEarlier(t *testing.T, db *sql.DB, q func(string) string) { agnodb.SeedEarlier(t, db, q) }

// checkUpgraded checks a converted pair through the store and with raw SQL.
func checkUpgraded(t *testing.T, c *Catalog, db *sql.DB, d agnodb.Dialect, schema string) {
	t.Helper()
	ctx := context.Background()
	tbl := resolve(t, c, "")
	list, total, err := tbl.ListSessions(ctx, ListFilter{SortBy: "created_at", Limit: 10, Page: 1})
	if err != nil || total != 3 || ids(list)[0] != "a" {
		t.Fatalf("sessions after the upgrade: %v, %d, %v", ids(list), total, err)
	}
	_, runs, err := tbl.ListRuns(ctx, "a", Owner{}, RunFilter{})
	if err != nil {
		t.Fatalf("ListRuns: %v", err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, fmt.Sprintf("%s#%d %s %v %v %v", r.ID, *r.Index, *r.Type, r.Data["agent_id"], r.Data["status"], deref(r.UserID)))
	}
	want := []string{
		"a-1#0 agent other-agent ERROR u1",
		"a-2#1 agent helper COMPLETED u1",
		"a-3#2 agent helper <nil> u1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("runs of a:\ngot  %v\nwant %v", got, want)
	}
	if runs[1].Data["run_input"] != "Second" || runs[1].Data["session_id"] != "a" || runs[1].Data["run_id"] != "a-2" {
		t.Errorf("run_data of a-2: got %v, want the caller's keys and agno's", runs[1].Data)
	}
	if _, r, err := tbl.GetRun(ctx, "t", "t-1", Owner{}); err != nil || r.Data["team_id"] != "planners" || *r.Type != "team" {
		t.Errorf("t-1: %v, %v", r.Data, err)
	}
	if v2, v3 := agnodb.AgnoAccepts(t, db, d, schema, "agno_sessions", "agno_runs"); !v2 || !v3 {
		t.Errorf("agno's column checks after the upgrade: 2.x %t, 3.0 %t", v2, v3)
	}
	// The runs table is keyed by run_id, as agno's.
	_, err = tbl.CreateRun(ctx, Run{ID: "a-1", SessionID: "w", WorkflowID: ptr("blog"), CreatedAt: 1}, Owner{})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("a run id of another session after the upgrade: got %v, want ErrConflict", err)
	}
}

func TestUpgrade_EarlierLayout(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		url := newURL(t)
		db, d := rawDB(t, url)
		earlierSchema := schemaOf(url)
		q := func(name string) string {
			if earlierSchema == "" {
				return quoteIdent(name)
			}
			return quoteIdent(earlierSchema) + "." + quoteIdent(name)
		}
		earlierLayout(t, db, q)
		seedEarlier(t, db, q)
		// The earlier release created its tables on the search_path; the
		// configured schema is another, as agno's ai would be.
		cfg := dbConfig(url)
		if d == agnodb.Postgres {
			cfg.Schema = earlierSchema + "_ai"
			t.Cleanup(func() { _, _ = db.Exec("DROP SCHEMA IF EXISTS " + quoteIdent(cfg.Schema) + " CASCADE") })
		}
		if _, err := Open(ctx, []DatabaseConfig{cfg}, nil); !errors.Is(err, ErrEarlierLayout) {
			t.Fatalf("Open before the upgrade: got %v, want ErrEarlierLayout", err)
		}
		before := catalogObjects(t, db, d, earlierSchema)
		var plan bytes.Buffer
		if err := Upgrade(ctx, []DatabaseConfig{cfg}, ConnSettings{}, UpgradeOptions{DryRun: true, Out: &plan, ServerApplicationName: alone(t)}, nil); err != nil {
			t.Fatalf("Upgrade --dry-run: %v", err)
		}
		if !strings.Contains(plan.String(), "convert") {
			t.Errorf("dry-run plan: %q", plan.String())
		}
		if after := catalogObjects(t, db, d, earlierSchema); !slices.Equal(after, before) {
			t.Errorf("--dry-run changed the catalog")
		}
		if err := Upgrade(ctx, []DatabaseConfig{cfg}, ConnSettings{}, UpgradeOptions{ServerApplicationName: alone(t)}, nil); err != nil {
			t.Fatalf("Upgrade: %v", err)
		}
		c, err := Open(ctx, []DatabaseConfig{cfg}, nil)
		if err != nil {
			t.Fatalf("Open after the upgrade: %v", err)
		}
		defer func() { _ = c.Close() }()
		checkUpgraded(t, c, db, d, c.byID["main"].schema)
		// Upgrading again changes nothing.
		if err := Upgrade(ctx, []DatabaseConfig{cfg}, ConnSettings{}, UpgradeOptions{ServerApplicationName: alone(t)}, nil); err != nil {
			t.Fatalf("second Upgrade: %v", err)
		}
		checkUpgraded(t, c, db, d, c.byID["main"].schema)
	})
}

// TestUpgrade_EarlierLayoutInPublic upgrades what an earlier release left
// in a database's public schema into agno's default schema, ai, with no
// schema configured; serve then finds every session and run.
func TestUpgrade_EarlierLayoutInPublic(t *testing.T) {
	ctx := context.Background()
	url := freshPostgresDatabase(t)
	db, d := rawDB(t, url)
	q := func(name string) string { return `"public".` + quoteIdent(name) }
	earlierLayout(t, db, q)
	seedEarlier(t, db, q)
	cfg := DatabaseConfig{ID: "main", URL: url}
	if err := Upgrade(ctx, []DatabaseConfig{cfg}, ConnSettings{}, UpgradeOptions{}, nil); err != nil {
		t.Fatalf("Upgrade: %v", err)
	}
	c, err := Open(ctx, []DatabaseConfig{cfg}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = c.Close() }()
	checkUpgraded(t, c, db, d, DefaultSchema)
	var left int
	if err := db.QueryRow(`SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("tables left in public: %d, %v", left, err)
	}
}

// TestUpgrade_Hybrid converts the runs table today's earlier releases left
// next to agno's own sessions table, and drops only the indexes this server
// added to agno's table.
func TestUpgrade_Hybrid(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		url := newURL(t)
		db, d := rawDB(t, url)
		schema := schemaOf(url)
		f := agnodb.Create(t, db, d, agnodb.V2, agnodb.Options{Schema: schema, VersionRows: true})
		q := f.Qualified
		f.InsertSession(t, agnodb.Session{ID: "a", AgentID: ptr("helper"), UserID: ptr("u1"), SessionData: map[string]any{}, CreatedAt: 100,
			Runs: []map[string]any{agnodb.AgentRun("inline-1", "a", "helper", "Inline question", "Inline answer", 1)}})
		mustExec(t, db, `CREATE TABLE `+q("agno_runs")+` (run_id TEXT NOT NULL, session_id TEXT NOT NULL REFERENCES `+q("agno_sessions")+
			` (session_id) ON DELETE CASCADE, agent_id TEXT, team_id TEXT, workflow_id TEXT, user_id TEXT, parent_run_id TEXT, status TEXT,
			run_data TEXT, created_at BIGINT NOT NULL, updated_at BIGINT, PRIMARY KEY (session_id, run_id))`)
		mustExec(t, db, `INSERT INTO `+q("agno_runs")+` (run_id, session_id, status, run_data, created_at) VALUES ('rec-1', 'a', 'completed', '{"content": "recorded"}', 5)`)
		ours := indexName("agno_sessions", "session_type_created_at")
		mustExec(t, db, `CREATE INDEX `+quoteIdent(ours)+` ON `+q("agno_sessions")+` (session_type, created_at, session_id)`)
		mustExec(t, db, `CREATE TABLE `+q(earlierMigrationsTable)+` (sessions_table TEXT NOT NULL, version INTEGER NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (sessions_table, version))`)
		mustExec(t, db, `INSERT INTO `+q(earlierMigrationsTable)+` VALUES ('agno_sessions', 1, 1), ('agno_sessions', 2, 1)`)
		cfg := dbConfig(url)
		if err := Upgrade(ctx, []DatabaseConfig{cfg}, ConnSettings{}, UpgradeOptions{ServerApplicationName: alone(t)}, nil); err != nil {
			t.Fatalf("Upgrade: %v", err)
		}
		c := openCatalog(t, url)
		_, runs, err := resolve(t, c, "").ListRuns(ctx, "a", Owner{}, RunFilter{})
		if err != nil {
			t.Fatalf("ListRuns: %v", err)
		}
		if got := runIDs(runs); !slices.Equal(got, []string{"inline-1", "rec-1"}) {
			t.Errorf("runs: got %v, want the inline run then the recorded one", got)
		}
		if *runs[1].Index != 1 {
			t.Errorf("rec-1's run_index: got %d, want 1 (after the array's one run)", *runs[1].Index)
		}
		objects := catalogObjects(t, db, d, schema)
		for _, want := range []string{"idx_agno_sessions_session_type", "idx_agno_runs_session_id_run_index", ours} {
			if !slices.ContainsFunc(objects, func(o string) bool { return strings.Contains(o, " "+want+" ") }) {
				t.Errorf("index %s missing after the upgrade", want)
			}
		}
		if slices.ContainsFunc(objects, func(o string) bool { return strings.Contains(o, earlierMigrationsTable) }) {
			t.Errorf("%s is still there", earlierMigrationsTable)
		}
	})
}

// TestUpgrade_Refusals: a run id two sessions share, and (on PostgreSQL) a
// server still connected, each stop the upgrade before it changes
// anything.
func TestUpgrade_Refusals(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		for _, tc := range []string{"SharedRunID", "ServerConnected"} {
			t.Run(tc, func(t *testing.T) {
				url := newURL(t)
				db, d := rawDB(t, url)
				schema := schemaOf(url)
				q := func(name string) string {
					if schema == "" {
						return quoteIdent(name)
					}
					return quoteIdent(schema) + "." + quoteIdent(name)
				}
				earlierLayout(t, db, q)
				seedEarlier(t, db, q)
				opts := UpgradeOptions{ServerApplicationName: alone(t)}
				want := ""
				switch tc {
				case "SharedRunID":
					mustExec(t, db, `INSERT INTO `+q("agno_runs")+` (run_id, session_id, created_at) VALUES ('a-1', 't', 1), ('a-2', 'w', 1)`)
					want = `2 run id(s) are used by more than one session of agno_sessions (agno keys runs by run_id alone): "a-1", "a-2"`
				case "ServerConnected":
					if d != agnodb.Postgres {
						t.Skip("SQLite has no connections to look at: stop the server before migrate")
					}
					opts.ServerApplicationName = "agentos-test-" + randomSuffix(t)
					server, err := sql.Open("pgx", url+"&application_name="+opts.ServerApplicationName)
					if err != nil {
						t.Fatal(err)
					}
					defer func() { _ = server.Close() }()
					if err := server.Ping(); err != nil {
						t.Fatal(err)
					}
					want = fmt.Sprintf(`1 connection(s) named %q (a running agentos-sessions) are open on the database`, opts.ServerApplicationName)
				}
				before := catalogObjects(t, db, d, schema)
				rowsBefore := tableCounts(t, db, q)
				err := Upgrade(ctx, []DatabaseConfig{dbConfig(url)}, ConnSettings{}, opts, nil)
				if !errors.Is(err, ErrUpgradeRefused) || !strings.Contains(err.Error(), want) {
					t.Errorf("Upgrade: got %v, want a refusal saying %q", err, want)
				}
				if after := catalogObjects(t, db, d, schema); !slices.Equal(after, before) {
					t.Errorf("a refused upgrade changed the catalog")
				}
				if after := tableCounts(t, db, q); !maps.Equal(after, rowsBefore) {
					t.Errorf("a refused upgrade changed rows: %v, then %v", rowsBefore, after)
				}
			})
		}
	})
}

func tableCounts(t *testing.T, db *sql.DB, q func(string) string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"agno_sessions", "agno_runs", earlierMigrationsTable} {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM " + q(table)).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// alone is a server application name no other test uses: the shared
// test database may have servers of other test runs connected, which an
// upgrade looking for the default name would (rightly) refuse to run
// beside.
func alone(t *testing.T) string {
	return "agentos-upgrade-test-" + randomSuffix(t)
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}
