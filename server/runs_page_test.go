package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/agnodb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// TestSessionRuns_Pages pages a session's runs on every agno layout with
// runs: limit and page choose the slice, X-Total-Count counts every
// matching run, the body stays a bare JSON array, and a request without
// either gets every run.
func TestSessionRuns_Pages(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		for _, l := range []agnodb.Layout{agnodb.V2, agnodb.V3, agnodb.V3Migrated} {
			t.Run(string(l), func(t *testing.T) {
				t.Parallel()
				url := newURL(t)
				f := agnodb.CreateAt(t, url, l, agnodb.Options{})
				var runs []map[string]any
				for i := range 25 {
					runs = append(runs, agnodb.AgentRun(fmt.Sprintf("r%02d", i), "s", "helper", "Q", "A", int64(100+i)))
				}
				agnoRuns(t, f, agnodb.Session{ID: "s", AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: 1}, runs...)
				a := testkit.NewAPI(t, url, server.Config{})
				page := func(query string) ([]string, string) {
					t.Helper()
					res := a.Do(t, http.MethodGet, "/sessions/s/runs"+query, "")
					wantStatus(t, res, http.StatusOK)
					var ids []string
					for _, r := range jsonOf[[]map[string]any](t, res) {
						ids = append(ids, r["run_id"].(string))
					}
					return ids, res.Header.Get("X-Total-Count")
				}
				for _, tc := range []struct {
					query, first, last string
					n                  int
					total              string
				}{
					{"", "r00", "r24", 25, "25"},
					{"?limit=10", "r00", "r09", 10, "25"},
					{"?limit=10&page=3", "r20", "r24", 5, "25"},
					{"?limit=10&page=4", "", "", 0, "25"},
					{"?page=2", "r20", "r24", 5, "25"}, // 20 per page without limit
					{"?limit=3&page=2&created_after=110", "r13", "r15", 3, "15"},
				} {
					ids, total := page(tc.query)
					if len(ids) != tc.n || total != tc.total || (tc.n > 0 && (ids[0] != tc.first || ids[len(ids)-1] != tc.last)) {
						t.Errorf("%q: got %d runs %v, X-Total-Count %s; want %d from %s to %s, %s", tc.query, len(ids), ids, total, tc.n, tc.first, tc.last, tc.total)
					}
				}
				for _, q := range []string{"?limit=0", "?limit=1001", "?page=0", "?limit=ten"} {
					if res := a.Do(t, http.MethodGet, "/sessions/s/runs"+q, ""); res.Status != http.StatusUnprocessableEntity {
						t.Errorf("%s: status %d, want 422", q, res.Status)
					}
				}
			})
		}
	})
}

// streamFails is a store that starts streaming a session's runs, then
// fails, as a database connection lost mid-read would.
type streamFails struct {
	store.Sessions
}

func (streamFails) StreamRuns(_ context.Context, id string, _ store.Owner, _ store.RunFilter, _ store.RunPage, out store.RunStream) error {
	if err := out.Start(store.Session{ID: id, Type: "agent"}, 3); err != nil {
		return err
	}
	if err := out.Run(store.Run{ID: "r1", SessionID: id, Data: map[string]any{"run_id": "r1", "agent_id": "a"}}); err != nil {
		return err
	}
	return errors.New("connection lost")
}

// TestSessionRuns_FailureMidStreamAborts: when the runs fail after the
// response began, the connection is cut; a client never gets a 200 whose
// JSON stops short.
func TestSessionRuns_FailureMidStreamAborts(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPIWith(t, testkit.Options{Resolver: fakeResolver{func(string, string) (store.Sessions, error) { return streamFails{}, nil }}})
	base := a.Listen(t)
	for _, path := range []string{"/sessions/s/runs", "/sessions/s"} {
		res, err := http.Get(base + path)
		if err != nil {
			continue // cut before the headers: as good
		}
		body, err := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err == nil {
			t.Errorf("%s: read the whole body %q (status %d); want the connection cut", path, body, res.StatusCode)
		}
		if strings.HasSuffix(strings.TrimSpace(string(body)), "]") || strings.HasSuffix(strings.TrimSpace(string(body)), "}") {
			t.Errorf("%s: body %q looks whole", path, body)
		}
	}
}
