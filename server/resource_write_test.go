package server_test

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

func TestSessionRuns(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		data := map[string]any{"content": "hi", "metrics": map[string]any{"total_tokens": 3}, "messages": "not a list"}
		a.Seed(t,
			testkit.Session{ID: "a1", Type: "agent", UserID: ptr("u1"), CreatedAt: 100, RunRows: []testkit.Run{
				{ID: "r3", CreatedAt: 300, Data: data}, {ID: "r1", CreatedAt: 100, Data: data},
				{ID: "r2", CreatedAt: 200, Data: data}, {ID: "r0", CreatedAt: 200, Data: data},
			}},
			testkit.Session{ID: "t1", Type: "team", CreatedAt: 100},
			testkit.Session{ID: "empty", Type: "agent", CreatedAt: 100})
		ids := func(res testkit.Response) []string {
			t.Helper()
			wantStatus(t, res, http.StatusOK)
			out := []string{}
			for _, r := range jsonOf[[]map[string]any](t, res) {
				out = append(out, r["run_id"].(string))
			}
			return out
		}
		t.Run("Ordered", func(t *testing.T) {
			t.Parallel()
			// In the order they were recorded (run_index), as agno 3.0
			// lists them, whatever their created_at.
			if got, want := ids(a.Do(t, http.MethodGet, "/sessions/a1/runs", "")), []string{"r3", "r1", "r2", "r0"}; !reflect.DeepEqual(got, want) {
				t.Errorf("runs = %v, want %v", got, want)
			}
		})
		t.Run("InclusiveBounds", func(t *testing.T) {
			t.Parallel()
			if got, want := ids(a.Do(t, http.MethodGet, "/sessions/a1/runs?created_after=200&created_before=300", "")), []string{"r3", "r2", "r0"}; !reflect.DeepEqual(got, want) {
				t.Errorf("runs = %v, want %v", got, want)
			}
			if got, want := ids(a.Do(t, http.MethodGet, "/sessions/a1/runs?created_before=100", "")), []string{"r1"}; !reflect.DeepEqual(got, want) {
				t.Errorf("runs = %v, want %v", got, want)
			}
		})
		t.Run("EmptyIsAList", func(t *testing.T) {
			t.Parallel()
			res := a.Do(t, http.MethodGet, "/sessions/empty/runs", "")
			if got := ids(res); len(got) != 0 || string(res.Body) != "[]\n" {
				t.Errorf("body = %q, want []", res.Body)
			}
		})
		t.Run("UnknownSession", func(t *testing.T) {
			t.Parallel()
			a.Do(t, http.MethodGet, "/sessions/nope/runs", "").WantError(t, 404, "NOT_FOUND", "Session with ID nope not found")
			a.Do(t, http.MethodGet, "/sessions/a1/runs?user_id=u2", "").WantError(t, 404, "NOT_FOUND", "Session with ID a1 not found")
			a.Do(t, http.MethodGet, "/sessions/a1/runs?type=team", "").WantError(t, 404, "NOT_FOUND", "Session with ID a1 not found")
		})
		t.Run("OneRun", func(t *testing.T) {
			t.Parallel()
			res := a.Do(t, http.MethodGet, "/sessions/a1/runs/r2", "")
			wantStatus(t, res, http.StatusOK)
			got := jsonOf[map[string]any](t, res)
			if got["run_id"] != "r2" || got["content"] != "hi" || !reflect.DeepEqual(got["metrics"], map[string]any{"total_tokens": 3.0}) {
				t.Errorf("run = %v, want r2 with its content and metrics", got)
			}
			if _, ok := got["messages"]; ok {
				t.Errorf("messages = %v: a mistyped run_data key must be left out", got["messages"])
			}
			a.Do(t, http.MethodGet, "/sessions/a1/runs/nope", "").WantError(t, 404, "NOT_FOUND", "Run with ID nope not found in session a1")
			a.Do(t, http.MethodGet, "/sessions/t1/runs/r2", "").WantError(t, 404, "NOT_FOUND", "Run with ID r2 not found in session t1")
		})
		t.Run("Record", func(t *testing.T) {
			t.Parallel()
			res := a.Do(t, http.MethodPost, "/sessions/t1/runs", `{"run_id":"tr1","status":"completed","team_id":"team-9",
				"run_data":{"content":{"answer":42},"run_input":"q?"}}`, "Content-Type", jsonCT)
			wantStatus(t, res, http.StatusCreated)
			got := jsonOf[map[string]any](t, res)
			if got["run_id"] != "tr1" || got["team_id"] != "team-9" || got["status"] != "COMPLETED" || got["run_input"] != "q?" ||
				!reflect.DeepEqual(got["content"], map[string]any{"answer": 42.0}) {
				t.Errorf("recorded %v", got)
			}
			if got := ids(a.Do(t, http.MethodGet, "/sessions/t1/runs", "")); !reflect.DeepEqual(got, []string{"tr1"}) {
				t.Errorf("runs of t1 = %v, want [tr1]", got)
			}
			a.Do(t, http.MethodPost, "/sessions/t1/runs", `{"run_id":"tr1","team_id":"team-9"}`, "Content-Type", jsonCT).
				WantError(t, 409, "CONFLICT", "A run with ID tr1 already exists")
			// Without a component id agno would drop the run from chat
			// history, and t1 has none of its own.
			a.Do(t, http.MethodPost, "/sessions/t1/runs", `{"run_id":"tr2"}`, "Content-Type", jsonCT).
				WantError(t, 422, "VALIDATION_ERROR", "body.team_id: a run of a team session 't1' needs its team_id, and neither the body nor the session has one")
			a.Do(t, http.MethodPost, "/sessions/nope/runs", `{}`, "Content-Type", jsonCT).
				WantError(t, 404, "NOT_FOUND", "Session with id 'nope' not found")
			res = a.Do(t, http.MethodPost, "/sessions/t1/runs", `{"team_id":"team-9"}`, "Content-Type", jsonCT)
			wantStatus(t, res, http.StatusCreated)
			if id, _ := jsonOf[map[string]any](t, res)["run_id"].(string); !uuidPattern.MatchString(id) {
				t.Errorf("run id %q, want a UUID", id)
			}
		})
	})
}

func TestDeleteSession(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t, testkit.Session{ID: "a1", Type: "agent", UserID: ptr("u1"), Runs: 2}, testkit.Session{ID: "keep", Type: "team", Runs: 1})
		a.Do(t, http.MethodDelete, "/sessions/a1?user_id=u2", "").WantError(t, 404, "NOT_FOUND", "Session with id 'a1' not found")
		a.WantRows(t, []string{"a1"}, 1, 2)
		res := a.Do(t, http.MethodDelete, "/sessions/a1?user_id=u1", "")
		if res.Status != http.StatusNoContent || len(res.Body) != 0 {
			t.Fatalf("got %d %q, want 204", res.Status, res.Body)
		}
		a.WantRows(t, []string{"a1"}, 0, 0)
		a.WantRows(t, []string{"keep"}, 1, 1)
		a.Do(t, http.MethodDelete, "/sessions/a1", "").WantError(t, 404, "NOT_FOUND", "Session with id 'a1' not found")
	})
}

func TestRenameSession(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t, testkit.Session{ID: "t1", Type: "team", Name: "Old", CreatedAt: 100})
		res := a.Do(t, http.MethodPost, "/sessions/t1/rename", `{"session_name":"New name"}`, "Content-Type", jsonCT)
		wantStatus(t, res, http.StatusOK)
		got := jsonOf[map[string]any](t, res)
		if got["session_name"] != "New name" || got["session_type"] != "team" || got["updated_at"] == nil {
			t.Errorf("renamed %v, want the team session named New name with updated_at", got)
		}
		for _, name := range []string{`""`, `"   "`} {
			a.Do(t, http.MethodPost, "/sessions/t1/rename", `{"session_name":`+name+`}`, "Content-Type", jsonCT).
				WantError(t, 400, "BAD_REQUEST", "Invalid session name")
		}
		res = a.Do(t, http.MethodPost, "/sessions/t1/rename", `{}`, "Content-Type", jsonCT)
		res.WantError(t, 422, "VALIDATION_ERROR", `body.session_name: property "session_name" is missing`)
		a.Do(t, http.MethodPost, "/sessions/t1/rename", `{"session_name":null}`, "Content-Type", jsonCT).
			WantError(t, 422, "VALIDATION_ERROR", "body.session_name: must be a string, not null")
		a.Do(t, http.MethodPost, "/sessions/nope/rename", `{"session_name":"x"}`, "Content-Type", jsonCT).
			WantError(t, 404, "NOT_FOUND", "Session with id 'nope' not found")
		if got := jsonOf[map[string]any](t, a.Do(t, http.MethodGet, "/sessions/t1", "")); got["session_name"] != "New name" {
			t.Errorf("stored name = %v, want New name", got["session_name"])
		}
	})
}

func TestUpdateSession(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t, testkit.Session{ID: "a1", Type: "agent", Runs: 2})
		get := func() map[string]any {
			t.Helper()
			return jsonOf[map[string]any](t, a.Do(t, http.MethodGet, "/sessions/a1", ""))
		}
		patch := func(body string) map[string]any {
			t.Helper()
			res := a.Do(t, http.MethodPatch, "/sessions/a1", body, "Content-Type", jsonCT)
			wantStatus(t, res, http.StatusOK)
			return jsonOf[map[string]any](t, res)
		}
		got := patch(`{"session_name":"N","session_state":{"k":1},"metadata":{"m":true},"summary":{"summary":"s"}}`)
		want := map[string]any{"session_name": "N", "session_state": map[string]any{"k": 1.0},
			"metadata": map[string]any{"m": true}, "session_summary": map[string]any{"summary": "s"}}
		for k, v := range want {
			if !reflect.DeepEqual(got[k], v) {
				t.Errorf("after set: %s = %v, want %v", k, got[k], v)
			}
		}
		updated := got["updated_at"]
		if updated == nil {
			t.Fatal("updated_at not set by a change")
		}

		got = patch(`{"metadata":null,"session_state":null}`)
		if _, ok := got["metadata"]; ok || got["session_state"] != nil || got["session_name"] != "N" ||
			!reflect.DeepEqual(got["session_summary"], map[string]any{"summary": "s"}) {
			t.Errorf("after clearing: %v, want metadata and state gone, name and summary kept", got)
		}

		a.DB["default"].Exec(`UPDATE agno_sessions SET updated_at = 1 WHERE session_id = 'a1'`)
		got = patch(`{}`)
		if got["updated_at"] != "1970-01-01T00:00:01Z" || !reflect.DeepEqual(get(), got) {
			t.Errorf("an empty patch changed the session: %v", got)
		}
		a.WantRows(t, []string{"a1"}, 1, 2)

		a.Do(t, http.MethodPatch, "/sessions/nope", `{"session_name":"x"}`, "Content-Type", jsonCT).
			WantError(t, 404, "NOT_FOUND", "Session with id 'nope' not found")
		res := a.Do(t, http.MethodPatch, "/sessions/a1", `{"metadata":"text"}`, "Content-Type", jsonCT)
		if res.Status != http.StatusUnprocessableEntity {
			t.Errorf("metadata as text: status %d, want 422", res.Status)
		}
	})
}

func TestEveryOperation_Resolution(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	a.Seed(t, testkit.Session{ID: "s1", Type: "agent", CreatedAt: 100})
	ops := []struct{ method, path, body string }{
		{http.MethodGet, "/sessions", ""},
		{http.MethodPost, "/sessions", `{}`},
		{http.MethodDelete, "/sessions", `{"session_ids":["s1"],"session_types":["agent"]}`},
		{http.MethodGet, "/sessions/s1", ""},
		{http.MethodDelete, "/sessions/s1", ""},
		{http.MethodPatch, "/sessions/s1", `{}`},
		{http.MethodPost, "/sessions/s1/rename", `{"session_name":"x"}`},
		{http.MethodGet, "/sessions/s1/runs", ""},
		{http.MethodPost, "/sessions/s1/runs", `{}`},
		{http.MethodGet, "/sessions/s1/runs/r1", ""},
	}
	for _, op := range ops {
		t.Run(op.method+op.path, func(t *testing.T) {
			t.Parallel()
			a.Do(t, op.method, op.path+"?table=agno_sessions", op.body, "Content-Type", jsonCT).
				WantError(t, 400, "BAD_REQUEST", "The db_id query parameter is required when passing a table")
			a.Do(t, op.method, op.path+"?db_id=nope", op.body, "Content-Type", jsonCT).
				WantError(t, 404, "NOT_FOUND", "No database found with id 'nope'")
			a.Do(t, op.method, op.path+"?db_id=default&table=agno_runs", op.body, "Content-Type", jsonCT).
				WantError(t, 404, "NOT_FOUND", "No database with id 'default' has table 'agno_runs'")
			a.WantRows(t, []string{"s1"}, 1, 0)
		})
	}
}
