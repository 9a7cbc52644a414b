package server_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

// jsonOf decodes a response body, failing the test when it is not JSON.
func jsonOf[T any](t *testing.T, res testkit.Response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", res.Body, err)
	}
	return v
}

func wantStatus(t *testing.T, res testkit.Response, status int) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status = %d, want %d (body %s)", res.Status, status, res.Body)
	}
}

func i64(n int64) *int64 { return &n }

func listIDs(t *testing.T, res testkit.Response) (ids []string, meta map[string]any) {
	t.Helper()
	wantStatus(t, res, http.StatusOK)
	body := jsonOf[struct {
		Data []map[string]any `json:"data"`
		Meta map[string]any   `json:"meta"`
	}](t, res)
	if body.Data == nil {
		t.Fatalf("data is %s, want a list", res.Body)
	}
	ids = []string{}
	for _, d := range body.Data {
		ids = append(ids, d["session_id"].(string))
	}
	return ids, body.Meta
}

func TestGetSessions(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t,
			testkit.Session{ID: "s1", Type: "agent", Name: "Trip to Japan", UserID: ptr("u1"), AgentID: ptr("ag1"), CreatedAt: 100, UpdatedAt: i64(500)},
			testkit.Session{ID: "s2", Type: "team", Name: "50%_off sale", UserID: ptr("u2"), CreatedAt: 200},
			testkit.Session{ID: "s3", Type: "agent", Name: "japanese lessons", UserID: ptr("u1"), CreatedAt: 300, UpdatedAt: i64(310)},
			testkit.Session{ID: "s4", Type: "workflow", Name: "500 off", CreatedAt: 300},
			testkit.Session{ID: "s5", Type: "agent", CreatedAt: 400},
		)
		tests := []struct {
			name, query string
			want        []string
		}{
			{"NewestFirstByDefault", "", []string{"s5", "s4", "s3", "s2", "s1"}},
			{"Ascending", "?sort_order=asc", []string{"s1", "s2", "s3", "s4", "s5"}},
			{"UpdatedFallsBackToCreated", "?sort_by=updated_at", []string{"s1", "s5", "s3", "s4", "s2"}},
			{"Type", "?type=agent", []string{"s5", "s3", "s1"}},
			{"Component", "?component_id=ag1", []string{"s1"}},
			{"User", "?user_id=u1", []string{"s3", "s1"}},
			{"EmptyUserMatchesNoOwnerless", "?user_id=", []string{}},
			{"NameIgnoresCase", "?session_name=JAPAN", []string{"s3", "s1"}},
			{"NameWildcardsAreLiteral", "?session_name=" + "50%25_", []string{"s2"}},
			{"Combined", "?type=agent&user_id=u1&session_name=lesson", []string{"s3"}},
			{"Nothing", "?type=team&user_id=u1", []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				ids, meta := listIDs(t, a.Do(t, http.MethodGet, "/sessions"+tt.query, ""))
				if !reflect.DeepEqual(ids, tt.want) {
					t.Errorf("ids = %v, want %v", ids, tt.want)
				}
				if got := meta["total_count"]; got != float64(len(tt.want)) {
					t.Errorf("total_count = %v, want %d", got, len(tt.want))
				}
				if len(tt.want) == 0 && meta["total_pages"] != float64(0) {
					t.Errorf("total_pages = %v, want 0 when nothing matches", meta["total_pages"])
				}
			})
		}
		t.Run("Pages", func(t *testing.T) {
			t.Parallel()
			ids, meta := listIDs(t, a.Do(t, http.MethodGet, "/sessions?limit=2&page=2", ""))
			if !reflect.DeepEqual(ids, []string{"s3", "s2"}) {
				t.Errorf("page 2 = %v, want [s3 s2]", ids)
			}
			want := map[string]any{"page": 2.0, "limit": 2.0, "total_pages": 3.0, "total_count": 5.0}
			for k, v := range want {
				if meta[k] != v {
					t.Errorf("meta.%s = %v, want %v", k, meta[k], v)
				}
			}
			ids, meta = listIDs(t, a.Do(t, http.MethodGet, "/sessions?limit=2&page=9", ""))
			if len(ids) != 0 || meta["page"] != 9.0 || meta["total_count"] != 5.0 {
				t.Errorf("past the end: ids %v meta %v, want [] with page 9 and the total", ids, meta)
			}
		})
		t.Run("RowShape", func(t *testing.T) {
			t.Parallel()
			res := a.Do(t, http.MethodGet, "/sessions?component_id=ag1", "")
			rows := jsonOf[struct{ Data []map[string]any }](t, res).Data
			want := map[string]any{"session_id": "s1", "session_name": "Trip to Japan", "session_type": "agent",
				"user_id": "u1", "agent_id": "ag1", "created_at": "1970-01-01T00:01:40Z", "updated_at": "1970-01-01T00:08:20Z"}
			for k, v := range want {
				if rows[0][k] != v {
					t.Errorf("%s = %v, want %v", k, rows[0][k], v)
				}
			}
			ids, _ := listIDs(t, a.Do(t, http.MethodGet, "/sessions?type=agent&sort_order=asc&limit=1000", ""))
			res = a.Do(t, http.MethodGet, "/sessions?user_id=nobody-here", "")
			if !strings.Contains(string(res.Body), `"data":[]`) || len(ids) != 3 {
				t.Errorf("empty page %s: want \"data\":[]", res.Body)
			}
		})
	})
}

func TestGetSessions_Invalid(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	tests := []struct{ query, detail string }{
		{"?limit=0", "query.limit: number must be at least 1"},
		{"?limit=1001", "query.limit: number must be at most 1000"},
		{"?limit=ten", `query.limit: value "ten" is not a valid integer`},
		{"?page=0", "query.page: number must be at least 1"},
		{"?sort_by=name", `query.sort_by: value must be one of "created_at", "updated_at"`},
		{"?sort_order=up", `query.sort_order: value must be one of "asc", "desc"`},
		{"?type=robot", `query.type: value must be one of "agent", "team", "workflow"`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			a.Do(t, http.MethodGet, "/sessions"+tt.query, "").WantError(t, 422, "VALIDATION_ERROR", tt.detail)
		})
	}
	a.Do(t, http.MethodGet, "/sessions/x/runs?created_after=soon", "").
		WantError(t, 422, "VALIDATION_ERROR", `query.created_after: value "soon" is not a valid integer`)
	a.Do(t, http.MethodPost, "/sessions", `{"session_state":"x"}`, "Content-Type", jsonCT).
		WantError(t, 422, "VALIDATION_ERROR", "body.session_state: value must be an object")
	a.Do(t, http.MethodGet, "/sessions?table=agno_sessions", "").WantError(t, 400, "BAD_REQUEST", "The db_id query parameter is required when passing a table")
	a.Do(t, http.MethodGet, "/sessions?db_id=nope", "").WantError(t, 404, "NOT_FOUND", "No database found with id 'nope'")
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestCreateSession(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		t.Run("WithEverything", func(t *testing.T) {
			res := a.Do(t, http.MethodPost, "/sessions?type=team", `{"session_id":"s1","session_name":"Plan","session_state":{"step":1},
				"metadata":{"tag":"x"},"user_id":"u1","team_id":"t1"}`, "Content-Type", jsonCT)
			wantStatus(t, res, http.StatusCreated)
			got := jsonOf[map[string]any](t, res)
			want := map[string]any{"session_id": "s1", "session_name": "Plan", "session_type": "team", "user_id": "u1",
				"team_id": "t1", "session_state": map[string]any{"step": 1.0}, "metadata": map[string]any{"tag": "x"}}
			for k, v := range want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			res = a.Do(t, http.MethodGet, "/sessions/s1?type=team", "")
			wantStatus(t, res, http.StatusOK)
			if got := jsonOf[map[string]any](t, res); got["session_name"] != "Plan" {
				t.Errorf("stored session = %v, want it named Plan", got)
			}
		})
		t.Run("MakesAnId", func(t *testing.T) {
			res := a.Do(t, http.MethodPost, "/sessions", `{"session_name":"x"}`, "Content-Type", jsonCT)
			wantStatus(t, res, http.StatusCreated)
			got := jsonOf[map[string]any](t, res)
			id, _ := got["session_id"].(string)
			if !uuidPattern.MatchString(id) || got["agent_session_id"] != id || got["session_type"] != "agent" {
				t.Errorf("created %v: want an agent session with a UUID id", got)
			}
		})
		t.Run("WithoutBody", func(t *testing.T) {
			res := a.Do(t, http.MethodPost, "/sessions?type=workflow", "")
			wantStatus(t, res, http.StatusCreated)
			got := jsonOf[map[string]any](t, res)
			if got["session_name"] != "" || got["session_type"] != "workflow" {
				t.Errorf("created %v: want an unnamed workflow session", got)
			}
			if _, isInt := got["created_at"].(float64); !isInt {
				t.Errorf("workflow created_at = %v, want epoch seconds", got["created_at"])
			}
		})
		t.Run("ConflictLeavesTheRow", func(t *testing.T) {
			res := a.Do(t, http.MethodPost, "/sessions", `{"session_id":"s1","session_name":"Other"}`, "Content-Type", jsonCT)
			res.WantError(t, 409, "CONFLICT", "Session with id 's1' already exists. Use PATCH /sessions/s1 to update it.")
			got := jsonOf[map[string]any](t, a.Do(t, http.MethodGet, "/sessions/s1", ""))
			if got["session_name"] != "Plan" || got["session_type"] != "team" {
				t.Errorf("after conflict: %v, want the team session named Plan", got)
			}
		})
		t.Run("BadBody", func(t *testing.T) {
			res := a.Do(t, http.MethodPost, "/sessions", `{"session_state":"not an object"}`, "Content-Type", jsonCT)
			if res.Status != http.StatusUnprocessableEntity {
				t.Errorf("status = %d, want 422", res.Status)
			}
		})
	})
}

func TestGetSessionById(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t, testkit.Session{ID: "a1", Type: "agent", Name: "A", UserID: ptr("u1"), AgentID: ptr("ag"), CreatedAt: 1_700_000_000})
		a.Seed(t, testkit.Session{ID: "w1", Type: "workflow", Name: "W", CreatedAt: 1_700_000_000, UpdatedAt: i64(1_700_000_100)})

		got := jsonOf[map[string]any](t, a.Do(t, http.MethodGet, "/sessions/a1", ""))
		want := map[string]any{"session_id": "a1", "agent_session_id": "a1", "session_name": "A", "agent_id": "ag",
			"user_id": "u1", "created_at": "2023-11-14T22:13:20Z"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		got = jsonOf[map[string]any](t, a.Do(t, http.MethodGet, "/sessions/w1?type=workflow", ""))
		if got["created_at"] != 1_700_000_000.0 || got["updated_at"] != 1_700_000_100.0 {
			t.Errorf("workflow times = %v %v, want epoch seconds", got["created_at"], got["updated_at"])
		}
		for _, q := range []string{"/sessions/a1?type=team", "/sessions/a1?user_id=u2", "/sessions/a1?user_id=", "/sessions/nope"} {
			id := strings.TrimPrefix(strings.SplitN(q, "?", 2)[0], "/sessions/")
			a.Do(t, http.MethodGet, q, "").WantError(t, 404, "NOT_FOUND", fmt.Sprintf("Session with id '%s' not found", id))
		}
		wantStatus(t, a.Do(t, http.MethodGet, "/sessions/a1?user_id=u1&type=agent", ""), http.StatusOK)
	})
}

// TestSessionDetails_SessionType checks that every response holding one
// session names its type: session_type is the discriminator of the
// document's detail unions, which clients pick the shape by.
func TestSessionDetails_SessionType(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	for _, typ := range []string{"agent", "team", "workflow"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			id := "d-" + typ
			for _, r := range []struct{ op, method, target, body string }{
				{"create", http.MethodPost, "/sessions?type=" + typ, `{"session_id":"` + id + `"}`},
				{"get", http.MethodGet, "/sessions/" + id, ""},
				{"update", http.MethodPatch, "/sessions/" + id, `{"metadata":{"k":1}}`},
				{"rename", http.MethodPost, "/sessions/" + id + "/rename", `{"session_name":"N"}`},
			} {
				res := a.Do(t, r.method, r.target, r.body, "Content-Type", jsonCT)
				if res.Status/100 != 2 {
					t.Fatalf("%s: status %d (body %s)", r.op, res.Status, res.Body)
				}
				if got := jsonOf[map[string]any](t, res)["session_type"]; got != typ {
					t.Errorf("%s: session_type = %v, want %q", r.op, got, typ)
				}
			}
		})
	}
}

// TestQueryDefaults checks that a query parameter left out means the
// default openapi.yaml gives it: the gate does not write defaults into the
// request, so the handlers' own must be the document's.
func TestQueryDefaults(t *testing.T) {
	t.Parallel()
	doc := testkit.Document(t)
	defaults := map[string]string{} // "operationId name" → default
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value.In == openapi3.ParameterInQuery && p.Value.Schema.Value.Default != nil {
					defaults[op.OperationID+" "+p.Value.Name] = fmt.Sprint(p.Value.Schema.Value.Default)
				}
			}
		}
	}
	// type has no default where it is validated and otherwise ignored
	// (delete_sessions, update_session, rename_session): the docs would
	// pre-fill it in "Try it out".
	checked := []string{"get_sessions limit", "get_sessions page", "get_sessions sort_by", "get_sessions sort_order", "create_session type",
		// false: delete without touching media storage (this server has none).
		"delete_session delete_media", "delete_sessions delete_media"}
	if got := slices.Sorted(maps.Keys(defaults)); !slices.Equal(got, slices.Sorted(slices.Values(checked))) {
		t.Fatalf("query parameters with a default: %v, want %v: check what a new one means when left out", got, checked)
	}

	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	var rows []testkit.Session
	for i := range 25 {
		rows = append(rows, testkit.Session{ID: fmt.Sprintf("s%02d", i), Type: "agent", CreatedAt: int64(100 + i%7)})
	}
	a.Seed(t, rows...)
	page := func(query string) (ids []string, meta map[string]any) {
		ids, meta = listIDs(t, a.Do(t, http.MethodGet, "/sessions"+query, ""))
		delete(meta, "search_time_ms")
		return ids, meta
	}
	gotIDs, gotMeta := page("")
	wantIDs, wantMeta := page(fmt.Sprintf("?limit=%s&page=%s&sort_by=%s&sort_order=%s", defaults["get_sessions limit"],
		defaults["get_sessions page"], defaults["get_sessions sort_by"], defaults["get_sessions sort_order"]))
	if !slices.Equal(gotIDs, wantIDs) || !reflect.DeepEqual(gotMeta, wantMeta) {
		t.Errorf("GET /sessions: %v %v, want what the defaults give: %v %v", gotIDs, gotMeta, wantIDs, wantMeta)
	}
	res := a.Do(t, http.MethodPost, "/sessions", `{}`, "Content-Type", jsonCT)
	wantStatus(t, res, http.StatusCreated)
	if got := jsonOf[map[string]any](t, res)["session_type"]; got != defaults["create_session type"] {
		t.Errorf("POST /sessions without type: session_type %v, want %s", got, defaults["create_session type"])
	}
	for _, q := range []string{"/sessions/s00", "/sessions/s01?delete_media=" + defaults["delete_session delete_media"]} {
		wantStatus(t, a.Do(t, http.MethodDelete, q, ""), http.StatusNoContent)
	}
	for _, q := range []string{"/sessions", "/sessions?delete_media=" + defaults["delete_sessions delete_media"]} {
		wantStatus(t, a.Do(t, http.MethodDelete, q, testkit.DeleteBody([]string{"s02"}, []string{"agent"}), "Content-Type", jsonCT), http.StatusNoContent)
	}
}
