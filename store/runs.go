package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// ListRuns implements Sessions. The session and its runs are read in one
// read-only snapshot, so the runs are the session's as it was read.
func (t *sessionsTable) ListRuns(ctx context.Context, sessionID string, owner Owner, f RunFilter) (Session, []Run, error) {
	q := t.newStmt("SELECT ", t.sql.runCols, " FROM ", t.sql.runs, " WHERE session_id = ")
	q.add(q.arg(sessionID))
	if f.CreatedAfter != nil {
		q.add(" AND created_at >= ", q.arg(*f.CreatedAfter))
	}
	if f.CreatedBefore != nil {
		q.add(" AND created_at <= ", q.arg(*f.CreatedBefore))
	}
	q.add(" ORDER BY created_at, run_id")

	var (
		s    Session
		runs []Run
	)
	err := t.readTx(ctx, func(conn gorm.ConnPool) error {
		var err error
		if s, err = t.getSession(ctx, conn, sessionID, owner, false); err != nil {
			return err
		}
		rows, err := q.query(ctx, conn)
		if err != nil {
			return err
		}
		runs, err = scanRuns(rows)
		return err
	})
	if err != nil {
		return Session{}, nil, fmt.Errorf("list runs: %w", err)
	}
	return s, runs, nil
}

// GetRun implements Sessions. One statement reads the session and the run
// together.
func (t *sessionsTable) GetRun(ctx context.Context, sessionID, runID string, owner Owner) (Session, Run, error) {
	q := t.newStmt("SELECT ", t.sql.sessionColsS, ", ", t.sql.runColsR,
		" FROM ", t.sql.sessions, " AS s JOIN ", t.sql.runs, " AS r ON r.session_id = s.session_id",
		" WHERE s.session_id = ")
	q.add(q.arg(sessionID), " AND r.run_id = ", q.arg(runID)).owner("s.", owner)

	var (
		sr sessionRow
		rr runRow
	)
	err := q.queryRow(ctx, t.pool()).Scan(append(sr.dest(), rr.dest()...)...)
	if err != nil {
		return Session{}, Run{}, fmt.Errorf("get run: %w", notFound(err))
	}
	s, err := sr.session()
	if err != nil {
		return Session{}, Run{}, fmt.Errorf("get run: %w", err)
	}
	r, err := rr.run()
	if err != nil {
		return Session{}, Run{}, fmt.Errorf("get run: %w", err)
	}
	return s, r, nil
}

// CreateRun implements Sessions. The owner check and the insert are one
// statement, INSERT … SELECT from the session row: a session that is
// missing or fails owner inserts nothing, and one deleted concurrently
// fails the foreign key; both are ErrNotFound.
func (t *sessionsTable) CreateRun(ctx context.Context, r Run, owner Owner) (Run, error) {
	// Parameters in a SELECT list have no column to take their type from,
	// so PostgreSQL needs the non-text ones cast.
	q := t.newStmt("INSERT INTO ", t.sql.runs, " (", t.sql.runCols, ") SELECT ")
	q.add(q.arg(r.ID), ", s.session_id, ",
		q.arg(r.AgentID), ", ", q.arg(r.TeamID), ", ", q.arg(r.WorkflowID), ", ", q.arg(r.UserID), ", ",
		q.arg(r.ParentRunID), ", ", q.arg(r.Status), ", ")
	data, err := q.jsonArg(r.Data)
	if err != nil {
		return Run{}, fmt.Errorf("create run: encode run_data: %w", err)
	}
	q.add(data, ", CAST(", q.arg(r.CreatedAt), " AS BIGINT), CAST(", q.arg(r.UpdatedAt), " AS BIGINT)",
		" FROM ", t.sql.sessions, " AS s WHERE s.session_id = ", q.arg(r.SessionID))
	q.owner("s.", owner).add(" RETURNING ", t.sql.runCols)

	var rr runRow
	if err := q.queryRow(ctx, t.pool()).Scan(rr.dest()...); err != nil {
		switch {
		case isUniqueViolation(err):
			err = ErrConflict
		case isForeignKeyViolation(err):
			err = ErrNotFound
		default:
			err = notFound(err)
		}
		return Run{}, fmt.Errorf("create run: %w", err)
	}
	stored, err := rr.run()
	if err != nil {
		return Run{}, fmt.Errorf("create run: %w", err)
	}
	return stored, nil
}
