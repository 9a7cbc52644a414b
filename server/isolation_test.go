package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/store"
)

func TestUserIsolation(t *testing.T) {
	backends(t, func(t *testing.T, newURL func(testing.TB) string) {
		cfg := jwtConfig()
		cfg.UserIsolation = true
		a := newAPI(t, newURL(t), cfg)
		alice := bearer(t, "alice", "sessions:read", "sessions:write", "sessions:delete")
		admin := bearer(t, "root", "agent_os:admin")
		seedAll := func() {
			a.seed("default",
				session{id: "a1", typ: "agent", user: ptr("alice"), runs: 1},
				session{id: "b1", typ: "agent", user: ptr("bob"), runs: 1},
				session{id: "n1", typ: "agent", runs: 1})
		}
		seedAll()
		listIDs := func(t *testing.T, target, auth string) []string {
			t.Helper()
			res := a.do(http.MethodGet, target, "", "Authorization", auth)
			if res.Status != http.StatusOK {
				t.Fatalf("GET %s: status = %d (%s)", target, res.Status, res.Body)
			}
			var page struct {
				Data []struct {
					SessionID string `json:"session_id"`
				} `json:"data"`
			}
			if err := json.Unmarshal(res.Body, &page); err != nil {
				t.Fatal(err)
			}
			ids := make([]string, 0, len(page.Data))
			for _, s := range page.Data {
				ids = append(ids, s.SessionID)
			}
			return ids
		}

		t.Run("ListOwnOnly", func(t *testing.T) {
			a.t = t
			for target, want := range map[string]int{"/sessions": 1, "/sessions?user_id=alice": 1, "/sessions?user_id=bob": 0} {
				ids := listIDs(t, target, alice)
				if len(ids) != want || (want == 1 && ids[0] != "a1") {
					t.Errorf("GET %s as alice: got %v, want %d session(s), a1 only", target, ids, want)
				}
			}
			if ids := listIDs(t, "/sessions", admin); len(ids) != 3 {
				t.Errorf("GET /sessions as admin: got %v, want all 3", ids)
			}
		})
		t.Run("OthersAreMissing", func(t *testing.T) {
			a.t = t
			reqs := []struct{ method, path, body, detail string }{
				{http.MethodGet, "/sessions/%s", "", "Session with id '%s' not found"},
				{http.MethodPatch, "/sessions/%s", `{"summary":null}`, "Session with id '%s' not found"},
				{http.MethodPost, "/sessions/%s/rename", `{"session_name":"x"}`, "Session with id '%s' not found"},
				{http.MethodGet, "/sessions/%s/runs", "", "Session with ID %s not found"},
				{http.MethodPost, "/sessions/%s/runs", `{"run_id":"new-run"}`, "Session with id '%s' not found"},
				{http.MethodDelete, "/sessions/%s", "", "Session with id '%s' not found"},
			}
			for _, r := range reqs {
				// Another user's session, asked for plainly or by naming its
				// owner, reads exactly like one that does not exist.
				for _, target := range []struct{ id, query string }{{"b1", ""}, {"n1", ""}, {"b1", "?user_id=bob"}, {"a1", "?user_id=bob"}, {"zz", ""}} {
					path := sprintf(r.path, target.id) + target.query
					a.do(r.method, path, r.body, "Content-Type", jsonCT, "Authorization", alice).
						wantError(t, 404, "NOT_FOUND", sprintf(r.detail, target.id))
				}
			}
			a.do(http.MethodGet, "/sessions/b1/runs/b1-run-0", "", "Authorization", alice).
				wantError(t, 404, "NOT_FOUND", "Run with ID b1-run-0 not found in session b1")
			a.wantRows([]string{"b1", "n1"}, 2, 2)
			a.wantRows([]string{"a1"}, 1, 1)
		})
		t.Run("OwnSessionWorks", func(t *testing.T) {
			a.t = t
			for _, path := range []string{"/sessions/a1", "/sessions/a1?user_id=alice", "/sessions/a1/runs", "/sessions/a1/runs/a1-run-0"} {
				if res := a.do(http.MethodGet, path, "", "Authorization", alice); res.Status != http.StatusOK {
					t.Errorf("GET %s as alice: status = %d, want 200 (%s)", path, res.Status, res.Body)
				}
			}
			res := a.do(http.MethodPost, "/sessions/a1/runs", `{"run_id":"a1-run-new"}`, "Authorization", alice)
			if res.Status != http.StatusCreated {
				t.Fatalf("POST run as alice: status = %d (%s)", res.Status, res.Body)
			}
			var user *string
			a.db["default"].Table(store.DefaultTables.Runs).Select("user_id").Where("run_id = ?", "a1-run-new").Scan(&user)
			if user == nil || *user != "alice" {
				t.Errorf("run user_id = %v, want alice", user)
			}
		})
		t.Run("CreateForcesOwner", func(t *testing.T) {
			a.t = t
			res := a.do(http.MethodPost, "/sessions", `{"session_id":"c1","user_id":"bob"}`, "Authorization", alice)
			if res.Status != http.StatusCreated {
				t.Fatalf("POST /sessions: status = %d (%s)", res.Status, res.Body)
			}
			var user *string
			a.db["default"].Table(store.DefaultTables.Sessions).Select("user_id").Where("session_id = ?", "c1").Scan(&user)
			if user == nil || *user != "alice" {
				t.Errorf("created session user_id = %v, want alice", user)
			}
		})
		t.Run("BulkDeleteOnlyOwn", func(t *testing.T) {
			a.t = t
			body := deleteBody([]string{"a1", "b1", "n1"}, []string{"agent", "agent", "agent"})
			res := a.do(http.MethodDelete, "/sessions?user_id=bob", body, "Authorization", alice)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204 (%s)", res.Status, res.Body)
			}
			a.wantRows([]string{"a1", "b1", "n1"}, 3, 4)
			res = a.do(http.MethodDelete, "/sessions", body, "Authorization", alice, "Prefer", "return=representation")
			if res.Status != http.StatusOK {
				t.Fatalf("status = %d, want 200 (%s)", res.Status, res.Body)
			}
			var report struct {
				Deleted []struct {
					SessionID string `json:"session_id"`
				} `json:"deleted"`
				NotFound []struct {
					SessionID string `json:"session_id"`
				} `json:"not_found"`
			}
			if err := json.Unmarshal(res.Body, &report); err != nil {
				t.Fatal(err)
			}
			if len(report.Deleted) != 1 || report.Deleted[0].SessionID != "a1" || len(report.NotFound) != 2 {
				t.Errorf("report = %s, want a1 deleted, b1 and n1 not found", res.Body)
			}
			a.wantRows([]string{"a1"}, 0, 0)
			a.wantRows([]string{"b1", "n1"}, 2, 2)
		})
		t.Run("NoSubjectFailsClosed", func(t *testing.T) {
			a.t = t
			a.do(http.MethodGet, "/sessions", "", "Authorization", bearer(t, "", "sessions:read")).
				wantError(t, 401, "UNAUTHENTICATED", "Token has no subject")
		})
		t.Run("AdminIsNotConfined", func(t *testing.T) {
			a.t = t
			if res := a.do(http.MethodGet, "/sessions/b1", "", "Authorization", admin); res.Status != http.StatusOK {
				t.Errorf("GET /sessions/b1 as admin: status = %d, want 200", res.Status)
			}
		})
	})
}
