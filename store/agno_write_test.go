package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/agnodb"
)

// TestStore_AgnoRecordRuns records runs into agno's tables on every layout,
// eight at once into one session, and reads them back with raw SQL as
// agno reads them.
func TestStore_AgnoRecordRuns(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		for _, l := range agnoLayouts {
			t.Run(string(l), func(t *testing.T) {
				ctx := context.Background()
				f, url := agnoFixture(t, newURL, l, agnodb.Options{})
				// Two runs agno wrote before: in the array, the table, or both.
				insertWithRuns(t, f, agnodb.Session{ID: "s", AgentID: ptr("helper"), UserID: ptr("u1"), SessionData: map[string]any{}, CreatedAt: 1},
					agnodb.AgentRun("old-0", "s", "helper", "Q0", "A0", 1), agnodb.AgentRun("old-1", "s", "helper", "Q1", "A1", 2))
				f.InsertSession(t, agnodb.Session{ID: "other", AgentID: ptr("helper"), SessionData: map[string]any{}, CreatedAt: 1})
				tbl := resolve(t, openCatalog(t, url), "")

				const n = 8
				var wg sync.WaitGroup
				errs := make([]error, n)
				for i := range n {
					wg.Go(func() {
						_, errs[i] = tbl.CreateRun(ctx, Run{ID: fmt.Sprintf("new-%d", i), SessionID: "s", AgentID: ptr("helper"),
							Status: ptr("COMPLETED"), Data: map[string]any{"content": fmt.Sprint(i)}, CreatedAt: 10}, Owner{UserID: ptr("u1")})
					})
				}
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("CreateRun %d: %v", i, err)
					}
				}
				_, runs, err := tbl.ListRuns(ctx, "s", Owner{}, RunFilter{})
				if err != nil {
					t.Fatalf("ListRuns: %v", err)
				}
				old := 2
				if l == agnodb.V3BeforeFirstRun {
					old = 0
				}
				if len(runs) != old+n {
					t.Fatalf("runs: got %d, want %d: %v", len(runs), old+n, runIDs(runs))
				}
				if l != agnodb.V2 {
					// Every new row has its own run_index, after the old runs.
					var indexes []int64
					for _, r := range runs[old:] {
						if r.Index == nil || r.Type == nil || *r.Type != "agent" || r.UserID == nil || *r.UserID != "u1" {
							t.Fatalf("run %s: index %v, type %v, user %v; want an index, agent, u1", r.ID, r.Index, r.Type, r.UserID)
						}
						indexes = append(indexes, *r.Index)
					}
					slices.Sort(indexes)
					want := []int64{}
					for i := range n {
						want = append(want, int64(old+i))
					}
					if !slices.Equal(indexes, want) {
						t.Errorf("run_index of the new runs: got %v, want %v", indexes, want)
					}
					v2, v3 := agnodb.AgnoAccepts(t, f.SQL, f.Dialect, f.Schema, f.Sessions, f.Runs)
					if !v3 || v2 != l.HasRunsColumn() {
						t.Errorf("agno's column checks after recording: 2.x %t, 3.0 %t", v2, v3)
					}
				}
				// A run id taken, here or in another session, is a conflict.
				for _, session := range []string{"s", "other"} {
					_, err := tbl.CreateRun(ctx, Run{ID: "new-0", SessionID: session, AgentID: ptr("helper"), CreatedAt: 11}, Owner{})
					if session == "other" && l == agnodb.V2 {
						// agno 2.x keeps runs per session: other arrays are
						// not searched.
						if err != nil {
							t.Errorf("2.x: run id of another session's array: got %v, want it recorded", err)
						}
						continue
					}
					if !errors.Is(err, ErrConflict) {
						t.Errorf("CreateRun(new-0 into %s): got %v, want ErrConflict", session, err)
					}
				}
				if _, r, err := tbl.GetRun(ctx, "s", "new-0", Owner{}); err != nil || r.Data["content"] != "0" {
					t.Errorf("new-0 after the conflicts: got %v, %v; want it unchanged", r.Data["content"], err)
				}
			})
		}
	})
}
