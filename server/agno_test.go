package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/agnodb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

// The HTTP API over agno's own tables: built by internal/agnodb from agno's
// column lists, filled in agno's encodings, then served through the whole
// stack (every response checked against openapi.yaml).

var agnoLayouts = []agnodb.Layout{agnodb.V2, agnodb.V3, agnodb.V3Migrated, agnodb.V3BeforeFirstRun}

// agnoRuns inserts a session and its runs where the layout keeps runs.
func agnoRuns(t *testing.T, f *agnodb.DB, s agnodb.Session, runs ...map[string]any) {
	t.Helper()
	if f.Layout.HasRunsColumn() {
		s.Runs = runs
	}
	f.InsertSession(t, s)
	if f.Layout.HasRunsTable() {
		for i, r := range runs {
			idx := int64(i)
			f.InsertRun(t, agnodb.Run{Index: &idx, Data: r, UserID: s.UserID})
		}
	}
}

func TestAgno_ServesAgnosTables(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		for _, l := range agnoLayouts {
			t.Run(string(l), func(t *testing.T) {
				t.Parallel()
				url := newURL(t)
				f := agnodb.CreateAt(t, url, l, agnodb.Options{VersionRows: true, ToolResults: l.HasRunsTable()})
				metrics := map[string]any{"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
				agnoRuns(t, f, agnodb.Session{ID: "a1", AgentID: ptr("helper"), UserID: ptr("u1"), CreatedAt: 100, UpdatedAt: i64(100),
					SessionData: map[string]any{"session_metrics": metrics}},
					agnodb.IntroductionRun("a1-r0", "a1", "helper", "Hi, I can help.", 100),
					agnodb.AgentRun("a1-r1", "a1", "helper", "What is the capital of France?", "Paris.", 101))
				agnoRuns(t, f, agnodb.Session{ID: "t1", TeamID: ptr("planners"), SessionData: map[string]any{}, CreatedAt: 200, UpdatedAt: i64(200)},
					agnodb.TeamRun("t1-r0", "t1", "planners", "Plan a trip to Kyoto", "Here is a plan.", 200),
					agnodb.MemberRun("t1-r1", "t1", "researcher", "t1-r0", "Find hotels", "Three hotels.", 201))
				agnoRuns(t, f, agnodb.Session{ID: "w1", WorkflowID: ptr("blog"), SessionData: map[string]any{}, CreatedAt: 300, UpdatedAt: i64(300),
					WorkflowData: map[string]any{"workflow_id": "blog", "name": "BlogGenerator"}},
					agnodb.WorkflowRun("w1-r0", "w1", "blog", "Write about Go", 300))
				// agno stores JSON null for a session made without a name.
				f.InsertSession(t, agnodb.Session{ID: "nulldata", AgentID: ptr("helper"), CreatedAt: 400, UpdatedAt: i64(400),
					Encodings: map[string]agnodb.Encoding{"session_data": agnodb.JSONNull}})
				if l.HasRunsTable() {
					f.InsertToolResult(t, agnodb.ToolResult{SessionID: "a1", RunID: "a1-r1"})
				}
				a := testkit.NewAPI(t, url, server.Config{})
				withRuns := l != agnodb.V3BeforeFirstRun

				list := jsonOf[struct {
					Data []map[string]any `json:"data"`
				}](t, a.Do(t, http.MethodGet, "/sessions?sort_by=created_at&sort_order=asc", ""))
				names := map[string]any{}
				for _, s := range list.Data {
					names[s["session_id"].(string)] = s["session_name"]
				}
				want := map[string]any{"a1": "What is the capital of France?", "t1": "Plan a trip to Kyoto", "w1": "Write about Go", "nulldata": ""}
				if !withRuns {
					want = map[string]any{"a1": "", "t1": "", "w1": "", "nulldata": ""}
				}
				if !reflect.DeepEqual(names, want) {
					t.Errorf("names: got %v, want %v", names, want)
				}
				if len(list.Data) > 0 && (list.Data[0]["total_tokens"] != 15.0 || list.Data[0]["metrics"] == nil) {
					t.Errorf("list row a1: metrics %v, total_tokens %v; want session_metrics and 15", list.Data[0]["metrics"], list.Data[0]["total_tokens"])
				}

				detail := jsonOf[map[string]any](t, a.Do(t, http.MethodGet, "/sessions/a1", ""))
				history, _ := detail["chat_history"].([]any)
				var roles []string
				for _, m := range history {
					roles = append(roles, m.(map[string]any)["role"].(string))
				}
				wantRoles := []string{"assistant", "user", "assistant"} // the introduction, then the question and answer; no system message
				if !withRuns {
					wantRoles = nil
				}
				if !slices.Equal(roles, wantRoles) || detail["total_tokens"] != 15.0 {
					t.Errorf("a1's chat_history roles %v (want %v), total_tokens %v", roles, wantRoles, detail["total_tokens"])
				}

				if withRuns {
					runs := jsonOf[[]map[string]any](t, a.Do(t, http.MethodGet, "/sessions/t1/runs", ""))
					if len(runs) != 2 || runs[0]["team_id"] != "planners" || runs[0]["run_input"] != "Plan a trip to Kyoto" ||
						runs[1]["agent_id"] != "researcher" || runs[1]["parent_run_id"] != "t1-r0" {
						t.Errorf("t1's runs: %v", runs)
					}
					wf := jsonOf[[]map[string]any](t, a.Do(t, http.MethodGet, "/sessions/w1/runs", ""))
					if len(wf) != 1 || wf[0]["workflow_id"] != "blog" || wf[0]["run_input"] != "Write about Go" {
						t.Errorf("w1's runs: %v", wf)
					}
					found := jsonOf[map[string]any](t, a.Do(t, http.MethodGet, "/sessions/a1/runs/a1-r1", ""))
					if found["content"] != "Paris." || found["run_input"] != "What is the capital of France?" {
						t.Errorf("a1-r1: %v", found)
					}
				}

				// Rename works on the JSON-null session_data agno left.
				res := a.Do(t, http.MethodPost, "/sessions/nulldata/rename", `{"session_name":"Renamed"}`, "Content-Type", jsonCT)
				wantStatus(t, res, http.StatusOK)
				if got := jsonOf[map[string]any](t, res)["session_name"]; got != "Renamed" {
					t.Errorf("renamed: %v", got)
				}

				// Recording a run: where agno would have put it.
				res = a.Do(t, http.MethodPost, "/sessions/a1/runs", `{"run_id":"a1-new","status":"completed","run_data":{"content":"New."}}`, "Content-Type", jsonCT)
				wantStatus(t, res, http.StatusCreated)
				checkRecordedAsAgnoDoes(t, f, "a1", "a1-new", withRuns)

				// delete_media: no media storage here; nothing is deleted.
				body := testkit.DeleteBody([]string{"a1", "t1", "w1"}, []string{"agent", "team", "workflow"})
				a.Do(t, http.MethodDelete, "/sessions?delete_media=true", body, "Content-Type", jsonCT).
					WantError(t, 503, "SERVICE_UNAVAILABLE", "Media storage is not configured on AgentOS")
				if n := f.Count(t, f.Sessions); n != 4 {
					t.Fatalf("sessions after the 503: %d, want 4", n)
				}
				res = a.Do(t, http.MethodDelete, "/sessions", body, "Content-Type", jsonCT, "Prefer", "return=representation")
				wantStatus(t, res, http.StatusOK)
				var report struct {
					Deleted []struct {
						ID   string `json:"session_id"`
						Runs int    `json:"runs_deleted"`
					} `json:"deleted"`
				}
				if err := json.Unmarshal(res.Body, &report); err != nil {
					t.Fatal(err)
				}
				got := map[string]int{}
				for _, d := range report.Deleted {
					got[d.ID] = d.Runs
				}
				wantRuns := map[string]int{"a1": 3, "t1": 2, "w1": 1}
				if !withRuns {
					wantRuns = map[string]int{"a1": 1, "t1": 0, "w1": 0} // a1's one is the run just recorded
				}
				if !reflect.DeepEqual(got, wantRuns) {
					t.Errorf("report: got %v, want %v", got, wantRuns)
				}
				if n := f.Count(t, f.Sessions); n != 1 {
					t.Errorf("sessions left: %d, want 1", n)
				}
				if l.HasRunsTable() {
					if n := f.Count(t, f.Runs); n != 0 {
						t.Errorf("runs left: %d, want 0", n)
					}
					if n := f.Count(t, agnodb.ToolResultsTable); n != 0 {
						t.Errorf("tool results left: %d, want 0", n)
					}
				}
				if v2, v3 := agnodb.AgnoAccepts(t, f.SQL, f.Dialect, f.Schema, f.Sessions, f.Runs); !v3 || v2 != l.HasRunsColumn() {
					t.Errorf("agno's column checks afterwards: 2.x %t, 3.0 %t", v2, v3)
				}
			})
		}
	})
}

// checkRecordedAsAgnoDoes reads a recorded run back with raw SQL, in the
// shape agno reads: on a runs table one row with run_type, an uppercase
// status, the next run_index and the whole run in run_data; on agno 2.x's
// layout an entry of the session's runs array.
func checkRecordedAsAgnoDoes(t *testing.T, f *agnodb.DB, sessionID, runID string, hadRuns bool) {
	t.Helper()
	if f.Layout.HasRunsColumn() && !f.Layout.HasRunsTable() {
		var raw string
		if err := f.SQL.QueryRow("SELECT runs FROM "+f.Qualified(f.Sessions)+" WHERE session_id = "+ph(f, 1), sessionID).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		v, err := agnodb.DecodeStored(raw)
		if err != nil {
			t.Fatal(err)
		}
		runs, _ := v.([]any)
		last, _ := runs[len(runs)-1].(map[string]any)
		if last["run_id"] != runID || last["status"] != "COMPLETED" || last["agent_id"] != "helper" || last["session_id"] != sessionID {
			t.Errorf("the array's new entry: %v", last)
		}
		return
	}
	var runType, status, data string
	var index int64
	q := "SELECT run_type, status, run_index, run_data FROM " + f.Qualified(f.Runs) + " WHERE run_id = " + ph(f, 1)
	if err := f.SQL.QueryRow(q, runID).Scan(&runType, &status, &index, &data); err != nil {
		t.Fatalf("read the recorded run: %v", err)
	}
	wantIndex := int64(2)
	if !hadRuns {
		wantIndex = 0
	}
	var run map[string]any
	if err := json.Unmarshal([]byte(data), &run); err != nil {
		t.Fatalf("run_data %q: %v", data, err)
	}
	if runType != "agent" || status != "COMPLETED" || index != wantIndex || run["agent_id"] != "helper" || run["run_id"] != runID || run["content"] != "New." {
		t.Errorf("recorded run: run_type %s, status %s, run_index %d (want %d), run_data %v", runType, status, index, wantIndex, run)
	}
}

func ph(f *agnodb.DB, n int) string {
	if f.Dialect == agnodb.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return fmt.Sprintf("?%d", n)
}

// TestAgno_LayoutChangesWithRequestsInFlight changes agno 2.x tables into
// agno 3.0's while clients list, read and delete: agno creates its runs
// table, then drops the legacy runs column. No request gets a 5xx.
func TestAgno_LayoutChangesWithRequestsInFlight(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		url := newURL(t)
		f := agnodb.CreateAt(t, url, agnodb.V2, agnodb.Options{})
		for i := range 20 {
			id := fmt.Sprintf("s%d", i)
			agnoRuns(t, f, agnodb.Session{ID: id, AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: int64(i)},
				agnodb.AgentRun(id+"-r0", id, "helper", "Question", "Answer", int64(i)))
		}
		a := testkit.NewAPI(t, url, server.Config{})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		failures := make(chan string, 100)
		for c := range 4 {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					var res testkit.Response
					switch c {
					case 0:
						res = a.Do(t, http.MethodGet, "/sessions?limit=5", "")
					case 1:
						res = a.Do(t, http.MethodGet, fmt.Sprintf("/sessions/s%d/runs", n%20), "")
					case 2:
						res = a.Do(t, http.MethodGet, fmt.Sprintf("/sessions/s%d", n%20), "")
					default:
						res = a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"absent"}, []string{"agent"}), "Content-Type", jsonCT)
					}
					if res.Status >= 500 {
						failures <- fmt.Sprintf("client %d: %d %s", c, res.Status, res.Body)
						return
					}
				}
			})
		}
		scratch := agnodb.CreateAt(t, url, agnodb.V3, agnodb.Options{Sessions: "scratch_sessions"})
		mustExecRaw(t, f, "CREATE TABLE "+f.Qualified(f.Runs)+" AS SELECT * FROM "+scratch.Qualified(scratch.Runs)+" WHERE 1 = 0")
		mustExecRaw(t, f, "ALTER TABLE "+f.Qualified(f.Sessions)+" DROP COLUMN runs")
		close(stop)
		wg.Wait()
		close(failures)
		for msg := range failures {
			t.Errorf("a request failed while the layout changed: %s", msg)
		}
		wantStatus(t, a.Do(t, http.MethodGet, "/sessions/s1/runs", ""), http.StatusOK)
	})
}

func mustExecRaw(t *testing.T, f *agnodb.DB, stmt string) {
	t.Helper()
	if _, err := f.SQL.Exec(stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// TestAgno_DeleteRacingRecords records runs into sessions while a bulk
// delete removes them: every run either went with its session or was
// refused, so no run is left without its session.
func TestAgno_DeleteRacingRecords(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		for _, l := range []agnodb.Layout{agnodb.V2, agnodb.V3} {
			t.Run(string(l), func(t *testing.T) {
				t.Parallel()
				url := newURL(t)
				f := agnodb.CreateAt(t, url, l, agnodb.Options{})
				var ids, types []string
				for i := range 40 {
					id := fmt.Sprintf("race-%d", i)
					f.InsertSession(t, agnodb.Session{ID: id, AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: 1})
					ids, types = append(ids, id), append(types, "agent")
				}
				a := testkit.NewAPI(t, url, server.Config{})
				var wg sync.WaitGroup
				for w := range 8 {
					wg.Go(func() {
						for i := range 40 {
							res := a.Do(t, http.MethodPost, fmt.Sprintf("/sessions/race-%d/runs", i), fmt.Sprintf(`{"run_id":"w%d-%d"}`, w, i), "Content-Type", jsonCT)
							if res.Status != http.StatusCreated && res.Status != http.StatusNotFound {
								t.Errorf("record: %d %s", res.Status, res.Body)
							}
						}
					})
				}
				wantStatus(t, a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody(ids, types), "Content-Type", jsonCT), http.StatusNoContent)
				wg.Wait()
				// Records that came after the delete found no session (404).
				if l.HasRunsTable() {
					var orphans int
					q := "SELECT count(*) FROM " + f.Qualified(f.Runs) + " r WHERE NOT EXISTS (SELECT 1 FROM " + f.Qualified(f.Sessions) + " s WHERE s.session_id = r.session_id)"
					if err := f.SQL.QueryRow(q).Scan(&orphans); err != nil {
						t.Fatal(err)
					}
					if orphans != 0 {
						t.Errorf("runs left without their session: %d", orphans)
					}
				}
				if n := f.Count(t, f.Sessions); n != 0 {
					t.Errorf("sessions left: %d", n)
				}
			})
		}
	})
}
