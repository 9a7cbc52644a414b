package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	neturl "net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentos-sessions/agentos-sessions/internal/agnodb"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
)

// Tests of the store on agno's own tables: built by internal/agnodb from
// agno's column lists (never from this package), filled with raw SQL in
// agno's encodings, then read and deleted through the store.

// agnoLayouts are the layouts agno leaves a table pair in.
var agnoLayouts = []agnodb.Layout{agnodb.V2, agnodb.V3, agnodb.V3Migrated, agnodb.V3BeforeFirstRun}

// rawDB opens url with database/sql and no server code in between, for a
// fixture to write into.
func rawDB(t testing.TB, url string) (*sql.DB, agnodb.Dialect) {
	t.Helper()
	return agnodb.OpenURL(t, url)
}

// agnoFixture creates agno's tables of layout l in a fresh database of
// newURL's dialect (on PostgreSQL in the test's own schema) and returns
// the fixture and the database's URL.
func agnoFixture(t *testing.T, newURL newURL, l agnodb.Layout, o agnodb.Options) (*agnodb.DB, string) {
	t.Helper()
	url := newURL(t)
	db, d := rawDB(t, url)
	o.Schema = schemaOf(url)
	o.VersionRows = true
	return agnodb.Create(t, db, d, l, o), url
}

// insertWithRuns inserts a session and its runs where the fixture's layout
// keeps runs: the inline array (V2), the runs table at run_index 0, 1, …
// (V3), both (V3Migrated: agno's 3.0.0 migration copies the array into
// the table and keeps it), or nowhere (V3BeforeFirstRun has no runs yet).
func insertWithRuns(t *testing.T, f *agnodb.DB, s agnodb.Session, runs ...map[string]any) {
	t.Helper()
	if f.Layout.HasRunsColumn() {
		s.Runs = runs
	}
	f.InsertSession(t, s)
	if !f.Layout.HasRunsTable() {
		return
	}
	for i, r := range runs {
		f.InsertRun(t, agnodb.Run{Index: ptr(int64(i)), Data: r, UserID: s.UserID})
	}
}

// catalogObjects lists the tables, indexes and columns of the fixture's
// schema (or file), to show that opening and using the store changed no
// DDL of agno's.
func catalogObjects(t *testing.T, db *sql.DB, d agnodb.Dialect, schema string) []string {
	t.Helper()
	q := `SELECT c.relkind::text || ' ' || c.relname || ' ' || COALESCE(a.attname, '') FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = $1 AND c.relkind IN ('r', 'i')`
	args := []any{schema}
	if d == agnodb.SQLite {
		q = `SELECT m.type || ' ' || m.name || ' ' || COALESCE(c.name, '') FROM sqlite_master AS m
LEFT JOIN pragma_table_info(m.name) AS c ON m.type = 'table' WHERE m.type IN ('table', 'index')`
		args = nil
	}
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("read catalog: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("read catalog: %v", err)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func TestStore_AgnoLayouts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		for _, l := range agnoLayouts {
			t.Run(string(l), func(t *testing.T) {
				ctx := context.Background()
				f, url := agnoFixture(t, newURL, l, agnodb.Options{})
				before := catalogObjects(t, f.SQL, f.Dialect, f.Schema)

				insertWithRuns(t, f, agnodb.Session{ID: "a1", AgentID: ptr("helper"), UserID: ptr("u1"), SessionData: map[string]any{}, CreatedAt: 100, UpdatedAt: ptr(int64(100))},
					agnodb.IntroductionRun("a1-r0", "a1", "helper", "Hi, I can help.", 100),
					agnodb.AgentRun("a1-r1", "a1", "helper", "What is the capital of France?", "Paris.", 101),
					agnodb.AgentRun("a1-r2", "a1", "helper", "And of Spain?", "Madrid.", 102))
				insertWithRuns(t, f, agnodb.Session{ID: "t1", TeamID: ptr("planners"), SessionData: map[string]any{}, CreatedAt: 200, UpdatedAt: ptr(int64(200))},
					agnodb.TeamRun("t1-r0", "t1", "planners", "Plan a trip to Kyoto", "Here is a plan.", 200),
					agnodb.MemberRun("t1-r1", "t1", "researcher", "t1-r0", "Find hotels in Kyoto", "Three hotels.", 201))
				insertWithRuns(t, f, agnodb.Session{ID: "w1", WorkflowID: ptr("blog"), SessionData: map[string]any{},
					WorkflowData: map[string]any{"workflow_id": "blog", "name": "BlogGenerator"}, CreatedAt: 300, UpdatedAt: ptr(int64(300))},
					agnodb.WorkflowRun("w1-r0", "w1", "blog", "Write about Go", 300))
				insertWithRuns(t, f, agnodb.Session{ID: "named", AgentID: ptr("helper"), SessionData: map[string]any{"session_name": "Given"}, CreatedAt: 400, UpdatedAt: ptr(int64(400))},
					agnodb.AgentRun("named-r0", "named", "helper", "Question", "Answer", 400))

				c := openCatalog(t, url)
				s := resolve(t, c, "")
				withRuns := l != agnodb.V3BeforeFirstRun

				got, total, err := s.ListSessions(ctx, ListFilter{SortBy: "created_at", Limit: 10, Page: 1})
				if err != nil {
					t.Fatalf("ListSessions: %v", err)
				}
				names := map[string]string{}
				for _, sess := range got {
					names[sess.ID] = sess.Name
				}
				want := map[string]string{"a1": "What is the capital of France?", "t1": "Plan a trip to Kyoto", "w1": "Write about Go", "named": "Given"}
				if !withRuns {
					want = map[string]string{"a1": "", "t1": "", "w1": "", "named": "Given"}
				}
				if total != 4 || !maps.Equal(names, want) {
					t.Errorf("names: got %v (total %d), want %v", names, total, want)
				}

				_, runs, err := s.ListRuns(ctx, "a1", Owner{}, RunFilter{})
				if err != nil {
					t.Fatalf("ListRuns: %v", err)
				}
				wantRuns := []string{"a1-r0", "a1-r1", "a1-r2"}
				if !withRuns {
					wantRuns = []string{}
				}
				if got := runIDs(runs); !slices.Equal(got, wantRuns) {
					t.Errorf("runs of a1: got %v, want %v", got, wantRuns)
				}
				if withRuns {
					if _, r, err := s.GetRun(ctx, "a1", "a1-r1", Owner{UserID: ptr("u1")}); err != nil || r.Data["content"] != "Paris." {
						t.Errorf("GetRun(a1-r1): got %v, %v; want the run whose content is Paris.", r.Data["content"], err)
					}
				}

				res, err := s.DeleteSessions(ctx, []SessionKey{{"a1", "agent"}, {"t1", "team"}, {"w1", "agent"}}, DeleteOptions{Report: true})
				if err != nil {
					t.Fatalf("DeleteSessions: %v", err)
				}
				// The team session's member run has an agent_id, so both of
				// its runs are listed and counted; w1 is not an agent session.
				wantDeleted := []string{"a1/agent:3", "t1/team:2"}
				if !withRuns {
					wantDeleted = []string{"a1/agent:0", "t1/team:0"}
				}
				checkDeleted(t, res, wantDeleted...)
				if err := s.DeleteSession(ctx, "named", Owner{}); err != nil {
					t.Fatalf("DeleteSession: %v", err)
				}
				if got := f.Count(t, f.Sessions); got != 1 {
					t.Errorf("sessions left: got %d, want 1 (w1)", got)
				}
				if l.HasRunsTable() {
					if got := f.Count(t, f.Runs); got != 1 {
						t.Errorf("runs left in the runs table: got %d, want 1 (w1's)", got)
					}
				}
				if after := catalogObjects(t, f.SQL, f.Dialect, f.Schema); !slices.Equal(after, before) {
					t.Errorf("the store changed agno's tables:\nbefore %v\nafter  %v", before, after)
				}
				v2, v3 := agnodb.AgnoAccepts(t, f.SQL, f.Dialect, f.Schema, f.Sessions, f.Runs)
				if v3 != true || v2 != l.HasRunsColumn() {
					t.Errorf("agno's column checks after use: 2.x %t, 3.0 %t", v2, v3)
				}
			})
		}
	})
}

// TestStore_FreshLayoutIsAgnos opens an empty database: the store creates
// a pair that passes both agno versions' column checks, with agno's index
// names and version rows, and records what it created.
func TestStore_FreshLayoutIsAgnos(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		url := newURL(t)
		c := openCatalog(t, url)
		db, d := rawDB(t, url)
		schema := schemaOf(url)
		v2, v3 := agnodb.AgnoAccepts(t, db, d, schema, "agno_sessions", "agno_runs")
		if !v2 || !v3 {
			t.Errorf("agno's column checks on a fresh database: 2.x %t, 3.0 %t, want both", v2, v3)
		}
		objects := catalogObjects(t, db, d, schema)
		for _, want := range []string{
			"idx_agno_sessions_session_type", "idx_agno_sessions_created_at",
			"idx_agno_runs_session_id", "idx_agno_runs_run_type", "idx_agno_runs_agent_id", "idx_agno_runs_team_id",
			"idx_agno_runs_workflow_id", "idx_agno_runs_user_id", "idx_agno_runs_status", "idx_agno_runs_created_at",
			"idx_agno_runs_session_id_run_index", "idx_agno_schema_versions_created_at",
		} {
			if !slices.ContainsFunc(objects, func(o string) bool { return strings.Contains(o, " "+want+" ") }) {
				t.Errorf("index %s missing from %v", want, objects)
			}
		}
		versions := map[string]string{}
		rows, err := db.Query("SELECT table_name, version, created_at FROM " + c.byID["main"].qualified(versionsTable))
		if err != nil {
			t.Fatalf("read versions: %v", err)
		}
		defer rows.Close()
		for rows.Next() {
			var table, version, created string
			if err := rows.Scan(&table, &version, &created); err != nil {
				t.Fatal(err)
			}
			versions[table] = version
			if !strings.Contains(created, "T") {
				t.Errorf("version row created_at %q: want an ISO timestamp", created)
			}
		}
		if want := map[string]string{"agno_sessions": "2.5.6", "agno_runs": "3.0.0"}; !maps.Equal(versions, want) {
			t.Errorf("version rows: got %v, want %v", versions, want)
		}
		indexes := 2 + len(listIndexes) + 9
		if d == agnodb.Postgres {
			indexes++ // the session_name filter's trigram index
			if !slices.ContainsFunc(objects, func(o string) bool { return strings.Contains(o, " agno_sessions_session_name_trgm_idx ") }) {
				t.Errorf("trigram index missing from %v", objects)
			}
		}
		if n := countRows(t, c, objectsTable); n != int64(2+indexes) {
			t.Errorf("objects recorded as this server's: got %d, want the 2 tables and their %d indexes", n, indexes)
		}
	})
}

// TestStore_AgnoSessionNames pins the names AgentOS gives unnamed
// sessions (agno's own tests, reference §8), on every layout with runs.
func TestStore_AgnoSessionNames(t *testing.T) {
	intro := func(id, s string) map[string]any {
		return agnodb.IntroductionRun(id, s, "helper", "Hello! How can I help?", 1)
	}
	agent := func(id, s, msg string) map[string]any { return agnodb.AgentRun(id, s, "helper", msg, "Sure.", 2) }
	noUser := func(id, s string) map[string]any {
		r := agnodb.AgentRun(id, s, "helper", "ignored", "Sure.", 3)
		delete(r, "input")
		r["messages"] = []any{agnodb.Message(id, 0, "assistant", "Only me", 3)}
		return r
	}
	inputOnly := func(id, s string, input any) map[string]any {
		r := agnodb.AgentRun(id, s, "helper", "ignored", "Sure.", 3)
		r["messages"] = []any{}
		r["input"] = input
		return r
	}
	cases := []struct {
		name    string
		session agnodb.Session
		runs    func(s string) []map[string]any
		want    string
	}{
		{"ExplicitName", agnodb.Session{AgentID: ptr("helper"), SessionData: map[string]any{"session_name": "Mine"}},
			func(s string) []map[string]any { return []map[string]any{agent(s+"-0", s, "Ignored")} }, "Mine"},
		{"ExplicitEmptyName", agnodb.Session{AgentID: ptr("helper"), SessionData: map[string]any{"session_name": ""}},
			func(s string) []map[string]any { return []map[string]any{agent(s+"-0", s, "Ignored")} }, ""},
		{"FirstUserMessage", agnodb.Session{AgentID: ptr("helper")},
			func(s string) []map[string]any {
				return []map[string]any{agent(s+"-0", s, "What is the capital of France?"), agent(s+"-1", s, "Later")}
			}, "What is the capital of France?"},
		{"IntroductionSkipped", agnodb.Session{AgentID: ptr("helper"), SessionData: map[string]any{}},
			func(s string) []map[string]any {
				return []map[string]any{intro(s+"-0", s), agent(s+"-1", s, "Second run")}
			}, "Second run"},
		{"NoRuns", agnodb.Session{AgentID: ptr("helper")}, func(string) []map[string]any { return nil }, ""},
		{"NoUserMessage", agnodb.Session{AgentID: ptr("helper")},
			func(s string) []map[string]any { return []map[string]any{noUser(s+"-0", s)} }, ""},
		{"InputObjectContent", agnodb.Session{AgentID: ptr("helper")},
			func(s string) []map[string]any {
				return []map[string]any{inputOnly(s+"-0", s, map[string]any{"input_content": "From the input"})}
			}, "From the input"},
		{"InputObjectOther", agnodb.Session{AgentID: ptr("helper")},
			func(s string) []map[string]any {
				return []map[string]any{inputOnly(s+"-0", s, map[string]any{"input_content": []any{1, 2}})}
			}, `{"input_content":[1,2]}`},
		{"TeamMemberRunSkipped", agnodb.Session{TeamID: ptr("planners")},
			func(s string) []map[string]any {
				return []map[string]any{
					agnodb.MemberRun(s+"-0", s, "researcher", s+"-1", "Member task", "Done.", 1),
					agnodb.TeamRun(s+"-1", s, "planners", "Team question", "Answer.", 2),
				}
			}, "Team question"},
		{"WorkflowStringInput", agnodb.Session{WorkflowID: ptr("blog"), WorkflowData: map[string]any{"name": "BlogGenerator"}},
			func(s string) []map[string]any {
				return []map[string]any{agnodb.WorkflowRun(s+"-0", s, "blog", "Write about Go", 1)}
			},
			"Write about Go"},
		{"WorkflowObjectInput", agnodb.Session{WorkflowID: ptr("blog"), WorkflowData: map[string]any{"name": "BlogGenerator"}},
			func(s string) []map[string]any {
				return []map[string]any{agnodb.WorkflowRun(s+"-0", s, "blog", map[string]any{"topic": "Go", "words": 300}, 1)}
			}, `{"topic":"Go","words":300}`},
		{"WorkflowNoRuns", agnodb.Session{WorkflowID: ptr("blog"), WorkflowData: map[string]any{"name": "BlogGenerator"}},
			func(string) []map[string]any { return nil }, ""},
		{"WorkflowRunWithoutInput", agnodb.Session{WorkflowID: ptr("blog"), WorkflowData: map[string]any{"name": "BlogGenerator"}},
			func(s string) []map[string]any {
				return []map[string]any{agnodb.WorkflowRun(s+"-0", s, "blog", nil, 1)}
			},
			"New BlogGenerator Session"},
	}
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		for _, l := range []agnodb.Layout{agnodb.V2, agnodb.V3, agnodb.V3Migrated} {
			t.Run(string(l), func(t *testing.T) {
				ctx := context.Background()
				f, url := agnoFixture(t, newURL, l, agnodb.Options{})
				for i, tc := range cases {
					s := tc.session
					s.ID = fmt.Sprintf("s%02d", i)
					s.CreatedAt = int64(i)
					insertWithRuns(t, f, s, tc.runs(s.ID)...)
				}
				tbl := resolve(t, openCatalog(t, url), "")
				list, _, err := tbl.ListSessions(ctx, ListFilter{SortBy: "created_at", Limit: 100, Page: 1})
				if err != nil {
					t.Fatalf("ListSessions: %v", err)
				}
				for i, tc := range cases {
					id := fmt.Sprintf("s%02d", i)
					detail, err := tbl.GetSession(ctx, id, Owner{})
					if err != nil {
						t.Fatalf("GetSession(%s): %v", id, err)
					}
					if list[i].ID != id || list[i].Name != tc.want || detail.Name != tc.want {
						t.Errorf("%s: list %q, detail %q, want %q", tc.name, list[i].Name, detail.Name, tc.want)
					}
				}
			})
		}
	})
}

// TestStore_AgnoEncodings reads JSON columns in every encoding agno has
// left in real databases, and finds names in each, quotes, backslashes
// and non-ASCII text (which agno's SQLite writes as \uXXXX) included.
func TestStore_AgnoEncodings(t *testing.T) {
	const name = `Café "Lumière" \ 50%_off`
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		for _, tc := range []struct {
			name   string
			layout agnodb.Layout
			opts   agnodb.Options
		}{
			{"2.x", agnodb.V2, agnodb.Options{}},
			{"3.0", agnodb.V3Migrated, agnodb.Options{}},
			{"JSONColumns", agnodb.V2, agnodb.Options{JSONType: "json", Legacy2_5: true}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				url := newURL(t)
				db, d := rawDB(t, url)
				if tc.opts.JSONType == "json" && d == agnodb.SQLite {
					t.Skip("json columns are PostgreSQL's; SQLite always declared JSON")
				}
				tc.opts.Schema = schemaOf(url)
				f := agnodb.Create(t, db, d, tc.layout, tc.opts)
				encodings := []agnodb.Encoding{agnodb.Native, agnodb.Plain, agnodb.Double, agnodb.JSONNull, agnodb.SQLNull}
				for i, enc := range encodings {
					data := any(map[string]any{"session_name": name, "session_state": map[string]any{"n": 1}})
					if enc == agnodb.JSONNull || enc == agnodb.SQLNull {
						data = nil
					}
					id := fmt.Sprintf("e%d", i)
					run := agnodb.AgentRun(id+"-r", id, "helper", "Bonjour, ça va ?", "Oui.", 1)
					insertWithRuns(t, f, agnodb.Session{ID: id, AgentID: ptr("helper"), SessionData: data, CreatedAt: int64(i),
						Metadata: map[string]any{"k": "v"}, Encodings: map[string]agnodb.Encoding{"session_data": enc, "metadata": enc, "runs": runsEncoding(enc)}}, run)
				}
				if tc.layout.HasRunsTable() {
					// agno 3.0.0a1 double-encoded run_data.
					f.InsertSession(t, agnodb.Session{ID: "a1", AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: 9, Encodings: map[string]agnodb.Encoding{"runs": agnodb.SQLNull}})
					f.InsertRun(t, agnodb.Run{Index: ptr(int64(0)), Data: agnodb.AgentRun("a1-r", "a1", "helper", "Double encoded", "Yes.", 9), Encoding: agnodb.Double})
				}
				tbl := resolve(t, openCatalog(t, url), "")
				for i, enc := range encodings {
					id := fmt.Sprintf("e%d", i)
					s, runs, err := tbl.ListRuns(ctx, id, Owner{}, RunFilter{})
					if err != nil {
						t.Fatalf("ListRuns(%s): %v", id, err)
					}
					wantName := name
					if enc == agnodb.JSONNull || enc == agnodb.SQLNull {
						wantName = "Bonjour, ça va ?"
						if s.SessionData != nil {
							t.Errorf("%s: session_data %#v, want absent", enc, s.SessionData)
						}
					} else if s.Metadata["k"] != "v" {
						t.Errorf("%s: metadata %#v, want {k: v}", enc, s.Metadata)
					}
					if s.Name != wantName {
						t.Errorf("%s: name %q, want %q", enc, s.Name, wantName)
					}
					if len(runs) != 1 || runs[0].Data["content"] != "Oui." {
						t.Errorf("%s: runs %s, want the one run", enc, jsonText(t, runs))
					}
				}
				found, total, err := tbl.ListSessions(ctx, ListFilter{NameContains: ptr(`é "Lumière" \ 50%_`), SortBy: "created_at", Limit: 10, Page: 1})
				if err != nil {
					t.Fatalf("ListSessions: %v", err)
				}
				if total != 3 || len(found) != 3 {
					t.Errorf("name search: got %d of %d, want the 3 sessions whose session_data names them: %s", len(found), total, jsonText(t, ids(found)))
				}
				if tc.layout.HasRunsTable() {
					s, runs, err := tbl.ListRuns(ctx, "a1", Owner{}, RunFilter{})
					if err != nil || len(runs) != 1 || runs[0].Data["content"] != "Yes." || s.Name != "Double encoded" {
						t.Errorf("double-encoded run_data: got name %q, runs %s, %v", s.Name, jsonText(t, runs), err)
					}
				}
			})
		}
	})
}

// TestStore_SQLiteMalformedSessionData: a session_data that starts like
// an object but is no JSON (agno never writes one) still lists and reads
// (the store's decoding checks every value), while a session_name search
// on SQLite, which reads such text as an object straight away, fails with
// an error instead of answering a wrong page.
func TestStore_SQLiteMalformedSessionData(t *testing.T) {
	ctx := context.Background()
	url := testdb.SQLiteURL(t)
	db, d := rawDB(t, url)
	f := agnodb.Create(t, db, d, agnodb.V3, agnodb.Options{})
	f.InsertSession(t, agnodb.Session{ID: "good", AgentID: ptr("helper"), SessionData: map[string]any{"session_name": "weekly report"}, CreatedAt: 1})
	f.InsertSession(t, agnodb.Session{ID: "bad", AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: 2})
	mustExec(t, db, `UPDATE agno_sessions SET session_data = '{"session_name": "weekly' WHERE session_id = 'bad'`)
	tbl := resolve(t, openCatalog(t, url), "")

	all, total, err := tbl.ListSessions(ctx, ListFilter{SortBy: "created_at", Limit: 10, Page: 1})
	if err != nil || total != 2 || len(all) != 2 {
		t.Fatalf("list without a filter: %d of %d, %v; want both sessions", len(all), total, err)
	}
	if _, _, err := tbl.ListSessions(ctx, ListFilter{NameContains: ptr("weekly"), SortBy: "created_at", Limit: 10, Page: 1}); err == nil {
		t.Errorf("name search over malformed session_data: no error")
	}
}

// TestStore_RefusesLayoutsItCannotServe: this server's earlier layout (or
// its runs table next to agno's sessions table) names `migrate`; missing
// columns are named; nothing is created or changed either way.
func TestStore_RefusesLayoutsItCannotServe(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		for _, tc := range []struct {
			name  string
			setup func(t *testing.T, db *sql.DB, d agnodb.Dialect, q func(string) string)
			want  error
			text  string
		}{
			{"EarlierLayout", func(t *testing.T, db *sql.DB, d agnodb.Dialect, q func(string) string) {
				earlierLayout(t, db, q)
			}, ErrEarlierLayout, "agentos-sessions migrate"},
			{"EarlierRunsBesideAgnosSessions", func(t *testing.T, db *sql.DB, d agnodb.Dialect, q func(string) string) {
				f := agnodb.Create(t, db, d, agnodb.V2, agnodb.Options{Schema: schemaFromQ(q)})
				_ = f
				mustExec(t, db, `CREATE TABLE `+q("agno_runs")+` (run_id TEXT NOT NULL, session_id TEXT NOT NULL REFERENCES `+q("agno_sessions")+
					` (session_id) ON DELETE CASCADE, agent_id TEXT, team_id TEXT, workflow_id TEXT, user_id TEXT, parent_run_id TEXT, status TEXT,
					run_data TEXT, created_at BIGINT NOT NULL, updated_at BIGINT, PRIMARY KEY (session_id, run_id))`)
			}, ErrEarlierLayout, "no run_type or run_index column"},
			{"MissingColumns", func(t *testing.T, db *sql.DB, d agnodb.Dialect, q func(string) string) {
				mustExec(t, db, `CREATE TABLE `+q("agno_sessions")+` (session_id TEXT PRIMARY KEY, session_type TEXT, created_at BIGINT)`)
			}, ErrUnexpectedLayout, "lacks the columns agent_id, team_id, workflow_id, user_id, session_data"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				url := newURL(t)
				db, d := rawDB(t, url)
				schema := schemaOf(url)
				q := func(name string) string {
					if schema == "" {
						return quoteIdent(name)
					}
					return quoteIdent(schema) + "." + quoteIdent(name)
				}
				tc.setup(t, db, d, q)
				before := catalogObjects(t, db, d, schema)
				_, err := Open(ctx, []DatabaseConfig{dbConfig(url)}, nil)
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
					t.Errorf("Open: got %v, want %v mentioning %q", err, tc.want, tc.text)
				}
				if after := catalogObjects(t, db, d, schema); !slices.Equal(after, before) {
					t.Errorf("a refused Open changed the catalog:\nbefore %v\nafter  %v", before, after)
				}
			})
		}
	})
}

// earlierLayout creates this server's earlier layout (agnodb has it).
func earlierLayout(t *testing.T, db *sql.DB, q func(string) string) {
	t.Helper()
	d := agnodb.Postgres
	if !strings.Contains(q("x"), ".") {
		d = agnodb.SQLite
	}
	agnodb.CreateEarlierLayout(t, db, d, q)
}

// runsEncoding keeps a session's runs array when its other columns are
// null.
func runsEncoding(e agnodb.Encoding) agnodb.Encoding {
	if e == agnodb.JSONNull || e == agnodb.SQLNull {
		return agnodb.Native
	}
	return e
}

func schemaFromQ(q func(string) string) string {
	schema, _, ok := strings.Cut(q("x"), ".")
	if !ok {
		return ""
	}
	return strings.Trim(schema, `"`)
}

func mustExec(t *testing.T, db *sql.DB, stmt string) {
	t.Helper()
	if _, err := db.Exec(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// TestStore_AgnoRunOrder merges a migrated session's legacy array with its
// runs table as agno 3.0 does: the array's order, each entry replaced by
// the table row with its run_id, then the table's other runs by
// run_index (NULLs last), created_at and run_id; the delete report counts
// the same runs.
func TestStore_AgnoRunOrder(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		f, url := agnoFixture(t, newURL, agnodb.V3Migrated, agnodb.Options{})
		run := func(id string, at int64, content string) map[string]any {
			r := agnodb.AgentRun(id, "m", "helper", "Question "+id, content, at)
			return r
		}
		// The array: b, a (agno 2.x's order), an entry without a run_id
		// (skipped), and a non-object (skipped).
		legacyB, legacyA := run("b", 50, "old b"), run("a", 60, "old a")
		noID := run("x", 1, "no id")
		delete(noID, "run_id")
		f.InsertSession(t, agnodb.Session{ID: "m", AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: 1,
			Runs: []map[string]any{legacyB, legacyA, noID}})
		// The table: a newer copy of a, and table-only runs whose run_index
		// disagrees with created_at, one without a run_index.
		f.InsertRun(t, agnodb.Run{Index: ptr(int64(1)), Data: run("a", 60, "new a")})
		f.InsertRun(t, agnodb.Run{Index: nil, Data: run("z-null", 10, "null index")})
		f.InsertRun(t, agnodb.Run{Index: ptr(int64(3)), Data: run("c", 90, "c")})
		f.InsertRun(t, agnodb.Run{Index: ptr(int64(2)), Data: run("d", 95, "d")})
		tbl := resolve(t, openCatalog(t, url), "")
		_, runs, err := tbl.ListRuns(ctx, "m", Owner{}, RunFilter{})
		if err != nil {
			t.Fatalf("ListRuns: %v", err)
		}
		var got []string
		for _, r := range runs {
			got = append(got, r.ID+":"+r.Data["content"].(string))
		}
		if want := []string{"b:old b", "a:new a", "d:d", "c:c", "z-null:null index"}; !slices.Equal(got, want) {
			t.Errorf("merged runs: got %v, want %v", got, want)
		}
		if _, r, err := tbl.GetRun(ctx, "m", "a", Owner{}); err != nil || r.Data["content"] != "new a" {
			t.Errorf("GetRun(a): got %v, %v; want the table's copy", r.Data["content"], err)
		}
		if _, r, err := tbl.GetRun(ctx, "m", "b", Owner{}); err != nil || r.Data["content"] != "old b" {
			t.Errorf("GetRun(b): got %v, %v; want the array's entry", r.Data["content"], err)
		}
		res, err := tbl.DeleteSessions(ctx, []SessionKey{{"m", "agent"}}, DeleteOptions{Report: true})
		if err != nil {
			t.Fatalf("DeleteSessions: %v", err)
		}
		checkDeleted(t, res, "m/agent:5")
		if n := f.Count(t, f.Runs); n != 0 {
			t.Errorf("runs left: %d", n)
		}
	})
}

// TestStore_AgnoDeletes deletes sessions whose runs table has no foreign
// key (so no cascade), and whose tool results agno 3.0 offloaded, with
// and without a payload in the default payload table: everything goes in
// the delete's transaction, and only for sessions the call deleted.
func TestStore_AgnoDeletes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		for _, noCascade := range []bool{false, true} {
			t.Run(fmt.Sprintf("NoCascade=%t", noCascade), func(t *testing.T) {
				ctx := context.Background()
				f, url := agnoFixture(t, newURL, agnodb.V3, agnodb.Options{NoCascade: noCascade, ToolResults: true, Payloads: true})
				for _, s := range []struct{ id, user string }{{"gone", "u1"}, {"kept", "u1"}, {"other", "u2"}, {"single", "u1"}} {
					insertWithRuns(t, f, agnodb.Session{ID: s.id, AgentID: ptr("helper"), UserID: ptr(s.user), SessionData: map[string]any{}, CreatedAt: 1},
						agnodb.AgentRun(s.id+"-r0", s.id, "helper", "Q", "A", 1), agnodb.AgentRun(s.id+"-r1", s.id, "helper", "Q", "A", 2))
					f.InsertToolResult(t, agnodb.ToolResult{SessionID: s.id, RunID: s.id + "-r0", WithPayload: true})
					f.InsertToolResult(t, agnodb.ToolResult{SessionID: s.id, RunID: s.id + "-r1", WithPayload: false})
				}
				tbl := resolve(t, openCatalog(t, url), "")
				// "other" is u2's: named, but not deleted, so it keeps its
				// tool results; "gone" was typed wrongly once, which
				// matches nothing.
				res, err := tbl.DeleteSessions(ctx, []SessionKey{{"gone", "agent"}, {"other", "agent"}, {"kept", "team"}}, DeleteOptions{UserID: ptr("u1"), Report: true})
				if err != nil {
					t.Fatalf("DeleteSessions: %v", err)
				}
				checkDeleted(t, res, "gone/agent:2")
				if err := tbl.DeleteSession(ctx, "single", Owner{}); err != nil {
					t.Fatalf("DeleteSession: %v", err)
				}
				for table, want := range map[string]int64{f.Sessions: 2, f.Runs: 4, agnodb.ToolResultsTable: 4, agnodb.PayloadsTable: 2} {
					if got := f.Count(t, table); got != want {
						t.Errorf("%s rows left: got %d, want %d", table, got, want)
					}
				}
			})
		}
	})
}

// TestStore_LayoutChangesUnderTheServer changes a 2.x pair into a 3.0 one
// while requests run, as agno does: agno 3.0 creates its runs table on the
// first run it stores, and cleanup_legacy_runs_column drops the runs
// column. No request fails, and the runs of both sources stay visible.
func TestStore_LayoutChangesUnderTheServer(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		f, url := agnoFixture(t, newURL, agnodb.V2, agnodb.Options{})
		insertWithRuns(t, f, agnodb.Session{ID: "s", AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: 1},
			agnodb.AgentRun("s-r0", "s", "helper", "First question", "A", 1))
		tbl := resolve(t, openCatalog(t, url), "")

		stop := make(chan struct{})
		errs := make(chan error, 4)
		for i := range 4 {
			go func() {
				for {
					select {
					case <-stop:
						errs <- nil
						return
					default:
					}
					var err error
					switch i {
					case 0:
						_, _, err = tbl.ListSessions(ctx, ListFilter{SortBy: "created_at", Limit: 10, Page: 1})
					case 1:
						_, _, err = tbl.ListRuns(ctx, "s", Owner{}, RunFilter{})
					case 2:
						_, err = tbl.GetSession(ctx, "s", Owner{})
					default:
						_, err = tbl.DeleteSessions(ctx, []SessionKey{{"absent", "agent"}}, DeleteOptions{Report: true})
					}
					if err != nil {
						errs <- fmt.Errorf("request %d: %w", i, err)
						return
					}
					// A pause, so that agno's writer below is not starved
					// of SQLite's one write lock by the delete's loop.
					time.Sleep(time.Millisecond)
				}
			}()
		}
		// agno 3.0 stores a run: it creates the runs table (as in a fresh
		// 3.0 database) and writes the run there.
		runs := agnodb.Create(t, f.SQL, f.Dialect, agnodb.V3, agnodb.Options{Schema: f.Schema, Sessions: "scratch_sessions", Runs: "scratch_runs"})
		_ = runs
		ddl := `CREATE TABLE ` + f.Qualified(f.Runs) + ` AS SELECT * FROM ` + runs.Qualified("scratch_runs") + ` WHERE 1 = 0`
		mustExec(t, f.SQL, ddl)
		data, err := agnodb.PyDumps(agnodb.AgentRun("s-r1", "s", "helper", "Second question", "B", 2))
		if err != nil {
			t.Fatal(err)
		}
		p := "?"
		if f.Dialect == agnodb.Postgres {
			p = "$1::jsonb"
		}
		if _, err := f.SQL.Exec(`INSERT INTO `+f.Qualified(f.Runs)+` (run_id, session_id, run_type, agent_id, run_index, run_data, created_at)
			VALUES ('s-r1', 's', 'agent', 'helper', 1, `+p+`, 2)`, data); err != nil {
			t.Fatalf("insert run: %v", err)
		}
		// Then the legacy column goes.
		mustExec(t, f.SQL, `ALTER TABLE `+f.Qualified(f.Sessions)+` DROP COLUMN runs`)
		close(stop)
		for range 4 {
			if err := <-errs; err != nil {
				t.Errorf("a request failed while the layout changed: %v", err)
			}
		}
		// The next statement that named the runs column failed, and the
		// layout was read again at once: the table's run is visible, the
		// array's is gone with the column.
		_, got, err := tbl.ListRuns(ctx, "s", Owner{}, RunFilter{})
		if err != nil {
			t.Fatalf("ListRuns: %v", err)
		}
		if ids := runIDs(got); !slices.Equal(ids, []string{"s-r1"}) {
			t.Errorf("runs after the change: got %v, want [s-r1]", ids)
		}
		if s := tbl.(*sessionsTable).state.Load(); s.layout.describe() != "agno 3.0 (runs table)" {
			t.Errorf("layout: got %q", s.layout.describe())
		}
	})
}

// TestStore_DefaultSchemaAI serves agno's tables where agno puts them by
// default, in schema ai, with no schema configured: an agno 2.x pair and
// an agno 3.0 pair, in a database the test creates and drops.
func TestStore_DefaultSchemaAI(t *testing.T) {
	ctx := context.Background()
	url := freshPostgresDatabase(t)
	db, d := rawDB(t, url)
	v2 := agnodb.Create(t, db, d, agnodb.V2, agnodb.Options{Schema: DefaultSchema, Sessions: "legacy_sessions", VersionRows: true})
	v3 := agnodb.Create(t, db, d, agnodb.V3, agnodb.Options{Schema: DefaultSchema, VersionRows: true})
	insertWithRuns(t, v2, agnodb.Session{ID: "old", AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: 1},
		agnodb.AgentRun("old-r0", "old", "helper", "From 2.x", "A", 1))
	insertWithRuns(t, v3, agnodb.Session{ID: "new", AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: 1},
		agnodb.AgentRun("new-r0", "new", "helper", "From 3.0", "A", 1))
	c, err := Open(ctx, []DatabaseConfig{{ID: "main", URL: url, Tables: []TablePair{{Sessions: "agno_sessions"}, {Sessions: "legacy_sessions"}}}}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer func() { _ = c.Close() }()
	for table, want := range map[string]string{"agno_sessions": "From 3.0", "legacy_sessions": "From 2.x"} {
		got, _, err := resolve(t, c, table).ListSessions(ctx, ListFilter{SortBy: "created_at", Limit: 10, Page: 1})
		if err != nil || len(got) != 1 || got[0].Name != want {
			t.Errorf("%s: got %s, %v; want one session named %q", table, jsonText(t, got), err, want)
		}
	}
	if n := v3.Count(t, v3.Runs); n != 1 {
		t.Errorf("ai.agno_runs: %d runs, want 1", n)
	}
}

// freshPostgresDatabase creates a database of its own on the test server
// and returns its URL; the database is dropped when the test ends.
func freshPostgresDatabase(t *testing.T) string {
	t.Helper()
	base := testdb.PostgresURL(t) // skips or fails like every PostgreSQL test when the server is away
	admin, d := rawDB(t, base)
	if d != agnodb.Postgres {
		t.Fatal("not PostgreSQL")
	}
	name := "agentos_t_" + strings.TrimPrefix(schemaOf(base), "t_")
	mustExec(t, admin, "CREATE DATABASE "+quoteIdent(name))
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + quoteIdent(name) + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := neturl.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String()
}

// TestStore_StreamRunsPages reads a session's runs page by page on every
// layout with runs: each page is the matching slice of the whole list, and
// the total counts every matching run of every page, filters included.
func TestStore_StreamRunsPages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		for _, l := range []agnodb.Layout{agnodb.V2, agnodb.V3, agnodb.V3Migrated} {
			t.Run(string(l), func(t *testing.T) {
				ctx := context.Background()
				f, url := agnoFixture(t, newURL, l, agnodb.Options{})
				var runs []map[string]any
				for i := range 5 {
					runs = append(runs, agnodb.AgentRun(fmt.Sprintf("r%d", i), "s", "helper", "Q", "A", int64(10+i)))
				}
				insertWithRuns(t, f, agnodb.Session{ID: "s", AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: 1}, runs...)
				if l == agnodb.V3Migrated {
					// Runs only the table has, after the array's.
					for i := 5; i < 7; i++ {
						f.InsertRun(t, agnodb.Run{Index: ptr(int64(i)), Data: agnodb.AgentRun(fmt.Sprintf("r%d", i), "s", "helper", "Q", "A", int64(10+i))})
					}
				}
				tbl := resolve(t, openCatalog(t, url), "")
				for _, filter := range []RunFilter{{}, {CreatedAfter: ptr(int64(11)), CreatedBefore: ptr(int64(15))}} {
					_, all, err := tbl.ListRuns(ctx, "s", Owner{}, filter)
					if err != nil {
						t.Fatal(err)
					}
					for limit := 1; limit <= len(all)+1; limit++ {
						for page := 1; page <= len(all)/limit+2; page++ {
							var got []string
							var total int64 = -1
							err := tbl.StreamRuns(ctx, "s", Owner{}, filter, RunPage{Limit: limit, Page: page}, RunStream{
								Start: func(_ Session, n int64) error { total = n; return nil },
								Run:   func(r Run) error { got = append(got, r.ID); return nil },
							})
							if err != nil {
								t.Fatal(err)
							}
							from, to := min((page-1)*limit, len(all)), min(page*limit, len(all))
							if want := runIDs(all[from:to]); !slices.Equal(got, want) || total != int64(len(all)) {
								t.Errorf("filter %+v, limit %d page %d: got %v (total %d), want %v (total %d)", filter, limit, page, got, total, want, len(all))
							}
						}
					}
				}
				err := tbl.StreamRuns(ctx, "absent", Owner{}, RunFilter{}, RunPage{}, RunStream{
					Start: func(Session, int64) error { t.Error("Start called for a missing session"); return nil },
					Run:   func(Run) error { return nil },
				})
				checkNotFound(t, "StreamRuns(absent)", err)
			})
		}
	})
}
