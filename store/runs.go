package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"gorm.io/gorm"
)

// ListRuns implements Sessions. The session and its runs are read in one
// read-only snapshot, so the runs are the session's as it was read. Runs
// come from the runs table, agno 2.x's runs column, or both merged (see
// runSQL); CreatedAfter and CreatedBefore compare the run's own
// created_at, and keep a run that has none, as AgentOS does.
func (t *sessionsTable) ListRuns(ctx context.Context, sessionID string, owner Owner, f RunFilter) (Session, []Run, error) {
	var (
		s    Session
		runs []Run
	)
	err := t.withState(ctx, func(st *tableState) error {
		return t.readTx(ctx, func(conn gorm.ConnPool) error {
			var legacy []byte
			var err error
			if s, legacy, err = t.getSession(ctx, conn, st.sql, sessionID, owner); err != nil {
				return err
			}
			table := []Run{}
			if st.sql.runs != "" {
				rows, err := conn.QueryContext(ctx, st.sql.runsSelect, sessionID)
				if err != nil {
					return err
				}
				if table, err = scanRuns(rows); err != nil {
					return err
				}
			}
			merged := mergeRuns(sessionID, table, decodeRuns(legacy))
			runs = make([]Run, 0, len(merged))
			for _, r := range merged {
				if f.keeps(r) {
					runs = append(runs, r)
				}
			}
			return nil
		})
	})
	if err != nil {
		return Session{}, nil, fmt.Errorf("list runs: %w", err)
	}
	return s, runs, nil
}

// keeps reports whether a run's created_at is within f's inclusive bounds.
// A run's created_at is its data's, else its row's; an inline run without
// one is always kept.
func (f RunFilter) keeps(r Run) bool {
	at, ok := runCreatedAt(r)
	if !ok {
		return true
	}
	return (f.CreatedAfter == nil || at >= *f.CreatedAfter) && (f.CreatedBefore == nil || at <= *f.CreatedBefore)
}

func runCreatedAt(r Run) (int64, bool) {
	if n, ok := r.Data["created_at"].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			return v, true
		}
		if v, err := n.Float64(); err == nil {
			return int64(v), true
		}
	}
	if r.Inline {
		return 0, false
	}
	return r.CreatedAt, true
}

// GetRun implements Sessions. A run in the runs table wins over an entry
// of the runs column with the same id, as in ListRuns.
func (t *sessionsTable) GetRun(ctx context.Context, sessionID, runID string, owner Owner) (Session, Run, error) {
	var (
		s   Session
		run Run
	)
	err := t.withState(ctx, func(st *tableState) error {
		return t.readTx(ctx, func(conn gorm.ConnPool) error {
			var legacy []byte
			var err error
			if s, legacy, err = t.getSession(ctx, conn, st.sql, sessionID, owner); err != nil {
				return err
			}
			if st.sql.runs != "" {
				rows, err := conn.QueryContext(ctx, st.sql.runSelect, sessionID, runID)
				if err != nil {
					return err
				}
				found, err := scanRuns(rows)
				if err != nil {
					return err
				}
				if len(found) > 0 {
					run = found[0]
					return nil
				}
			}
			for _, entry := range decodeRuns(legacy) {
				if id, ok := entry["run_id"].(string); ok && id == runID {
					run = legacyRun(sessionID, entry)
					return nil
				}
			}
			return ErrNotFound
		})
	})
	if err != nil {
		return Session{}, Run{}, fmt.Errorf("get run: %w", err)
	}
	return s, run, nil
}

// CreateRun implements Sessions. The run is written where agno would
// write it, as agno writes it:
//
//   - With a runs table: one row agno reads back. run_type is the
//     session's type, user_id the session's, and run_data the whole run
//     with its run_id, session_id, created_at, status and component ids.
//     run_index is one past the larger of the session's highest index and
//     the last position of its runs column, computed under agno's own lock
//     on PostgreSQL (pg_advisory_xact_lock(hashtext('agno_run_index'),
//     hashtext(session_id))) and SQLite's single writer. The owner check
//     and the insert are one statement, INSERT … SELECT from the session
//     row: a session that is missing or fails owner inserts nothing
//     (ErrNotFound). The insert never overwrites: a run id already used, in
//     any session, is ErrConflict and leaves that run as it was.
//   - agno 2.x's layout: appended to the session's runs array, under a
//     lock on the session row, so that concurrent records into one session
//     all land. A run id already in that array is ErrConflict; other
//     sessions' arrays are not searched.
//   - agno 3.0's layout before its first run: the runs table is created
//     first, exactly as agno 3.0 creates it, with its version row.
func (t *sessionsTable) CreateRun(ctx context.Context, r Run, owner Owner) (Run, error) {
	data := maps.Clone(r.Data)
	if data == nil {
		data = make(map[string]any)
	}
	data["run_id"], data["session_id"], data["created_at"] = r.ID, r.SessionID, r.CreatedAt
	for key, v := range map[string]*string{"status": r.Status, "agent_id": r.AgentID, "team_id": r.TeamID,
		"workflow_id": r.WorkflowID, "parent_run_id": r.ParentRunID} {
		if v != nil {
			data[key] = *v
		}
	}
	var stored Run
	err := t.withState(ctx, func(st *tableState) error {
		var err error
		switch {
		case st.sql.runs != "":
			stored, err = t.insertRun(ctx, st, r, owner, data)
		case st.layout.inlineRuns():
			stored, err = t.appendRun(ctx, st, r, owner, data)
		default:
			if err = t.createRunsTable(ctx); err != nil {
				return fmt.Errorf("create the runs table: %w", err)
			}
			t.reprobing.Lock()
			st = t.reprobe(ctx, t.state.Load())
			t.reprobing.Unlock()
			if st.sql.runs == "" {
				return fmt.Errorf("create the runs table: %w", ErrNoRunsTable)
			}
			stored, err = t.insertRun(ctx, st, r, owner, data)
		}
		return err
	})
	if err != nil {
		switch {
		case isUniqueViolation(err):
			err = ErrConflict
		case isForeignKeyViolation(err):
			err = ErrNotFound
		}
		return Run{}, fmt.Errorf("create run: %w", err)
	}
	return stored, nil
}

// insertRun records a run into the runs table.
func (t *sessionsTable) insertRun(ctx context.Context, st *tableState, r Run, owner Owner, data map[string]any) (Run, error) {
	var stored Run
	err := t.writeTx(ctx, func(conn gorm.ConnPool) error {
		if t.db.dialect == DialectPostgres {
			if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext('agno_run_index'), hashtext($1))", r.SessionID); err != nil {
				return err
			}
		}
		legacyLen := "0"
		if st.layout.inlineRuns() {
			legacyLen = st.sql.j.arrayLength(st.sql.run.legacy)
		}
		// Parameters in a SELECT list have no column to take their type
		// from, so PostgreSQL needs the non-text ones cast.
		q := t.newStmt("INSERT INTO ", st.sql.runs, " (", columnList("", runColumns), ") SELECT ")
		q.add(q.arg(r.ID), ", s.session_id, s.session_type, ",
			q.arg(r.AgentID), ", ", q.arg(r.TeamID), ", ", q.arg(r.WorkflowID), ", s.user_id, ",
			q.arg(r.ParentRunID), ", ", q.arg(r.Status), ", ")
		q.add("(SELECT CASE WHEN COALESCE(max(x.run_index) + 1, 0) > ", legacyLen, " THEN COALESCE(max(x.run_index) + 1, 0) ELSE ",
			legacyLen, " END FROM ", st.sql.runs, " AS x WHERE x.session_id = s.session_id), ")
		p, err := q.jsonArg(data)
		if err != nil {
			return fmt.Errorf("encode run_data: %w", err)
		}
		updated := r.CreatedAt
		if r.UpdatedAt != nil {
			updated = *r.UpdatedAt
		}
		q.add(p, ", CAST(", q.arg(r.CreatedAt), " AS BIGINT), CAST(", q.arg(updated), " AS BIGINT)",
			" FROM ", st.sql.sessions, " AS s WHERE s.session_id = ", q.arg(r.SessionID))
		q.owner("s.", owner).add(" RETURNING ", columnList("", runColumns))
		var rr runRow
		if err := q.queryRow(ctx, conn).Scan(rr.dest()...); err != nil {
			return notFound(err)
		}
		stored = rr.run()
		return nil
	})
	return stored, err
}

// appendRun records a run into agno 2.x's runs column.
func (t *sessionsTable) appendRun(ctx context.Context, st *tableState, r Run, owner Owner, data map[string]any) (Run, error) {
	err := t.writeTx(ctx, func(conn gorm.ConnPool) error {
		lock := t.newStmt("SELECT s.", legacyRunsColumn, " FROM ", st.sql.sessions, " AS s WHERE s.session_id = ")
		lock.add(lock.arg(r.SessionID)).owner("s.", owner).add(st.sql.forUpdate)
		var raw []byte
		if err := lock.queryRow(ctx, conn).Scan(&raw); err != nil {
			return notFound(err)
		}
		runs, _ := decodeValue(raw).([]any)
		for _, entry := range runs {
			if m, ok := entry.(map[string]any); ok && m["run_id"] == r.ID {
				return ErrConflict
			}
		}
		runs = append(runs, data)
		q := t.newStmt("UPDATE ", st.sql.sessions, " SET ", legacyRunsColumn, " = ")
		v, err := encodeJSON(runs)
		if err != nil {
			return fmt.Errorf("encode runs: %w", err)
		}
		p := q.arg(v)
		if t.db.dialect == DialectPostgres {
			p += "::jsonb"
		}
		q.add(p, " WHERE session_id = ", q.arg(r.SessionID))
		_, err = q.exec(ctx, conn)
		return err
	})
	if err != nil {
		return Run{}, err
	}
	return legacyRun(r.SessionID, data), nil
}
