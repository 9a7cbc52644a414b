package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/store"
)

func TestUserIsolation(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		cfg := jwtConfig()
		cfg.UserIsolation = true
		a := testkit.NewAPI(t, newURL(t), cfg)
		alice := bearer(t, "alice", "sessions:read", "sessions:write", "sessions:delete")
		admin := bearer(t, "root", "agent_os:admin")
		seedAll := func() {
			a.Seed(t,
				testkit.Session{ID: "a1", Type: "agent", UserID: ptr("alice"), Runs: 1},
				testkit.Session{ID: "b1", Type: "agent", UserID: ptr("bob"), Runs: 1},
				testkit.Session{ID: "n1", Type: "agent", Runs: 1})
		}
		seedAll()
		listIDs := func(t *testing.T, target, auth string) []string {
			t.Helper()
			res := a.Do(t, http.MethodGet, target, "", "Authorization", auth)
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
					a.Do(t, r.method, path, r.body, "Content-Type", jsonCT, "Authorization", alice).
						WantError(t, 404, "NOT_FOUND", sprintf(r.detail, target.id))
				}
			}
			a.Do(t, http.MethodGet, "/sessions/b1/runs/b1-run-0", "", "Authorization", alice).
				WantError(t, 404, "NOT_FOUND", "Run with ID b1-run-0 not found in session b1")
			a.WantRows(t, []string{"b1", "n1"}, 2, 2)
			a.WantRows(t, []string{"a1"}, 1, 1)
		})
		t.Run("OwnSessionWorks", func(t *testing.T) {
			for _, path := range []string{"/sessions/a1", "/sessions/a1?user_id=alice", "/sessions/a1/runs", "/sessions/a1/runs/a1-run-0"} {
				if res := a.Do(t, http.MethodGet, path, "", "Authorization", alice); res.Status != http.StatusOK {
					t.Errorf("GET %s as alice: status = %d, want 200 (%s)", path, res.Status, res.Body)
				}
			}
			res := a.Do(t, http.MethodPost, "/sessions/a1/runs", `{"run_id":"a1-run-new","agent_id":"helper"}`, "Authorization", alice)
			if res.Status != http.StatusCreated {
				t.Fatalf("POST run as alice: status = %d (%s)", res.Status, res.Body)
			}
			var user *string
			a.DB["default"].Table(store.DefaultTables.Runs).Select("user_id").Where("run_id = ?", "a1-run-new").Scan(&user)
			if user == nil || *user != "alice" {
				t.Errorf("run user_id = %v, want alice", user)
			}
		})
		t.Run("CreateForcesOwner", func(t *testing.T) {
			res := a.Do(t, http.MethodPost, "/sessions", `{"session_id":"c1","user_id":"bob"}`, "Authorization", alice)
			if res.Status != http.StatusCreated {
				t.Fatalf("POST /sessions: status = %d (%s)", res.Status, res.Body)
			}
			var user *string
			a.DB["default"].Table(store.DefaultTables.Sessions).Select("user_id").Where("session_id = ?", "c1").Scan(&user)
			if user == nil || *user != "alice" {
				t.Errorf("created session user_id = %v, want alice", user)
			}
		})
		t.Run("BulkDeleteOnlyOwn", func(t *testing.T) {
			body := testkit.DeleteBody([]string{"a1", "b1", "n1"}, []string{"agent", "agent", "agent"})
			res := a.Do(t, http.MethodDelete, "/sessions?user_id=bob", body, "Authorization", alice)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204 (%s)", res.Status, res.Body)
			}
			a.WantRows(t, []string{"a1", "b1", "n1"}, 3, 4)
			res = a.Do(t, http.MethodDelete, "/sessions", body, "Authorization", alice, "Prefer", "return=representation")
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
			a.WantRows(t, []string{"a1"}, 0, 0)
			a.WantRows(t, []string{"b1", "n1"}, 2, 2)
		})
		t.Run("NoSubjectFailsClosed", func(t *testing.T) {
			a.Do(t, http.MethodGet, "/sessions", "", "Authorization", bearer(t, "", "sessions:read")).
				WantError(t, 401, "UNAUTHENTICATED", "Token has no subject")
		})
		t.Run("AdminIsNotConfined", func(t *testing.T) {
			if res := a.Do(t, http.MethodGet, "/sessions/b1", "", "Authorization", admin); res.Status != http.StatusOK {
				t.Errorf("GET /sessions/b1 as admin: status = %d, want 200", res.Status)
			}
		})
	})
}
