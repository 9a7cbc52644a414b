package agnodb

import (
	"database/sql"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// storedValue is one JSON column's value as the database holds it.
type storedValue struct {
	sqlNull bool
	jsType  string // PostgreSQL: json_typeof; SQLite: typeof
	text    string // the column as text
	inner   string // PostgreSQL: col #>> '{}', a JSON string's content
}

// shape names the encoding a stored value is in, judged from the catalog's
// side only: "sqlnull", "jsonnull", "double" (a JSON string) or "plain".
func (v storedValue) shape() string {
	switch {
	case v.sqlNull:
		return "sqlnull"
	case v.text == "null":
		return "jsonnull"
	case v.jsType == "string", strings.HasPrefix(v.text, `"`):
		return "double"
	}
	return "plain"
}

// readStored reads one column of the row of table whose keyCol is key.
func readStored(t testing.TB, f *DB, table, keyCol, key, col string) storedValue {
	t.Helper()
	var v storedValue
	var jsType, text, inner sql.NullString
	var err error
	c := quote(col)
	if f.Dialect == Postgres {
		err = f.SQL.QueryRow("SELECT json_typeof("+c+"::json), "+c+"::text, "+c+"::json #>> '{}' FROM "+f.Qualified(table)+
			" WHERE "+quote(keyCol)+" = $1", key).Scan(&jsType, &text, &inner)
	} else {
		err = f.SQL.QueryRow("SELECT typeof("+c+"), CAST("+c+" AS TEXT), NULL FROM "+f.Qualified(table)+
			" WHERE "+quote(keyCol)+" = ?1", key).Scan(&jsType, &text, &inner)
	}
	if err != nil {
		t.Fatalf("read %s.%s of %s: %v", table, col, key, err)
	}
	v.jsType, v.text, v.inner = jsType.String, text.String, inner.String
	v.sqlNull = !text.Valid
	if f.Dialect == SQLite && jsType.String != "text" && text.Valid {
		t.Errorf("%s.%s of %s: SQLite storage class %s, want text", table, col, key, jsType.String)
	}
	return v
}

// sameJSON reports whether two JSON-like values are equal as JSON.
func sameJSON(t testing.TB, a, b any) bool {
	t.Helper()
	norm := func(v any) any {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %v: %v", v, err)
		}
		var out any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("unmarshal %s: %v", raw, err)
		}
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func TestInsertSession_Native(t *testing.T) {
	forEachLayout(t, func(t *testing.T, d Dialect, l Layout) {
		db, _ := open(t, d)
		f := Create(t, db, d, l, Options{})
		sessionData := map[string]any{"session_name": "Café", "session_state": map[string]any{"k": 1}}
		agentData := map[string]any{"name": AgentName, "agent_id": "a1", "model": map[string]any{"name": "OpenAIChat", "id": Model, "provider": ModelProvider}}
		summary := map[string]any{"summary": "They said hello.", "topics": []any{"greeting"}, "updated_at": "2026-08-23T14:05:09.482113"}
		runs := []map[string]any{AgentRun("r1", "s1", "a1", "hi", "hello", 1700000001)}
		f.InsertSession(t, Session{ID: "s1", Type: "agent", AgentID: ptr("a1"), UserID: ptr("u1"),
			SessionData: sessionData, AgentData: agentData, Summary: summary, Runs: runs,
			CreatedAt: 1700000000, UpdatedAt: ptr[int64](1700000002)})

		sessionShape := "plain"
		if d == SQLite && l == V2 {
			sessionShape = "double"
		}
		runsShape := "plain"
		if d == SQLite {
			runsShape = "double"
		}
		want := map[string]string{
			"session_data": sessionShape, "agent_data": sessionShape, "summary": sessionShape,
			"metadata": "jsonnull", "team_data": "sqlnull", "workflow_data": "sqlnull",
		}
		values := map[string]any{"session_data": sessionData, "agent_data": agentData, "summary": summary}
		if l.HasRunsColumn() {
			want["runs"] = runsShape
			values["runs"] = runs
		}
		for col, shape := range want {
			v := readStored(t, f, "agno_sessions", "session_id", "s1", col)
			if got := v.shape(); got != shape {
				t.Errorf("%s: got %s (%q), want %s", col, got, v.text, shape)
			}
			if values[col] == nil {
				continue
			}
			decoded, err := DecodeStored(v.text)
			if err != nil {
				t.Fatalf("%s: decode %q: %v", col, v.text, err)
			}
			if !sameJSON(t, decoded, values[col]) {
				t.Errorf("%s: stored %v, want %v", col, decoded, values[col])
			}
		}
		if d == SQLite {
			wantText := map[string]string{
				"plain":  `{"session_name": "Caf\u00e9", "session_state": {"k": 1}}`,
				"double": `"{\"session_name\": \"Caf\\u00e9\", \"session_state\": {\"k\": 1}}"`,
			}[sessionShape]
			if got := readStored(t, f, "agno_sessions", "session_id", "s1", "session_data").text; got != wantText {
				t.Errorf("session_data text:\ngot  %s\nwant %s", got, wantText)
			}
		}
		var typ string
		var agentID, userID sql.NullString
		var teamID, workflowID sql.NullString
		var created, updated sql.NullInt64
		if err := db.QueryRow("SELECT session_type, agent_id, team_id, workflow_id, user_id, created_at, updated_at FROM "+
			f.Qualified("agno_sessions")+" WHERE session_id = 's1'").Scan(&typ, &agentID, &teamID, &workflowID, &userID, &created, &updated); err != nil {
			t.Fatalf("read s1: %v", err)
		}
		if typ != "agent" || agentID.String != "a1" || teamID.Valid || workflowID.Valid || userID.String != "u1" ||
			created.Int64 != 1700000000 || updated.Int64 != 1700000002 {
			t.Errorf("s1: got %s %v %v %v %v %v %v, want agent a1 NULL NULL u1 1700000000 1700000002",
				typ, agentID, teamID, workflowID, userID, created, updated)
		}

		// A team session: its own team_data is named, agent_data is not;
		// no runs is JSON null, as 2.x writes it; updated_at stays NULL.
		f.InsertSession(t, Session{ID: "s2", TeamID: ptr("t1"), CreatedAt: 1700000000})
		want = map[string]string{"team_data": "jsonnull", "agent_data": "sqlnull", "workflow_data": "sqlnull", "session_data": "jsonnull"}
		if l.HasRunsColumn() {
			want["runs"] = "jsonnull"
		}
		for col, shape := range want {
			if got := readStored(t, f, "agno_sessions", "session_id", "s2", col).shape(); got != shape {
				t.Errorf("s2 %s: got %s, want %s", col, got, shape)
			}
		}
		if err := db.QueryRow("SELECT session_type, updated_at FROM "+f.Qualified("agno_sessions")+" WHERE session_id = 's2'").
			Scan(&typ, &updated); err != nil {
			t.Fatalf("read s2: %v", err)
		}
		if typ != "team" || updated.Valid {
			t.Errorf("s2: got type %s, updated_at %v, want team, NULL", typ, updated)
		}
	})
}

// The stored text of {"n": 1, "session_name": "Café ☕ 𝄞"}, as CPython's
// json.dumps writes it once and twice.
const (
	plainCafe  = `{"n": 1, "session_name": "Caf\u00e9 \u2615 \ud834\udd1e"}`
	doubleCafe = `"{\"n\": 1, \"session_name\": \"Caf\\u00e9 \\u2615 \\ud834\\udd1e\"}"`
)

func TestInsertSession_Encodings(t *testing.T) {
	value := map[string]any{"session_name": "Café ☕ 𝄞", "n": 1}
	type fixture struct {
		name     string
		d        Dialect
		l        Layout
		jsonType string
	}
	fixtures := []fixture{
		{"SQLiteV2", SQLite, V2, ""}, {"SQLiteV3", SQLite, V3, ""}, {"SQLiteV3Migrated", SQLite, V3Migrated, ""},
		{"PostgresV3", Postgres, V3, "jsonb"}, {"PostgresV3Migrated", Postgres, V3Migrated, "jsonb"},
		{"PostgresJSON", Postgres, V2, "json"},
	}
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			db, _ := open(t, fx.d)
			f := Create(t, db, fx.d, fx.l, Options{JSONType: fx.jsonType, Legacy2_5: fx.jsonType == "json"})
			cols := []string{"session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary"}
			if fx.l.HasRunsColumn() {
				cols = append(cols, "runs")
			}
			for _, enc := range []Encoding{Plain, Double, JSONNull, SQLNull} {
				encodings := make(map[string]Encoding)
				for _, c := range cols {
					encodings[c] = enc
				}
				id := "s-" + enc.String()
				f.InsertSession(t, Session{ID: id, Type: "agent", SessionData: value, AgentData: value, TeamData: value,
					WorkflowData: value, Metadata: value, Summary: value, Runs: []map[string]any{value},
					Encodings: encodings, CreatedAt: 1})
				for _, c := range cols {
					v := readStored(t, f, "agno_sessions", "session_id", id, c)
					wantShape := map[Encoding]string{Plain: "plain", Double: "double", JSONNull: "jsonnull", SQLNull: "sqlnull"}[enc]
					if got := v.shape(); got != wantShape {
						t.Errorf("%s %s: got %s (%q), want %s", enc, c, got, v.text, wantShape)
						continue
					}
					plain, double := plainCafe, doubleCafe
					if c == "runs" {
						plain, double = "["+plainCafe+"]", `"[`+doubleCafe[1:len(doubleCafe)-1]+`]"`
					}
					var gotText, wantText string
					switch {
					case enc == Plain && (fx.d == SQLite || fx.jsonType == "json"):
						gotText, wantText = v.text, plain
					case enc == Double && (fx.d == SQLite || fx.jsonType == "json"):
						gotText, wantText = v.text, double
					case enc == Double:
						gotText, wantText = v.inner, plain
					case enc == Plain:
						want := any(value)
						if c == "runs" {
							want = []any{value}
						}
						if decoded, err := DecodeStored(v.text); err != nil || !sameJSON(t, decoded, want) {
							t.Errorf("%s %s: stored %s, want %v", enc, c, v.text, want)
						}
						continue
					default:
						continue
					}
					if gotText != wantText {
						t.Errorf("%s %s:\ngot  %s\nwant %s", enc, c, gotText, wantText)
					}
				}
			}
		})
	}
}

func TestInsertSession_PostgresCleaning(t *testing.T) {
	t.Parallel()
	db, _ := openPostgres(t)
	f := Create(t, db, Postgres, V3, Options{})
	dirty := map[string]any{"k\x01": "a\x01b\x0bc\ufffed\te"}
	f.InsertSession(t, Session{ID: "native", Type: "agent", SessionData: dirty, CreatedAt: 1})
	f.InsertSession(t, Session{ID: "plain", Type: "agent", SessionData: dirty, CreatedAt: 1,
		Encodings: map[string]Encoding{"session_data": Plain}})
	for id, want := range map[string]map[string]any{
		"native": {"k\x01": "abcd\te"}, // agno cleans values, not keys
		"plain":  dirty,
	} {
		v := readStored(t, f, "agno_sessions", "session_id", id, "session_data")
		got, err := DecodeStored(v.text)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if !sameJSON(t, got, want) {
			t.Errorf("%s: stored %q, want %q", id, got, want)
		}
	}
}

func TestInsertSession_RejectsUnknownColumn(t *testing.T) {
	db := openSQLite(t)
	f := Create(t, db, SQLite, V3, Options{})
	msg := fails(t, func(tb testing.TB) {
		f.InsertSession(tb, Session{ID: "s", Type: "agent", Encodings: map[string]Encoding{"sesion_data": Plain}})
	})
	if !strings.Contains(msg, "sesion_data") {
		t.Errorf("got failure %q, want one naming sesion_data", msg)
	}
	// The runs column's encoding is ignored where there is no runs column,
	// so one Session can be written to every layout.
	if msg := fails(t, func(tb testing.TB) {
		f.InsertSession(tb, Session{ID: "s", Type: "agent", Encodings: map[string]Encoding{"runs": SQLNull}})
	}); msg != "" {
		t.Errorf("Encodings[runs] on a layout without runs: got failure %q, want none", msg)
	}
}

// runRow is a runs-table row, run_data left out.
type runRow struct {
	RunType                                             string
	AgentID, TeamID, WorkflowID, UserID, Parent, Status sql.NullString
	Index                                               sql.NullInt64
	CreatedAt                                           int64
	UpdatedAt                                           sql.NullInt64
}

func readRun(t testing.TB, f *DB, id string) runRow {
	t.Helper()
	var r runRow
	if err := f.SQL.QueryRow("SELECT run_type, agent_id, team_id, workflow_id, user_id, parent_run_id, status, run_index, created_at, updated_at FROM "+
		f.Qualified("agno_runs")+" WHERE run_id = "+f.ph(1), id).
		Scan(&r.RunType, &r.AgentID, &r.TeamID, &r.WorkflowID, &r.UserID, &r.Parent, &r.Status, &r.Index, &r.CreatedAt, &r.UpdatedAt); err != nil {
		t.Fatalf("read run %s: %v", id, err)
	}
	return r
}

func str(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }

func TestInsertRun(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d Dialect) {
		for _, l := range []Layout{V3, V3Migrated} {
			t.Run(string(l), func(t *testing.T) {
				db, _ := open(t, d)
				f := Create(t, db, d, l, Options{})
				f.InsertSession(t, Session{ID: "s1", Type: "team", TeamID: ptr("t1"), UserID: ptr("u1"), CreatedAt: 1700000000})
				u1 := ptr("u1")
				team := TeamRun("r-team", "s1", "t1", "Plan a trip", "Here is the plan.", 1700000010)
				member := MemberRun("r-member", "s1", "a1", "r-team", "Find flights", "Flights found.", 1700000011)
				flow := WorkflowRun("r-flow", "s1", "w1", "Write about agno", 1700000012)
				f.InsertRun(t, Run{Data: team, UserID: u1, Index: ptr[int64](0)})
				f.InsertRun(t, Run{Data: member, UserID: u1, Index: ptr[int64](1)})
				f.InsertRun(t, Run{Data: flow, UserID: u1})
				f.InsertRun(t, Run{ID: "r-named", SessionID: "s1", Data: map[string]any{"agent_name": "x"}})
				f.InsertRun(t, Run{ID: "r-team-named", SessionID: "s1", Data: map[string]any{"team_name": "x", "agent_id": ""}})
				f.InsertRun(t, Run{ID: "r-bare", SessionID: "s1", Data: map[string]any{}, CreatedAt: 1700000099})
				f.InsertRun(t, Run{ID: "r-typed", SessionID: "s1", Type: "team", Data: AgentRun("x", "s1", "a1", "q", "a", 0)})

				tests := map[string]runRow{
					"r-team": {RunType: "team", TeamID: str("t1"), UserID: str("u1"), Status: str("COMPLETED"),
						Index: sql.NullInt64{Int64: 0, Valid: true}, CreatedAt: 1700000010},
					"r-member": {RunType: "agent", AgentID: str("a1"), UserID: str("u1"), Parent: str("r-team"), Status: str("COMPLETED"),
						Index: sql.NullInt64{Int64: 1, Valid: true}, CreatedAt: 1700000011},
					"r-flow":       {RunType: "workflow", WorkflowID: str("w1"), UserID: str("u1"), Status: str("COMPLETED"), CreatedAt: 1700000012},
					"r-named":      {RunType: "agent", CreatedAt: 1700000000},
					"r-team-named": {RunType: "team", AgentID: str(""), CreatedAt: 1700000000},
					"r-bare":       {RunType: "workflow", CreatedAt: 1700000099},
					"r-typed":      {RunType: "team", AgentID: str("a1"), Status: str("COMPLETED"), CreatedAt: 1700000000},
				}
				for id, want := range tests {
					want.UpdatedAt = sql.NullInt64{Int64: want.CreatedAt, Valid: true}
					if got := readRun(t, f, id); got != want {
						t.Errorf("run %s:\ngot  %+v\nwant %+v", id, got, want)
					}
				}

				v := readStored(t, f, "agno_runs", "run_id", "r-team", "run_data")
				if v.shape() != "plain" {
					t.Errorf("run_data: got %s (%.40q), want plain", v.shape(), v.text)
				}
				if d == SQLite && !strings.HasPrefix(v.text, `{"content": "Here is the plan.", `) {
					t.Errorf("run_data text: got %.60s…, want Python's json.dumps", v.text)
				}
				if got, err := DecodeStored(v.text); err != nil || !sameJSON(t, got, team) {
					t.Errorf("run_data: stored %v (%v), want the team run", got, err)
				}

				// agno 3.0.0a1 double-encoded run_data on both dialects.
				f.InsertRun(t, Run{Data: AgentRun("r-a1", "s1", "a1", "q", "Café", 1), Encoding: Double})
				v = readStored(t, f, "agno_runs", "run_id", "r-a1", "run_data")
				if v.shape() != "double" {
					t.Errorf("Double run_data: got %s (%.40q), want double", v.shape(), v.text)
				}
				if d == SQLite && !strings.HasPrefix(v.text, `"{\"agent_id\": \"a1\", `) {
					t.Errorf("Double run_data text: got %.60s…, want a JSON string of Python's json.dumps", v.text)
				}
				if got, err := DecodeStored(v.text); err != nil || !sameJSON(t, got, AgentRun("r-a1", "s1", "a1", "q", "Café", 1)) {
					t.Errorf("Double run_data: stored %v (%v), want the run", got, err)
				}
				if d == SQLite && !strings.Contains(v.text, `Caf\\u00e9`) {
					t.Errorf("Double run_data text: got %s, want é escaped inside the inner JSON", v.text)
				}

				for name, run := range map[string]Run{
					"NonStringStatus": {ID: "bad", SessionID: "s1", Data: map[string]any{"status": 3}},
					"NoSessionID":     {ID: "bad", Data: map[string]any{}},
					"SQLNullRunData":  {ID: "bad", SessionID: "s1", Data: map[string]any{}, Encoding: SQLNull},
				} {
					if msg := fails(t, func(tb testing.TB) { f.InsertRun(tb, run) }); msg == "" {
						t.Errorf("%s: InsertRun succeeded, want a failure", name)
					}
				}
			})
		}
		for _, l := range []Layout{V2, V3BeforeFirstRun} {
			t.Run(string(l), func(t *testing.T) {
				db, _ := open(t, d)
				f := Create(t, db, d, l, Options{})
				msg := fails(t, func(tb testing.TB) { f.InsertRun(tb, Run{Data: AgentRun("r", "s", "a", "q", "a", 1)}) })
				if !strings.Contains(msg, "no runs table") {
					t.Errorf("InsertRun on %s: got failure %q, want one saying there is no runs table", l, msg)
				}
			})
		}
	})
}

func TestRunType(t *testing.T) {
	tests := []struct {
		data map[string]any
		want string
	}{
		{map[string]any{"agent_id": "a"}, "agent"},
		{map[string]any{"agent_name": "A", "team_id": "t"}, "agent"},
		{map[string]any{"agent_id": "", "team_id": "t"}, "team"},
		{map[string]any{"agent_id": nil, "team_name": "T"}, "team"},
		{map[string]any{"workflow_id": "w"}, "workflow"},
		{nil, "workflow"},
	}
	for _, tt := range tests {
		if got := RunType(tt.data); got != tt.want {
			t.Errorf("RunType(%v): got %s, want %s", tt.data, got, tt.want)
		}
	}
}

func TestInsertToolResult(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d Dialect) {
		var namespace string
		outer, _ := open(t, d)
		t.Run("Rows", func(t *testing.T) {
			db := outer
			if d == Postgres {
				db, _ = openPostgres(t)
			}
			f := Create(t, db, d, V3, Options{ToolResults: true, Payloads: true, Sessions: "tr_sessions"})
			namespace = f.Namespace("s1")
			f.InsertToolResult(t, ToolResult{SessionID: "s1", RunID: "r1", UserID: ptr("u1"), WithPayload: true})
			f.InsertToolResult(t, ToolResult{SessionID: "s1", RunID: "r1", WithPayload: true, Content: `{"rows": [1, 2]}`})
			f.InsertToolResult(t, ToolResult{SessionID: "s2", RunID: "r2"})
			if got := f.Count(t, "agno_tool_results"); got != 3 {
				t.Errorf("tool results: got %d, want 3", got)
			}
			if got := f.Count(t, "agno_fs"); got != 2 {
				t.Errorf("payloads: got %d, want 2", got)
			}

			var ns, path, callID, toolName, argsHash, contentType, preview string
			var userID sql.NullString
			var size, lines, created int64
			var expires sql.NullInt64
			if err := db.QueryRow(`SELECT namespace, path, tool_call_id, tool_name, args_hash, content_type, size_bytes, line_count,
				preview, user_id, created_at, expires_at FROM `+f.Qualified("agno_tool_results")+` WHERE result_id = `+f.ph(1), "res_70ce8e288e").
				Scan(&ns, &path, &callID, &toolName, &argsHash, &contentType, &size, &lines, &preview, &userID, &created, &expires); err != nil {
				t.Fatalf("read res_70ce8e288e (agno's result_id_for(s1, r1, call_1)): %v", err)
			}
			wantContent := "Results for call_1:\n1. agno stores sessions\n2. agno stores runs\n3. agno offloads long tool output"
			if ns != namespace || path != "results/r1/res_70ce8e288e.txt" || callID != "call_1" || toolName != "web_search" ||
				argsHash != "23bb33f7d35f480f8bc4316cce86e891776a9e4cf6e3c261eebb44f36a27ce0f" || contentType != "text" ||
				size != int64(len(wantContent)) || lines != 4 || preview != wantContent || userID.String != "u1" ||
				created != 1700000000 || expires.Valid {
				t.Errorf("tool result: got %q %q %q %q %q %q %d %d %q %v %d %v", ns, path, callID, toolName, argsHash, contentType,
					size, lines, preview, userID, created, expires)
			}
			var jsonPath, jsonType string
			if err := db.QueryRow("SELECT path, content_type FROM "+f.Qualified("agno_tool_results")+" WHERE tool_call_id = 'call_2'").
				Scan(&jsonPath, &jsonType); err != nil {
				t.Fatal(err)
			}
			if jsonPath != "results/r1/"+ResultIDFor("s1", "r1", "call_2")+".json" || jsonType != "json" {
				t.Errorf("JSON output: got %s, %s, want results/r1/<id>.json, json", jsonPath, jsonType)
			}

			var content string
			var version, fsCreated, fsUpdated int64
			if err := db.QueryRow("SELECT content, version, created_at, updated_at FROM "+f.Qualified("agno_fs")+
				" WHERE namespace = "+f.ph(1)+" AND path = "+f.ph(2), namespace, "results/r1/res_70ce8e288e.txt").
				Scan(&content, &version, &fsCreated, &fsUpdated); err != nil {
				t.Fatalf("read payload: %v", err)
			}
			if content != wantContent || version != 1 || fsCreated != 1700000000 || fsUpdated != 1700000000 {
				t.Errorf("payload: got %q v%d %d %d, want the content, v1, 1700000000 twice", content, version, fsCreated, fsUpdated)
			}

			// agno's index allows one result per (namespace, path).
			msg := fails(t, func(tb testing.TB) {
				f.InsertToolResult(tb, ToolResult{ResultID: "other", SessionID: "s1", RunID: "r1", Path: "results/r1/res_70ce8e288e.txt"})
			})
			if !strings.Contains(strings.ToLower(msg), "unique") {
				t.Errorf("second result at one namespace and path: got failure %q, want a unique violation", msg)
			}
		})
		if d == Postgres {
			var left int64
			if err := outer.QueryRow(`SELECT count(*) FROM "fs"."agno_fs" WHERE namespace = $1`, namespace).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Errorf("payload rows of a finished test in the shared fs.agno_fs: got %d, want 0", left)
			}
		}
		t.Run("WithoutTables", func(t *testing.T) {
			db, _ := open(t, d)
			f := Create(t, db, d, V3, Options{ToolResults: true})
			for name, r := range map[string]ToolResult{
				"Payload": {SessionID: "s", RunID: "r", WithPayload: true},
			} {
				if msg := fails(t, func(tb testing.TB) { f.InsertToolResult(tb, r) }); !strings.Contains(msg, "Payloads") {
					t.Errorf("%s: got failure %q, want one naming Options.Payloads", name, msg)
				}
			}
			g := Create(t, db, d, V3, Options{Sessions: "other"})
			if msg := fails(t, func(tb testing.TB) { g.InsertToolResult(tb, ToolResult{SessionID: "s", RunID: "r"}) }); !strings.Contains(msg, "ToolResults") {
				t.Errorf("got failure %q, want one naming Options.ToolResults", msg)
			}
		})
	})
}

// Several tests creating the shared payload table at once must not fail.
func TestCreate_SharedPayloadTableConcurrently(t *testing.T) {
	for i := range 4 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			db, _ := openPostgres(t)
			f := Create(t, db, Postgres, V3, Options{ToolResults: true, Payloads: true})
			f.InsertToolResult(t, ToolResult{SessionID: "same-session", RunID: "r", WithPayload: true})
			if got := f.Count(t, "agno_fs"); got != 1 {
				t.Errorf("fixture %d: payloads of its namespace: got %d, want 1", i, got)
			}
		})
	}
}

func TestNamespace(t *testing.T) {
	// Printed by agno's namespace_for in CPython.
	tests := []struct{ schema, session, want string }{
		{"", "Sess One/Ü", "tool-results/sess_one__-067d93fa"},
		{"ai", "Sess One/Ü", "tool-results/sess_one__-eff8d430"},
	}
	for _, tt := range tests {
		f := &DB{Schema: tt.schema}
		if got := f.Namespace(tt.session); got != tt.want {
			t.Errorf("Namespace(%q) in schema %q: got %s, want %s", tt.session, tt.schema, got, tt.want)
		}
	}
	if got, want := safeSegment("run/1\\x\x01"), "run_1_x_"; got != want {
		t.Errorf("safeSegment: got %q, want %q", got, want)
	}
	if got, want := ResultIDFor("s1", "r1", "call_1"), "res_70ce8e288e"; got != want {
		t.Errorf("ResultIDFor: got %s, want %s", got, want)
	}
}
