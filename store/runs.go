package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	"gorm.io/gorm"
)

// ListRuns implements Sessions: StreamRuns, every run, collected.
func (t *sessionsTable) ListRuns(ctx context.Context, sessionID string, owner Owner, f RunFilter) (Session, []Run, error) {
	var (
		s    Session
		runs []Run
	)
	err := t.StreamRuns(ctx, sessionID, owner, f, RunPage{}, RunStream{
		Start: func(session Session, total int64) error {
			s, runs = session, make([]Run, 0, total)
			return nil
		},
		Run: func(r Run) error {
			runs = append(runs, r)
			return nil
		},
	})
	if err != nil {
		return Session{}, nil, fmt.Errorf("list runs: %w", err)
	}
	return s, runs, nil
}

// StreamRuns implements Sessions. Runs come from the runs table, agno
// 2.x's runs column, or both merged (see runSQL): first the column's
// entries, each replaced by the table row with its run_id, then the
// table's other rows, read from the database page by page as they are
// sent. CreatedAfter and CreatedBefore compare a run's created_at (a
// table row's column; an entry's own, keeping an entry that has none, as
// AgentOS does).
func (t *sessionsTable) StreamRuns(ctx context.Context, sessionID string, owner Owner, f RunFilter, p RunPage, out RunStream) error {
	return t.withState(ctx, func(st *tableState) error {
		return t.readTx(ctx, func(conn gorm.ConnPool) error {
			s, legacy, err := t.getSession(ctx, conn, st.sql, sessionID, owner)
			if err != nil {
				return err
			}
			listed := f.Listed && s.Type == "team"
			head, err := t.legacyRuns(ctx, conn, st.sql, sessionID, decodeRuns(legacy))
			if err != nil {
				return err
			}
			kept := head[:0]
			for _, r := range head {
				if f.keeps(r) && (!listed || listedInTeam(r.Data)) {
					kept = append(kept, r)
				}
			}
			var tail int64
			var rest *stmt
			if st.sql.runs != "" {
				where := t.tableRunsWhere(st.sql, sessionID, head, f, listed)
				if err := where.after("SELECT count(*) FROM "+st.sql.runs+" AS t").queryRow(ctx, conn).Scan(&tail); err != nil {
					return err
				}
				rest = where.after("SELECT " + columnList("t.", runColumns) + " FROM " + st.sql.runs + " AS t")
				rest.add(" ORDER BY ", st.sql.run.tableOrder("t"))
			}
			if err := out.Start(s, int64(len(kept))+tail); err != nil {
				return err
			}
			from, to := int64(0), int64(len(kept))+tail
			if p.Limit > 0 {
				from = int64(max(p.Page, 1)-1) * int64(p.Limit)
				to = min(to, from+int64(p.Limit))
			}
			for i := from; i < to && i < int64(len(kept)); i++ {
				if err := out.Run(kept[i]); err != nil {
					return err
				}
			}
			if rest == nil || to <= int64(len(kept)) || to <= from {
				return nil
			}
			if p.Limit > 0 {
				skip := max(from-int64(len(kept)), 0)
				rest.add(" LIMIT ", rest.arg(to-int64(len(kept))-skip), " OFFSET ", rest.arg(skip))
			}
			rows, err := rest.query(ctx, conn)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var rr runRow
				if err := rows.Scan(rr.dest()...); err != nil {
					return err
				}
				if err := out.Run(rr.run()); err != nil {
					return err
				}
			}
			if err := rows.Err(); err != nil {
				return err
			}
			return rows.Close()
		})
	})
}

// legacyRuns turns the entries of a session's runs column into runs, each
// replaced by the runs-table row with its run_id where there is one, as
// agno 3.0 merges them. Entries that are not objects with a run_id are
// skipped, as agno skips them.
func (t *sessionsTable) legacyRuns(ctx context.Context, conn gorm.ConnPool, q *layoutSQL, sessionID string, entries []map[string]any) ([]Run, error) {
	out := make([]Run, 0, len(entries))
	ids := make([]string, 0, len(entries))
	for _, e := range entries {
		if id, ok := e["run_id"]; ok && id != nil {
			r := legacyRun(sessionID, e)
			if r.ID == "" {
				r.ID = compactJSON(id)
			}
			out = append(out, r)
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 || q.runs == "" {
		return out, nil
	}
	s := t.newStmt("SELECT ", columnList("t.", runColumns), " FROM ", q.runs, " AS t WHERE t.session_id = ")
	s.add(s.arg(sessionID), " AND ", t.idsIn("t.run_id", s, ids))
	rows, err := s.query(ctx, conn)
	if err != nil {
		return nil, err
	}
	table, err := scanRuns(rows)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]Run, len(table))
	for _, r := range table {
		byID[r.ID] = r
	}
	for i, r := range out {
		if row, ok := byID[r.ID]; ok {
			out[i] = row
		}
	}
	return out, nil
}

// tableRunsWhere selects the runs-table rows of a session that the merge
// adds after the runs column's entries: those not among them, within f.
func (t *sessionsTable) tableRunsWhere(q *layoutSQL, sessionID string, head []Run, f RunFilter, listed bool) *stmt {
	w := t.newStmt(" WHERE t.session_id = ")
	w.add(w.arg(sessionID))
	if len(head) > 0 {
		ids := make([]string, len(head))
		for i, r := range head {
			ids[i] = r.ID
		}
		w.add(" AND NOT ", t.idsIn("t.run_id", w, ids))
	}
	if f.CreatedAfter != nil {
		w.add(" AND t.created_at >= ", w.arg(*f.CreatedAfter))
	}
	if f.CreatedBefore != nil {
		w.add(" AND t.created_at <= ", w.arg(*f.CreatedBefore))
	}
	if listed {
		data := q.run.runData
		w.add(" AND (", q.j.present(data, "agent_id"), " OR ", q.j.present(data, "team_id"), ")")
	}
	return w
}

// idsIn is "column IN ids" with the ids as one parameter: a text[] on
// PostgreSQL, a JSON array on SQLite, so no list of placeholders is built.
func (t *sessionsTable) idsIn(column string, s *stmt, ids []string) string {
	if t.db.dialect == DialectPostgres {
		return column + " = ANY(" + s.arg(ids) + "::text[])"
	}
	raw, _ := json.Marshal(ids)
	return column + " IN (SELECT value FROM json_each(" + s.arg(string(raw)) + "))"
}

// listedInTeam reports whether a team session's run is one
// GET /sessions/{id}/runs lists: it has an agent_id or a team_id.
func listedInTeam(data map[string]any) bool {
	return data["agent_id"] != nil || data["team_id"] != nil
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
