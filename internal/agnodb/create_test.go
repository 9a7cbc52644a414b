package agnodb

import (
	"database/sql"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The tables as agno's schema dicts declare them, written out again here
// (not taken from columns.go) so that a slip in either shows. Each entry is
// "name type" with "!" for NOT NULL; types: v VARCHAR, j JSON(B), b BIGINT,
// t TEXT, p TEXT on PostgreSQL and VARCHAR on SQLite.
var (
	wantSessions2x = []string{"session_id v!", "session_type v!", "agent_id v", "team_id v", "workflow_id v", "user_id v",
		"session_data j", "agent_data j", "team_data j", "workflow_data j", "metadata j", "runs j", "summary j",
		"created_at b!", "updated_at b"}
	wantSessions3 = []string{"session_id v!", "session_type v!", "agent_id v", "team_id v", "workflow_id v", "user_id v",
		"session_data j", "agent_data j", "team_data j", "workflow_data j", "metadata j", "summary j",
		"created_at b!", "updated_at b"}
	wantRuns = []string{"run_id v!", "session_id v!", "run_type v!", "agent_id v", "team_id v", "workflow_id v", "user_id v",
		"parent_run_id v", "status v", "run_index b", "run_data j!", "created_at b!", "updated_at b"}
	wantToolResults = []string{"result_id v!", "namespace v!", "path v!", "session_id v!", "run_id v!", "tool_call_id v!",
		"tool_name v!", "args_hash v!", "content_type v!", "size_bytes b!", "line_count b!", "preview p!", "user_id v",
		"created_at b!", "expires_at b"}
	wantVersions = []string{"table_name v!", "version v!", "created_at v!", "updated_at v"}
	wantFS       = []string{"namespace v!", "path v!", "content t!", "size_bytes b!", "version b!", "created_at b!", "updated_at b"}
)

// expectColumns renders a want list in the catalog's terms for d.
func expectColumns(d Dialect, jsonType string, spec []string) []colInfo {
	pg := map[string]string{"v": "character varying", "j": jsonType, "b": "bigint", "t": "text", "p": "text"}
	lite := map[string]string{"v": "VARCHAR", "j": "JSON", "b": "BIGINT", "t": "TEXT", "p": "VARCHAR"}
	out := make([]colInfo, len(spec))
	for i, s := range spec {
		name, typ, _ := strings.Cut(s, " ")
		notNull := strings.HasSuffix(typ, "!")
		typ = strings.TrimSuffix(typ, "!")
		if d == Postgres {
			typ = pg[typ]
		} else {
			typ = lite[typ]
		}
		out[i] = colInfo{Name: name, Type: typ, NotNull: notNull}
	}
	return out
}

func checkColumns(t *testing.T, db *sql.DB, d Dialect, schema, table, jsonType string, spec []string) {
	t.Helper()
	got := catalogColumns(t, db, d, schema, table)
	want := expectColumns(d, jsonType, spec)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("columns of %s:\ngot  %v\nwant %v", table, got, want)
	}
}

func checkIndexes(t *testing.T, db *sql.DB, d Dialect, schema, table string, want map[string]string) {
	t.Helper()
	if got := catalogIndexes(t, db, d, schema, table); !reflect.DeepEqual(got, want) {
		t.Errorf("indexes of %s:\ngot  %v\nwant %v", table, got, want)
	}
}

func TestCreate_Layouts(t *testing.T) {
	forEachLayout(t, func(t *testing.T, d Dialect, l Layout) {
		db, schema := open(t, d)
		f := Create(t, db, d, l, Options{ToolResults: true, Payloads: true, VersionRows: true})
		if f.Schema != schema || f.Sessions != "agno_sessions" || f.Runs != "agno_runs" || f.SQL != db || f.Layout != l || f.Dialect != d {
			t.Errorf("fixture: got schema %q, tables %q, %q, want %q, agno_sessions, agno_runs", f.Schema, f.Sessions, f.Runs, schema)
		}

		sessionSpec := wantSessions3
		if l == V2 || l == V3Migrated {
			sessionSpec = wantSessions2x
		}
		checkColumns(t, db, d, schema, "agno_sessions", "jsonb", sessionSpec)
		sessionIdx := map[string]string{"idx_agno_sessions_session_type": "session_type", "idx_agno_sessions_created_at": "created_at"}
		runIdx := map[string]string{
			"idx_agno_runs_session_id": "session_id", "idx_agno_runs_run_type": "run_type", "idx_agno_runs_agent_id": "agent_id",
			"idx_agno_runs_team_id": "team_id", "idx_agno_runs_workflow_id": "workflow_id", "idx_agno_runs_user_id": "user_id",
			"idx_agno_runs_status": "status", "idx_agno_runs_created_at": "created_at",
			"idx_agno_runs_session_id_run_index": "session_id,run_index",
		}
		toolIdx := map[string]string{"idx_agno_tool_results_expires_at": "expires_at", "idx_agno_tool_results_session_id_created_at": "session_id,created_at"}
		versionIdx := map[string]string{"idx_agno_schema_versions_created_at": "created_at"}
		if d == Postgres {
			sessionIdx["agno_sessions_pkey"] = "session_id"
			runIdx["agno_runs_pkey"] = "run_id"
			toolIdx["agno_tool_results_pkey"] = "result_id"
			toolIdx["agno_tool_results_uq_tool_results_namespace_path"] = "namespace,path"
			versionIdx["agno_schema_versions_pkey"] = "table_name"
		}
		checkIndexes(t, db, d, schema, "agno_sessions", sessionIdx)

		hasRuns := l == V3 || l == V3Migrated
		if got := tableExists(t, db, d, schema, "agno_runs"); got != hasRuns {
			t.Fatalf("agno_runs exists: got %t, want %t", got, hasRuns)
		}
		if hasRuns {
			checkColumns(t, db, d, schema, "agno_runs", "jsonb", wantRuns)
			checkIndexes(t, db, d, schema, "agno_runs", runIdx)
		}
		checkColumns(t, db, d, schema, "agno_tool_results", "jsonb", wantToolResults)
		checkIndexes(t, db, d, schema, "agno_tool_results", toolIdx)
		checkColumns(t, db, d, schema, "agno_schema_versions", "jsonb", wantVersions)
		checkIndexes(t, db, d, schema, "agno_schema_versions", versionIdx)
		fsSchema := schema
		if d == Postgres {
			fsSchema = "fs"
		}
		checkColumns(t, db, d, fsSchema, "agno_fs", "jsonb", wantFS)

		if d == Postgres {
			want := map[string]string{"agno_sessions_pkey": "p PRIMARY KEY (session_id)"}
			if got := pgConstraints(t, db, schema, "agno_sessions"); !reflect.DeepEqual(got, want) {
				t.Errorf("constraints of agno_sessions: got %v, want %v", got, want)
			}
			if hasRuns {
				want := map[string]string{
					"agno_runs_pkey":            "p PRIMARY KEY (run_id)",
					"agno_runs_session_id_fkey": "f FOREIGN KEY (session_id) REFERENCES " + schema + ".agno_sessions(session_id) ON DELETE CASCADE",
				}
				if got := pgConstraints(t, db, schema, "agno_runs"); !reflect.DeepEqual(got, want) {
					t.Errorf("constraints of agno_runs:\ngot  %v\nwant %v", got, want)
				}
			}
			want = map[string]string{
				"agno_tool_results_pkey":                           "p PRIMARY KEY (result_id)",
				"agno_tool_results_uq_tool_results_namespace_path": "u UNIQUE (namespace, path)",
			}
			if got := pgConstraints(t, db, schema, "agno_tool_results"); !reflect.DeepEqual(got, want) {
				t.Errorf("constraints of agno_tool_results: got %v, want %v", got, want)
			}
			if got := pgConstraints(t, db, "fs", "agno_fs"); got["agno_fs_pkey"] != "p PRIMARY KEY (namespace, path)" {
				t.Errorf("constraints of fs.agno_fs: got %v, want agno_fs_pkey PRIMARY KEY (namespace, path)", got)
			}
		} else {
			for table, wantPK := range map[string]string{"agno_sessions": "session_id", "agno_tool_results": "result_id",
				"agno_schema_versions": "table_name", "agno_fs": "namespace,path"} {
				if pk, _ := sqliteKeys(t, db, table); pk != wantPK {
					t.Errorf("primary key of %s: got %q, want %q", table, pk, wantPK)
				}
			}
			if _, uniques := sqliteKeys(t, db, "agno_tool_results"); !reflect.DeepEqual(uniques, []string{"namespace,path"}) {
				t.Errorf("unique constraints of agno_tool_results: got %v, want [namespace,path]", uniques)
			}
			if hasRuns {
				if pk, _ := sqliteKeys(t, db, "agno_runs"); pk != "run_id" {
					t.Errorf("primary key of agno_runs: got %q, want run_id", pk)
				}
				var table, from, to, onDelete string
				if err := db.QueryRow(`SELECT "table", "from", "to", on_delete FROM pragma_foreign_key_list('agno_runs')`).
					Scan(&table, &from, &to, &onDelete); err != nil {
					t.Fatalf("foreign key of agno_runs: %v", err)
				}
				if table != "agno_sessions" || from != "session_id" || to != "session_id" || onDelete != "CASCADE" {
					t.Errorf("foreign key of agno_runs: got %s → %s(%s) ON DELETE %s, want session_id → agno_sessions(session_id) ON DELETE CASCADE",
						from, table, to, onDelete)
				}
			}
		}
	})
}

func TestCreate_Cascade(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d Dialect) {
		for _, noCascade := range []bool{false, true} {
			t.Run(fmt.Sprintf("NoCascade=%t", noCascade), func(t *testing.T) {
				db, _ := open(t, d)
				f := Create(t, db, d, V3, Options{NoCascade: noCascade})
				f.InsertSession(t, Session{ID: "s1", Type: "agent", AgentID: ptr("a1"), CreatedAt: 1700000000})
				f.InsertRun(t, Run{Data: AgentRun("r1", "s1", "a1", "hi", "hello", 1700000001), Index: ptr[int64](0)})
				if _, err := db.Exec("DELETE FROM " + f.Qualified("agno_sessions") + " WHERE session_id = 's1'"); err != nil {
					t.Fatalf("delete session: %v", err)
				}
				want := int64(0)
				if noCascade {
					want = 1
				}
				if got := f.Count(t, "agno_runs"); got != want {
					t.Errorf("runs left after deleting their session: got %d, want %d", got, want)
				}
				msg := fails(t, func(tb testing.TB) {
					f.InsertRun(tb, Run{Data: AgentRun("r2", "no-such-session", "a1", "hi", "hello", 1700000001)})
				})
				if noCascade && msg != "" {
					t.Errorf("run of a missing session without a foreign key: got failure %q, want it stored", msg)
				}
				if !noCascade && !strings.Contains(strings.ToLower(msg), "foreign key") {
					t.Errorf("run of a missing session: got failure %q, want a foreign key violation", msg)
				}
			})
		}
	})
}

func TestCreate_Names(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d Dialect) {
		db, schema := open(t, d)
		f := Create(t, db, d, V3, Options{Sessions: "team_sessions"})
		if f.Runs != "team_sessions_runs" {
			t.Errorf("runs table of team_sessions: got %q, want team_sessions_runs", f.Runs)
		}
		checkIndexes(t, db, d, schema, "team_sessions_runs", func() map[string]string {
			m := map[string]string{}
			for _, c := range []string{"session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id", "status", "created_at"} {
				m["idx_team_sessions_runs_"+c] = c
			}
			m["idx_team_sessions_runs_session_id_run_index"] = "session_id,run_index"
			if d == Postgres {
				m["team_sessions_runs_pkey"] = "run_id"
			}
			return m
		}())
		if d == Postgres {
			want := "f FOREIGN KEY (session_id) REFERENCES " + schema + ".team_sessions(session_id) ON DELETE CASCADE"
			if got := pgConstraints(t, db, schema, "team_sessions_runs")["team_sessions_runs_session_id_fkey"]; got != want {
				t.Errorf("foreign key: got %q, want %q", got, want)
			}
		}
		// The logical names name the fixture's own tables.
		if got, want := f.Qualified("agno_sessions"), f.Qualified("team_sessions"); got != want {
			t.Errorf("Qualified(agno_sessions): got %s, want %s", got, want)
		}
		if got, want := f.Qualified("agno_runs"), f.Qualified("team_sessions_runs"); got != want {
			t.Errorf("Qualified(agno_runs): got %s, want %s", got, want)
		}
		wantQ := `"team_sessions_runs"`
		if d == Postgres {
			wantQ = `"` + schema + `"."team_sessions_runs"`
		}
		if got := f.Qualified("agno_runs"); got != wantQ {
			t.Errorf("Qualified(agno_runs): got %s, want %s", got, wantQ)
		}

		other := Create(t, db, d, V3, Options{Sessions: "a", Runs: "b"})
		if other.Runs != "b" || !tableExists(t, db, d, schema, "b") {
			t.Errorf("explicit runs table: got %q, want b created", other.Runs)
		}
	})
	for sessions, want := range map[string]string{"agno_sessions": "agno_runs", "x": "x_runs", "agno_runs": "agno_runs_runs"} {
		if got := DefaultRunsFor(sessions); got != want {
			t.Errorf("DefaultRunsFor(%q): got %q, want %q", sessions, got, want)
		}
	}
}

func TestCreate_PostgresOptions(t *testing.T) {
	t.Parallel()
	t.Run("JSONType", func(t *testing.T) {
		t.Parallel()
		db, schema := openPostgres(t)
		Create(t, db, Postgres, V3Migrated, Options{JSONType: "json"})
		checkColumns(t, db, Postgres, schema, "agno_sessions", "json", wantSessions2x)
		// agno 3.0 creates the runs table itself: run_data is jsonb.
		checkColumns(t, db, Postgres, schema, "agno_runs", "jsonb", wantRuns)
	})
	t.Run("Legacy2_5", func(t *testing.T) {
		t.Parallel()
		db, schema := openPostgres(t)
		f := Create(t, db, Postgres, V3Migrated, Options{Legacy2_5: true, JSONType: "json"})
		want := map[string]string{"agno_sessions_uq_session_id": "u UNIQUE (session_id)"}
		if got := pgConstraints(t, db, schema, "agno_sessions"); !reflect.DeepEqual(got, want) {
			t.Errorf("constraints of agno_sessions: got %v, want %v", got, want)
		}
		// The runs table's foreign key works against the unique constraint.
		f.InsertSession(t, Session{ID: "s1", Type: "agent", CreatedAt: 1})
		f.InsertRun(t, Run{Data: AgentRun("r1", "s1", "a1", "q", "a", 2)})
		if _, err := db.Exec("DELETE FROM " + f.Qualified("agno_sessions")); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if got := f.Count(t, "agno_runs"); got != 0 {
			t.Errorf("runs after deleting the session: got %d, want 0", got)
		}
	})
	t.Run("Schema", func(t *testing.T) {
		t.Parallel()
		db, _ := openPostgres(t)
		name := fmt.Sprintf("agnodb_ai_%d", randomSuffix(t, db))
		t.Run("Created", func(t *testing.T) {
			f := Create(t, db, Postgres, V3, Options{Schema: name})
			if f.Schema != name || !tableExists(t, db, Postgres, name, "agno_runs") {
				t.Errorf("schema: got %q with runs table %t, want %q with it", f.Schema, tableExists(t, db, Postgres, name, "agno_runs"), name)
			}
			if got, want := f.Qualified("agno_sessions"), `"`+name+`"."agno_sessions"`; got != want {
				t.Errorf("Qualified: got %s, want %s", got, want)
			}
		})
		var left bool
		if err := db.QueryRow("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", name).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left {
			t.Errorf("schema %s after its test ended: still there, want it dropped", name)
		}
	})
}

// randomSuffix returns a number no other test run is likely to use.
func randomSuffix(t testing.TB, db *sql.DB) int64 {
	var n int64
	if err := db.QueryRow("SELECT (random() * 1e15)::bigint").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreate_RejectsShapesAgnoNeverMade(t *testing.T) {
	db := openSQLite(t)
	tests := []struct {
		name string
		d    Dialect
		l    Layout
		o    Options
		want string
	}{
		{"Legacy2_5OnV3", SQLite, V3, Options{Legacy2_5: true}, "no runs column"},
		{"JSONOnV3BeforeFirstRun", SQLite, V3BeforeFirstRun, Options{JSONType: "json"}, "no runs column"},
		{"UnknownJSONType", SQLite, V2, Options{JSONType: "text"}, "JSONType"},
		{"UnknownLayout", SQLite, "1.x", Options{}, "layout"},
		{"UnknownDialect", "mysql", V2, Options{}, "dialect"},
		{"SameNames", SQLite, V3, Options{Sessions: "s", Runs: "s"}, "both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := fails(t, func(tb testing.TB) { Create(tb, db, tt.d, tt.l, tt.o) })
			if !strings.Contains(msg, tt.want) {
				t.Errorf("got failure %q, want one mentioning %q", msg, tt.want)
			}
		})
	}
	if tableExists(t, db, SQLite, "", "agno_sessions") {
		t.Errorf("a rejected Create left agno_sessions behind")
	}
}

var isoTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$`)

func TestCreate_VersionRows(t *testing.T) {
	tests := []struct {
		name string
		l    Layout
		o    Options
		want map[string]string // nil: no versions table
	}{
		{"V2", V2, Options{}, map[string]string{"agno_sessions": "2.5.6"}},
		{"V3", V3, Options{}, map[string]string{"agno_sessions": "3.0.0", "agno_runs": "3.0.0"}},
		{"V3Migrated", V3Migrated, Options{ToolResults: true}, map[string]string{"agno_sessions": "3.0.0", "agno_runs": "3.0.0", "agno_tool_results": "3.0.0"}},
		{"V3BeforeFirstRun", V3BeforeFirstRun, Options{}, map[string]string{"agno_sessions": "3.0.0"}},
		{"Legacy2_5", V2, Options{Legacy2_5: true}, map[string]string{"agno_sessions": "2.3.0"}},
		{"JSON", V2, Options{JSONType: "json", Legacy2_5: true}, nil},
		{"JSONUnmigratedWithRunsTable", V3Migrated, Options{JSONType: "json", Legacy2_5: true}, map[string]string{"agno_runs": "3.0.0"}},
		{"CustomNames", V3, Options{Sessions: "s"}, map[string]string{"s": "3.0.0", "s_runs": "3.0.0"}},
	}
	forEachDialect(t, func(t *testing.T, d Dialect) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				db, schema := open(t, d)
				o := tt.o
				o.VersionRows = true
				f := Create(t, db, d, tt.l, o)
				if tt.want == nil {
					if tableExists(t, db, d, schema, "agno_schema_versions") {
						t.Errorf("agno_schema_versions: exists, want none (agno before 2.3.0 kept no versions)")
					}
					return
				}
				got := versions(t, f)
				if len(got) != len(tt.want) {
					t.Errorf("version rows: got %v, want %v", got, tt.want)
				}
				for table, v := range tt.want {
					if got[table].version != v {
						t.Errorf("version of %s: got %q, want %q", table, got[table].version, v)
					}
				}
				for table, r := range got {
					if !isoTimestamp.MatchString(r.created) || r.updated != r.created {
						t.Errorf("timestamps of %s: got %q, %q, want one ISO datetime twice", table, r.created, r.updated)
					}
				}
			})
		}
		t.Run("SetVersion", func(t *testing.T) {
			db, _ := open(t, d)
			f := Create(t, db, d, V3Migrated, Options{VersionRows: true})
			before := versions(t, f)["agno_sessions"]
			mustExec(t, db, "UPDATE "+f.Qualified("agno_schema_versions")+" SET created_at = '2026-01-01T00:00:00', updated_at = '2026-01-01T00:00:00'")
			f.SetVersion(t, "agno_sessions", "2.5.6")
			after := versions(t, f)["agno_sessions"]
			if after.version != "2.5.6" || after.created != "2026-01-01T00:00:00" || after.updated == after.created || !isoTimestamp.MatchString(after.updated) {
				t.Errorf("after SetVersion: got %+v (before %+v), want version 2.5.6, created_at kept, updated_at now", after, before)
			}
			// On a fixture without version rows it creates the table.
			g := Create(t, db, d, V2, Options{Sessions: "plain"})
			g.SetVersion(t, "plain", "2.5.6")
			if got := versions(t, g)["plain"].version; got != "2.5.6" {
				t.Errorf("SetVersion on a fixture without versions: got %q, want 2.5.6", got)
			}
		})
	})
}

type versionRow struct{ version, created, updated string }

func versions(t testing.TB, f *DB) map[string]versionRow {
	t.Helper()
	rows, err := f.SQL.Query("SELECT table_name, version, created_at, updated_at FROM " + f.Qualified("agno_schema_versions"))
	if err != nil {
		t.Fatalf("versions: %v", err)
	}
	defer rows.Close()
	out := make(map[string]versionRow)
	for rows.Next() {
		var name string
		var r versionRow
		if err := rows.Scan(&name, &r.version, &r.created, &r.updated); err != nil {
			t.Fatalf("versions: %v", err)
		}
		out[name] = r
	}
	return out
}

func TestAgnoAccepts(t *testing.T) {
	want := map[Layout][2]bool{
		V2:               {true, true},  // 3.0 takes a 2.x table: its 14 are a subset; no runs table yet
		V3:               {false, true}, // 2.x needs runs
		V3Migrated:       {true, true},
		V3BeforeFirstRun: {false, true},
	}
	forEachLayout(t, func(t *testing.T, d Dialect, l Layout) {
		db, schema := open(t, d)
		f := Create(t, db, d, l, Options{})
		accepts := func() [2]bool {
			v2, v3 := AgnoAccepts(t, db, d, schema, "agno_sessions", "agno_runs")
			return [2]bool{v2, v3}
		}
		if got := accepts(); got != want[l] {
			t.Errorf("AgnoAccepts: got %v, want %v", got, want[l])
		}
		// Extra columns change nothing: agno checks names it needs.
		mustExec(t, db, "ALTER TABLE "+f.Qualified("agno_sessions")+" ADD COLUMN extra VARCHAR")
		if got := accepts(); got != want[l] {
			t.Errorf("AgnoAccepts with an extra column: got %v, want %v", got, want[l])
		}
		if l.HasRunsTable() {
			mustExec(t, db, "ALTER TABLE "+f.Qualified("agno_runs")+" DROP COLUMN parent_run_id")
			if got, w := accepts(), [2]bool{want[l][0], false}; got != w {
				t.Errorf("AgnoAccepts with runs lacking parent_run_id: got %v, want %v", got, w)
			}
		}
		mustExec(t, db, "ALTER TABLE "+f.Qualified("agno_sessions")+" DROP COLUMN summary")
		if got := accepts(); got != [2]bool{false, false} {
			t.Errorf("AgnoAccepts with sessions lacking summary: got %v, want [false false]", got)
		}
		if v2, v3 := AgnoAccepts(t, db, d, schema, "no_such_table", ""); v2 || v3 {
			t.Errorf("AgnoAccepts on a missing table: got %t, %t, want false, false", v2, v3)
		}
	})
	t.Run("CurrentSchemaAndDefaultRuns", func(t *testing.T) {
		db, _ := openPostgres(t)
		f := Create(t, db, Postgres, V3, Options{Sessions: "s"})
		mustExec(t, db, "ALTER TABLE "+f.Qualified("s_runs")+" DROP COLUMN run_index")
		if v2, v3 := AgnoAccepts(t, db, Postgres, "", "s", ""); v2 || v3 {
			t.Errorf("AgnoAccepts with s_runs lacking run_index: got %t, %t, want false, false", v2, v3)
		}
	})
	if got, want := len(SessionColumns2x), 15; got != want {
		t.Errorf("SessionColumns2x: got %d names, want %d", got, want)
	}
	if got, want := len(SessionColumns3), 14; got != want {
		t.Errorf("SessionColumns3: got %d names, want %d", got, want)
	}
	if got, want := len(RunColumns3), 13; got != want {
		t.Errorf("RunColumns3: got %d names, want %d", got, want)
	}
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
