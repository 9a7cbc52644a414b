package store

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"gorm.io/gorm"
)

// Inserted counts what InsertSessions wrote.
type Inserted struct {
	Sessions int64
	Runs     int64
}

// InsertSessions writes many sessions with their runs, as the seed
// command needs them, in one transaction of two set-based statements
// whatever their number: every session in one INSERT … SELECT over a
// JSON array bound as one parameter, then every run in another. dbID and
// table name the pair as in Resolve.
//
// A session whose id is taken is skipped with its runs, so inserting the
// same sessions twice adds nothing. Sessions are written as CreateSession
// writes them, runs as CreateRun writes them on agno 3.0's layout: one
// row each, run_type and user_id the session's, run_index the run's
// position among its session's runs in runs (the sessions are new),
// run_data the whole run with its run_id, session_id, created_at, status
// and component ids. A run whose session is not in sessions is not
// written.
//
// It returns ErrNoRunsTable, writing nothing, when runs are given and the
// pair keeps no runs table (agno 2.x's layout, or agno 3.0's before its
// first run): CreateRun writes those one by one. A run id already used
// elsewhere is ErrConflict, and nothing is written.
func (c *Catalog) InsertSessions(ctx context.Context, dbID, table string, sessions []Session, runs []Run) (Inserted, error) {
	s, err := c.Resolve(dbID, table)
	if err != nil {
		return Inserted{}, err
	}
	t, ok := s.(*sessionsTable)
	if !ok {
		return Inserted{}, fmt.Errorf("insert sessions: %T is not a table of this package", s)
	}
	sessionRows, err := encodeJSON(insertedSessionRows(sessions))
	if err != nil {
		return Inserted{}, fmt.Errorf("insert sessions: encode: %w", err)
	}
	var n Inserted
	err = t.withState(ctx, func(st *tableState) error {
		n = Inserted{}
		if st.sql.runs == "" && len(runs) > 0 {
			return ErrNoRunsTable
		}
		return t.writeTx(ctx, func(conn gorm.ConnPool) error {
			rows, err := conn.QueryContext(ctx, t.insertSessionsSQL(st.sql), sessionRows)
			if err != nil {
				return err
			}
			created := make(map[string]bool, len(sessions))
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				created[id] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			n.Sessions = int64(len(created))
			newRuns := insertedRunRows(runs, created)
			if len(newRuns) == 0 {
				return nil
			}
			runRows, err := encodeJSON(newRuns)
			if err != nil {
				return fmt.Errorf("encode: %w", err)
			}
			res, err := conn.ExecContext(ctx, t.insertRunsSQL(st.sql), runRows)
			if err != nil {
				return err
			}
			n.Runs, err = res.RowsAffected()
			return err
		})
	})
	if err != nil {
		if isUniqueViolation(err) {
			err = ErrConflict
		}
		return Inserted{}, fmt.Errorf("insert sessions: %w", err)
	}
	return n, nil
}

// jsonRows is the FROM item that reads the JSON array bound as the first
// parameter, one row x per element, its element x.value.
func (t *sessionsTable) jsonRows() string {
	if t.db.dialect == DialectPostgres {
		return "jsonb_array_elements($1::jsonb) AS x(value)"
	}
	return "json_each(?1) AS x"
}

// insertSessionsSQL inserts the sessions of the JSON array that are not
// there yet and returns their ids. SQLite needs the WHERE before ON
// CONFLICT, to tell it from a join's ON.
func (t *sessionsTable) insertSessionsSQL(q *layoutSQL) string {
	exprs := make([]string, len(sessionColumns))
	for i, col := range sessionColumns {
		switch col {
		case "created_at", "updated_at":
			exprs[i] = "CAST(" + q.j.text("x.value", col) + " AS BIGINT)"
		case "session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary":
			exprs[i] = q.j.get("x.value", col)
		default:
			exprs[i] = q.j.text("x.value", col)
		}
	}
	return "INSERT INTO " + q.sessions + " (" + columnList("", sessionColumns) + ") SELECT " + strings.Join(exprs, ", ") +
		" FROM " + t.jsonRows() + " WHERE 1 = 1 ON CONFLICT DO NOTHING RETURNING session_id"
}

// insertRunsSQL inserts the runs of the JSON array into the runs table,
// each with its session's type and user_id.
func (t *sessionsTable) insertRunsSQL(q *layoutSQL) string {
	exprs := make([]string, len(runColumns))
	for i, col := range runColumns {
		switch col {
		case "session_id", "run_type", "user_id":
			exprs[i] = map[string]string{"session_id": "s.session_id", "run_type": "s.session_type", "user_id": "s.user_id"}[col]
		case "run_index", "created_at", "updated_at":
			exprs[i] = "CAST(" + q.j.text("x.value", col) + " AS BIGINT)"
		case "run_data":
			exprs[i] = q.j.get("x.value", col)
		default:
			exprs[i] = q.j.text("x.value", col)
		}
	}
	return "INSERT INTO " + q.runs + " (" + columnList("", runColumns) + ") SELECT " + strings.Join(exprs, ", ") +
		" FROM " + t.jsonRows() + " JOIN " + q.sessions + " AS s ON s.session_id = " + q.j.text("x.value", "session_id")
}

// sessionInsert is a session as an element of the JSON array
// insertSessionsSQL reads. A nil map is left out, so that its column is
// SQL NULL (SQLite would read a JSON null as the text null); an empty one
// is written as {}.
type sessionInsert struct {
	ID           string          `json:"session_id"`
	Type         string          `json:"session_type"`
	AgentID      *string         `json:"agent_id,omitempty"`
	TeamID       *string         `json:"team_id,omitempty"`
	WorkflowID   *string         `json:"workflow_id,omitempty"`
	UserID       *string         `json:"user_id,omitempty"`
	SessionData  *map[string]any `json:"session_data,omitempty"`
	AgentData    *map[string]any `json:"agent_data,omitempty"`
	TeamData     *map[string]any `json:"team_data,omitempty"`
	WorkflowData *map[string]any `json:"workflow_data,omitempty"`
	Metadata     *map[string]any `json:"metadata,omitempty"`
	Summary      *map[string]any `json:"summary,omitempty"`
	CreatedAt    int64           `json:"created_at"`
	UpdatedAt    *int64          `json:"updated_at,omitempty"`
}

func insertedSessionRows(sessions []Session) []sessionInsert {
	rows := make([]sessionInsert, len(sessions))
	for i, s := range sessions {
		rows[i] = sessionInsert{
			ID: s.ID, Type: s.Type, AgentID: s.AgentID, TeamID: s.TeamID, WorkflowID: s.WorkflowID, UserID: s.UserID,
			SessionData: object(s.SessionData), AgentData: object(s.AgentData), TeamData: object(s.TeamData),
			WorkflowData: object(s.WorkflowData), Metadata: object(s.Metadata), Summary: object(s.Summary),
			CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		}
	}
	return rows
}

// runInsert is a run as an element of the JSON array insertRunsSQL reads.
type runInsert struct {
	ID          string         `json:"run_id"`
	SessionID   string         `json:"session_id"`
	AgentID     *string        `json:"agent_id,omitempty"`
	TeamID      *string        `json:"team_id,omitempty"`
	WorkflowID  *string        `json:"workflow_id,omitempty"`
	ParentRunID *string        `json:"parent_run_id,omitempty"`
	Status      *string        `json:"status,omitempty"`
	Index       int64          `json:"run_index"`
	Data        map[string]any `json:"run_data"`
	CreatedAt   int64          `json:"created_at"`
	UpdatedAt   int64          `json:"updated_at"`
}

// insertedRunRows are the runs of the created sessions, each numbered
// within its session and with its run_data completed.
func insertedRunRows(runs []Run, created map[string]bool) []runInsert {
	rows := make([]runInsert, 0, len(runs))
	next := make(map[string]int64, len(created))
	for _, r := range runs {
		if !created[r.SessionID] {
			continue
		}
		data := maps.Clone(r.Data)
		if data == nil {
			data = make(map[string]any, 8)
		}
		data["run_id"], data["session_id"], data["created_at"] = r.ID, r.SessionID, r.CreatedAt
		fields := [...]struct {
			key string
			v   *string
		}{{"status", r.Status}, {"agent_id", r.AgentID}, {"team_id", r.TeamID}, {"workflow_id", r.WorkflowID}, {"parent_run_id", r.ParentRunID}}
		for _, f := range fields {
			if f.v != nil {
				data[f.key] = *f.v
			}
		}
		updated := r.CreatedAt
		if r.UpdatedAt != nil {
			updated = *r.UpdatedAt
		}
		rows = append(rows, runInsert{
			ID: r.ID, SessionID: r.SessionID, AgentID: r.AgentID, TeamID: r.TeamID, WorkflowID: r.WorkflowID,
			ParentRunID: r.ParentRunID, Status: r.Status, Index: next[r.SessionID], Data: data,
			CreatedAt: r.CreatedAt, UpdatedAt: updated,
		})
		next[r.SessionID]++
	}
	return rows
}

// object is m to be left out of the JSON when nil.
func object(m map[string]any) *map[string]any {
	if m == nil {
		return nil
	}
	return &m
}
