package testkit

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/agentos-sessions/agentos-sessions/store"
)

// Session is a session row Seed inserts, with its runs.
type Session struct {
	ID, Type        string
	UserID, AgentID *string
	// Name is session_data's session_name; session_data is NULL without one.
	Name string
	// CreatedAt is in epoch seconds, 1700000000 when zero.
	CreatedAt int64
	UpdatedAt *int64
	// Runs is how many runs it has, named "<ID>-run-0", "<ID>-run-1", …
	// and created with it, besides RunRows.
	Runs int
	// RunRows are runs of its own making.
	RunRows []Run
}

// Run is a run row Seed inserts into its session's runs table.
type Run struct {
	ID string
	// CreatedAt is in epoch seconds, its session's when zero.
	CreatedAt int64
	// Data is the run's own keys; run_data also holds run_id,
	// session_id, created_at and the session's component id (agent_id,
	// team_id or workflow_id), as agno writes every run.
	Data map[string]any
}

// seedBatch is how many rows one INSERT carries.
const seedBatch = 500

// Seed inserts sessions and their runs into a database's tables pair, in
// agno 3.0's layout (the one the server creates), with SQL of its own, as
// agno would have written them: runs in order of run_index, typed like
// their session. It is the only place tests write sessions and runs behind
// the server's back, so that a change of the tables' layout is made here
// once. Tests of agno's other layouts build them with internal/agnodb.
func Seed(t testing.TB, db *gorm.DB, tables store.TablePair, sessions ...Session) {
	t.Helper()
	var sessionRows, runRows [][]any
	for _, s := range sessions {
		created := s.CreatedAt
		if created == 0 {
			created = 1700000000
		}
		var data any
		if s.Name != "" {
			data = jsonText(t, map[string]any{"session_name": s.Name})
		}
		sessionRows = append(sessionRows, []any{s.ID, s.Type, s.UserID, s.AgentID, data, created, s.UpdatedAt})
		runs := s.RunRows
		for i := range s.Runs {
			runs = append(runs, Run{ID: fmt.Sprintf("%s-run-%d", s.ID, i)})
		}
		component := map[string]string{"agent": "agent_id", "team": "team_id", "workflow": "workflow_id"}[s.Type]
		componentID := s.Type
		if s.AgentID != nil && s.Type == "agent" {
			componentID = *s.AgentID
		}
		for i, r := range runs {
			at := r.CreatedAt
			if at == 0 {
				at = created
			}
			data := map[string]any{"run_id": r.ID, "session_id": s.ID, "created_at": at}
			if component != "" {
				data[component] = componentID
			}
			for k, v := range r.Data {
				data[k] = v
			}
			runRows = append(runRows, []any{r.ID, s.ID, s.Type, i, jsonText(t, data), at})
		}
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := insert(tx, tables.Sessions, []string{"session_id", "session_type", "user_id", "agent_id", "session_data", "created_at", "updated_at"}, sessionRows); err != nil {
			return err
		}
		return insert(tx, tables.Runs, []string{"run_id", "session_id", "run_type", "run_index", "run_data", "created_at"}, runRows)
	})
	if err != nil {
		t.Fatalf("testkit: seed %s: %v", tables.Sessions, err)
	}
}

// insert writes rows into table, seedBatch rows to a statement.
func insert(tx *gorm.DB, table string, columns []string, rows [][]any) error {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
	for len(rows) > 0 {
		batch := rows[:min(len(rows), seedBatch)]
		rows = rows[len(batch):]
		values := make([]string, len(batch))
		args := make([]any, 0, len(batch)*len(columns))
		for i, row := range batch {
			values[i] = one
			args = append(args, row...)
		}
		query := fmt.Sprintf(`INSERT INTO %q (%s) VALUES %s`, table, strings.Join(columns, ", "), strings.Join(values, ", "))
		if err := tx.Exec(query, args...).Error; err != nil {
			return err
		}
	}
	return nil
}

func jsonText(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("testkit: encode %v: %v", v, err)
	}
	return string(b)
}

// Seed inserts sessions into the default tables of database "default".
func (a *API) Seed(t testing.TB, sessions ...Session) {
	t.Helper()
	a.SeedInto(t, "default", store.DefaultTables, sessions...)
}

// SeedInto inserts sessions into a database's tables pair.
func (a *API) SeedInto(t testing.TB, dbID string, tables store.TablePair, sessions ...Session) {
	t.Helper()
	Seed(t, a.DB[dbID], tables, sessions...)
}

// Rows returns how many sessions with these ids, and how many of their
// runs, a database's tables hold.
func (a *API) Rows(t testing.TB, dbID string, tables store.TablePair, ids ...string) (sessions, runs int64) {
	t.Helper()
	db := a.DB[dbID]
	if err := db.Table(tables.Sessions).Where("session_id IN ?", ids).Count(&sessions).Error; err != nil {
		t.Fatalf("testkit: count sessions: %v", err)
	}
	if err := db.Table(tables.Runs).Where("session_id IN ?", ids).Count(&runs).Error; err != nil {
		t.Fatalf("testkit: count runs: %v", err)
	}
	return sessions, runs
}

// WantRows checks how many of the given sessions, and of their runs,
// remain in the default tables of database "default".
func (a *API) WantRows(t testing.TB, ids []string, wantSessions, wantRuns int64) {
	t.Helper()
	a.WantRowsIn(t, "default", store.DefaultTables, ids, wantSessions, wantRuns)
}

// WantRowsIn checks how many of the given sessions, and of their runs,
// remain in a database's tables pair.
func (a *API) WantRowsIn(t testing.TB, dbID string, tables store.TablePair, ids []string, wantSessions, wantRuns int64) {
	t.Helper()
	s, r := a.Rows(t, dbID, tables, ids...)
	if s != wantSessions || r != wantRuns {
		t.Errorf("%s/%s rows of %v: got %d sessions %d runs, want %d sessions %d runs",
			dbID, tables.Sessions, ids, s, r, wantSessions, wantRuns)
	}
}
