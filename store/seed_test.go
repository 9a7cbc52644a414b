package store

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/agnodb"
)

// insertSet is a few sessions of every type, one without runs and one with
// nil JSON columns, and their runs.
func insertSet() ([]Session, []Run) {
	sessions := []Session{
		fullSession("a"),
		{ID: "t", Type: "team", TeamID: ptr("planners"), SessionData: map[string]any{}, CreatedAt: 1700000001},
		{ID: "w", Type: "workflow", WorkflowID: ptr("blog"), UserID: ptr("bob"), SessionData: map[string]any{"session_name": "Blog"},
			Metadata: map[string]any{"source": "seed"}, CreatedAt: 1700000002, UpdatedAt: ptr(int64(1700000009))},
		{ID: "empty", Type: "agent", CreatedAt: 1700000003},
	}
	var runs []Run
	for _, s := range sessions[:3] {
		for i := range 3 {
			runs = append(runs, Run{
				ID: fmt.Sprintf("%s-run-%d", s.ID, i), SessionID: s.ID, AgentID: s.AgentID, TeamID: s.TeamID, WorkflowID: s.WorkflowID,
				Status: ptr("COMPLETED"), CreatedAt: s.CreatedAt + int64(i+1)*60,
				Data: map[string]any{"run_input": "Where to?", "content": "<b>Kyoto</b> & Nara", "metrics": map[string]any{"input_tokens": 12}},
			})
		}
	}
	runs[len(runs)-1].Status, runs[len(runs)-1].UpdatedAt = ptr("ERROR"), ptr(int64(1700009999))
	return sessions, runs
}

// stored reads every session of set and its runs back through Sessions.
func stored(t *testing.T, s Sessions, sessions []Session) string {
	t.Helper()
	var out []any
	for _, want := range sessions {
		got, runs, err := s.ListRuns(context.Background(), want.ID, Owner{}, RunFilter{})
		if err != nil {
			t.Fatalf("ListRuns(%s): %v", want.ID, err)
		}
		out = append(out, got, runs)
	}
	return jsonText(t, out)
}

func TestStore_InsertSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		sessions, runs := insertSet()

		t.Run("WritesWhatCreateSessionAndCreateRunWrite", func(t *testing.T) {
			c, s := openTable(t, newURL)
			n, err := c.InsertSessions(ctx, "main", "", sessions, runs)
			if err != nil || n != (Inserted{Sessions: 4, Runs: 9}) {
				t.Fatalf("InsertSessions: %+v, %v; want 4 sessions and 9 runs", n, err)
			}
			_, one := openTable(t, newURL)
			mustCreate(t, one, sessions...)
			mustCreateRun(t, one, runs...)
			if got, want := stored(t, s, sessions), stored(t, one, sessions); got != want {
				t.Errorf("inserted:\n%s\nwant what CreateSession and CreateRun store:\n%s", got, want)
			}
		})

		t.Run("TwiceAddsNothing", func(t *testing.T) {
			c, s := openTable(t, newURL)
			// One session is there already, with a run of its own: it is
			// skipped with the runs given for it.
			mustCreate(t, s, Session{ID: "t", Type: "team", CreatedAt: 1})
			mustCreateRun(t, s, Run{ID: "mine", SessionID: "t", CreatedAt: 2})
			n, err := c.InsertSessions(ctx, "main", "", sessions, runs)
			if err != nil || n != (Inserted{Sessions: 3, Runs: 6}) {
				t.Fatalf("InsertSessions: %+v, %v; want 3 sessions and 6 runs", n, err)
			}
			before := stored(t, s, sessions)
			if n, err := c.InsertSessions(ctx, "main", "", sessions, runs); err != nil || n != (Inserted{}) {
				t.Fatalf("InsertSessions again: %+v, %v; want nothing inserted", n, err)
			}
			if after := stored(t, s, sessions); after != before {
				t.Errorf("after inserting twice:\n%s\nwant\n%s", after, before)
			}
			if _, got, err := s.ListRuns(ctx, "t", Owner{}, RunFilter{}); err != nil || len(got) != 1 || got[0].ID != "mine" {
				t.Errorf("runs of the session that was there: %v (%v), want only its own", runIDs(got), err)
			}
		})

		t.Run("RunIDTakenWritesNothing", func(t *testing.T) {
			c, s := openTable(t, newURL)
			mustCreate(t, s, Session{ID: "other", Type: "agent", CreatedAt: 1})
			mustCreateRun(t, s, Run{ID: "a-run-1", SessionID: "other", CreatedAt: 1})
			if _, err := c.InsertSessions(ctx, "main", "", sessions, runs); !errors.Is(err, ErrConflict) {
				t.Fatalf("InsertSessions: got %v, want ErrConflict", err)
			}
			checkRemaining(t, c, DefaultTables, map[string]int64{"other": 1})
		})

		// On agno's own layouts: a runs table gets the rows agno reads;
		// without one, runs are refused and nothing is written.
		for _, l := range agnoLayouts {
			t.Run(string(l), func(t *testing.T) {
				f, url := agnoFixture(t, newURL, l, agnodb.Options{})
				c := openCatalog(t, url)
				n, err := c.InsertSessions(ctx, "main", "", sessions, runs)
				if !l.HasRunsTable() {
					if !errors.Is(err, ErrNoRunsTable) {
						t.Fatalf("InsertSessions with runs: got %+v, %v; want ErrNoRunsTable", n, err)
					}
					all := ListFilter{SortBy: "created_at", Limit: 10, Page: 1}
					if _, total, err := resolve(t, c, "").ListSessions(ctx, all); err != nil || total != 0 {
						t.Errorf("after the refusal: %d sessions (%v), want none", total, err)
					}
					if n, err := c.InsertSessions(ctx, "main", "", sessions, nil); err != nil || n.Sessions != 4 {
						t.Errorf("InsertSessions without runs: %+v, %v; want 4 sessions", n, err)
					}
					return
				}
				if err != nil || n != (Inserted{Sessions: 4, Runs: 9}) {
					t.Fatalf("InsertSessions: %+v, %v; want 4 sessions and 9 runs", n, err)
				}
				checkRemaining(t, c, DefaultTables, map[string]int64{"a": 3, "t": 3, "w": 3, "empty": 0})
				if v2, v3 := agnodb.AgnoAccepts(t, f.SQL, f.Dialect, f.Schema, f.Sessions, f.Runs); !v3 || v2 != l.HasRunsColumn() {
					t.Errorf("agno's column checks after inserting: 2.x %t, 3.0 %t", v2, v3)
				}
			})
		}
	})
}
