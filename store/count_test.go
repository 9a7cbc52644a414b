package store

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// tally is a DeleteCounter that adds up what it is told.
type tally struct {
	sessions, runs int64
	runReports     int
}

func (c *tally) SessionsDeleted(n int64) { c.sessions += n }
func (c *tally) RunsDeleted(n int64)     { c.runs += n; c.runReports++ }

// countedCall is one way of deleting the sessions "c-1" and "c-2" (two runs
// each, seeded first), and what the counter must have been told after it.
type countedCall struct {
	name           string
	method         string // the Sessions method it calls
	call           func(ctx context.Context, s Sessions) error
	sessions, runs int64
	runReports     int
}

// countedCalls calls every delete of Sessions, each way it counts.
var countedCalls = []countedCall{
	{"DeleteSession", "DeleteSession", func(ctx context.Context, s Sessions) error {
		return s.DeleteSession(ctx, "c-1", Owner{})
	}, 1, 0, 0},
	{"DeleteSessions", "DeleteSessions", func(ctx context.Context, s Sessions) error {
		_, err := s.DeleteSessions(ctx, []SessionKey{{"c-1", "agent"}, {"c-2", "team"}, {"none", "agent"}}, DeleteOptions{})
		return err
	}, 2, 0, 0},
	{"DeleteSessionsWithReport", "DeleteSessions", func(ctx context.Context, s Sessions) error {
		_, err := s.DeleteSessions(ctx, []SessionKey{{"c-1", "agent"}, {"c-2", "team"}, {"none", "agent"}}, DeleteOptions{Report: true})
		return err
	}, 2, 4, 1},
}

func TestCountDeletes(t *testing.T) {
	t.Parallel()
	covered := make(map[string]bool)
	for _, c := range countedCalls {
		covered[c.method] = true
	}
	sessions := reflect.TypeFor[Sessions]()
	for i := range sessions.NumMethod() {
		if name := sessions.Method(i).Name; strings.HasPrefix(name, "Delete") && !covered[name] {
			t.Errorf("Sessions.%s deletes, but countedCalls never calls it: count what it removes in countedSessions, and add it there", name)
		}
	}

	forEachDialect(t, func(t *testing.T, newURL newURL) {
		t.Parallel()
		for _, c := range countedCalls {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				catalog := openCatalog(t, newURL(t))
				seed(t, catalog, DefaultTables, session{ID: "c-1", Type: "agent", Runs: 2}, session{ID: "c-2", Type: "team", Runs: 2})
				var got tally
				counted := CountDeletes(resolve(t, catalog, ""), &got)
				if err := c.call(context.Background(), counted); err != nil {
					t.Fatal(err)
				}
				want := tally{sessions: c.sessions, runs: c.runs, runReports: c.runReports}
				if got != want {
					t.Errorf("counted %+v, want %+v", got, want)
				}
				// A delete that fails counts nothing.
				if err := c.call(context.Background(), CountDeletes(failingDeletes{}, &got)); err == nil {
					t.Fatal("failingDeletes: no error")
				}
				if got != want {
					t.Errorf("after a failed delete: counted %+v, want %+v still", got, want)
				}
			})
		}
	})
}

// failingDeletes is a table whose every delete fails.
type failingDeletes struct{ Sessions }

func (failingDeletes) DeleteSession(context.Context, string, Owner) error { return ErrNotFound }

func (failingDeletes) DeleteSessions(context.Context, []SessionKey, DeleteOptions) (DeleteResult, error) {
	return DeleteResult{}, context.Canceled
}
