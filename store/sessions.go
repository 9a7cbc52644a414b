package store

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"gorm.io/gorm"
)

// sortKeys maps ListFilter.SortBy to the expression a page is ordered by.
// The updated_at key is spelled exactly as in the index of migration 2.
var sortKeys = map[string]string{
	"created_at": "created_at",
	"updated_at": "COALESCE(updated_at, created_at)",
}

// likeEscaper makes '\', '%' and '_' match only themselves in a LIKE
// pattern whose ESCAPE character is '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ListSessions implements Sessions. It counts the matching sessions and
// reads the page in one read-only snapshot, so the total agrees with the
// page; a page past the end costs no second query. An unknown SortBy, a
// Limit below 1 or a Page below 1 is an error.
func (t *sessionsTable) ListSessions(ctx context.Context, f ListFilter) ([]Session, int64, error) {
	if _, ok := sortKeys[f.SortBy]; !ok {
		return nil, 0, fmt.Errorf("list sessions: unknown sort field %q", f.SortBy)
	}
	if f.Limit < 1 || f.Page < 1 {
		return nil, 0, fmt.Errorf("list sessions: limit %d and page %d must both be positive", f.Limit, f.Page)
	}
	where := t.listWhere(f)
	count := where.after("SELECT count(*) FROM " + t.sql.sessions)
	limit := int64(f.Limit)
	skip := int64(f.Page - 1) // pages before this one

	var (
		total    int64
		sessions = make([]Session, 0)
	)
	err := t.readTx(ctx, func(conn gorm.ConnPool) error {
		if err := count.queryRow(ctx, conn).Scan(&total); err != nil {
			return err
		}
		// Compared by division: skip*limit may not fit in an int64.
		if total == 0 || skip > (total-1)/limit {
			return nil
		}
		offset := skip * limit
		rows, err := t.listPage(where, f, offset).query(ctx, conn)
		if err != nil {
			return err
		}
		sessions, err = scanSessions(rows, min(limit, total-offset))
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	return sessions, total, nil
}

// listWhere returns the WHERE clause that selects f's sessions.
func (t *sessionsTable) listWhere(f ListFilter) *stmt {
	where := t.newStmt(" WHERE 1 = 1")
	if f.Type != nil {
		where.add(" AND session_type = ", where.arg(*f.Type))
	}
	if f.ComponentID != nil {
		p := where.arg(*f.ComponentID)
		where.add(" AND (agent_id = ", p, " OR team_id = ", p, " OR workflow_id = ", p, ")")
	}
	if f.UserID != nil {
		where.add(" AND user_id = ", where.arg(*f.UserID))
	}
	if f.NameContains != nil {
		p := where.arg(likeEscaper.Replace(*f.NameContains))
		where.add(" AND ", t.sql.sessionName, " ", t.sql.ilike, ` ('%' || `, p, ` || '%') ESCAPE '\'`)
	}
	return where
}

// listPage returns the statement that reads f.Limit sessions selected by
// where, from offset on, in f's order. f.SortBy must be a key of sortKeys.
func (t *sessionsTable) listPage(where *stmt, f ListFilter, offset int64) *stmt {
	dir := " ASC"
	if f.Descending {
		dir = " DESC"
	}
	page := where.after("SELECT " + t.sql.sessionCols + " FROM " + t.sql.sessions)
	page.add(" ORDER BY ", sortKeys[f.SortBy], dir, ", session_id", dir,
		" LIMIT ", page.arg(int64(f.Limit)), " OFFSET ", page.arg(offset))
	return page
}

// CreateSession implements Sessions.
func (t *sessionsTable) CreateSession(ctx context.Context, s Session) (Session, error) {
	q := t.newStmt("INSERT INTO ", t.sql.sessions, " (", t.sql.sessionCols, ") VALUES (")
	q.add(q.arg(s.ID), ", ", q.arg(s.Type), ", ", q.arg(s.AgentID), ", ", q.arg(s.TeamID), ", ",
		q.arg(s.WorkflowID), ", ", q.arg(s.UserID))
	for _, f := range []struct {
		name string
		m    map[string]any
	}{
		{"session_data", s.SessionData},
		{"agent_data", s.AgentData},
		{"team_data", s.TeamData},
		{"workflow_data", s.WorkflowData},
		{"metadata", s.Metadata},
		{"summary", s.Summary},
	} {
		p, err := q.jsonArg(f.m)
		if err != nil {
			return Session{}, fmt.Errorf("create session: encode %s: %w", f.name, err)
		}
		q.add(", ", p)
	}
	q.add(", ", q.arg(s.CreatedAt), ", ", q.arg(s.UpdatedAt), ") RETURNING ", t.sql.sessionCols)

	stored, err := scanSession(q.queryRow(ctx, t.pool()))
	if err != nil {
		if isUniqueViolation(err) {
			err = ErrConflict
		}
		return Session{}, fmt.Errorf("create session: %w", err)
	}
	return stored, nil
}

// getSession reads the session id if it passes owner, locking it until
// the transaction ends when lock is set. It returns ErrNotFound, unwrapped,
// when there is no such session.
func (t *sessionsTable) getSession(ctx context.Context, conn gorm.ConnPool, id string, owner Owner, lock bool) (Session, error) {
	q := t.newStmt("SELECT ", t.sql.sessionCols, " FROM ", t.sql.sessions, " WHERE session_id = ")
	q.add(q.arg(id)).owner("", owner)
	if lock {
		q.add(t.sql.forUpdate)
	}
	return scanSession(q.queryRow(ctx, conn))
}

// GetSession implements Sessions.
func (t *sessionsTable) GetSession(ctx context.Context, id string, owner Owner) (Session, error) {
	s, err := t.getSession(ctx, t.pool(), id, owner, false)
	if err != nil {
		return Session{}, fmt.Errorf("get session: %w", err)
	}
	return s, nil
}

// isEmpty reports whether p sets nothing.
func (p SessionPatch) isEmpty() bool {
	return !p.Name.Set && !p.State.Set && !p.Metadata.Set && !p.Summary.Set
}

// UpdateSession implements Sessions. The row is read and locked, patched
// in Go, and written back in one transaction, so concurrent patches of one
// session apply one after the other and none is lost. Name and State
// change keys of session_data, leaving its other keys alone; a nil Value
// (or a nil map) deletes the key. Only the columns a patch touches are
// written.
func (t *sessionsTable) UpdateSession(ctx context.Context, id string, owner Owner, p SessionPatch) (Session, error) {
	if p.isEmpty() {
		// Nothing to write: no transaction, and on SQLite no write lock.
		s, err := t.getSession(ctx, t.pool(), id, owner, false)
		if err != nil {
			return Session{}, fmt.Errorf("update session: %w", err)
		}
		return s, nil
	}
	var updated Session
	err := t.writeTx(ctx, func(conn gorm.ConnPool) error {
		cur, err := t.getSession(ctx, conn, id, owner, true)
		if err != nil {
			return err
		}
		q := t.newStmt("UPDATE ", t.sql.sessions, " SET updated_at = ")
		q.add(q.arg(time.Now().Unix()))
		if p.Name.Set || p.State.Set {
			// A NULL session_data stays NULL unless a key is set in it.
			data := maps.Clone(cur.SessionData)
			set := func(key string, v any) {
				if data == nil {
					data = make(map[string]any)
				}
				data[key] = v
			}
			if p.Name.Set {
				if p.Name.Value == nil {
					delete(data, "session_name")
				} else {
					set("session_name", *p.Name.Value)
				}
			}
			if p.State.Set {
				if p.State.Value == nil || *p.State.Value == nil {
					delete(data, "session_state")
				} else {
					set("session_state", *p.State.Value)
				}
			}
			if err := q.set("session_data", data); err != nil {
				return err
			}
		}
		for _, f := range []struct {
			name string
			o    Optional[map[string]any]
		}{{"metadata", p.Metadata}, {"summary", p.Summary}} {
			if !f.o.Set {
				continue
			}
			var m map[string]any
			if f.o.Value != nil {
				m = *f.o.Value
			}
			if err := q.set(f.name, m); err != nil {
				return err
			}
		}
		q.add(" WHERE session_id = ", q.arg(id), " RETURNING ", t.sql.sessionCols)
		updated, err = scanSession(q.queryRow(ctx, conn))
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("update session: %w", err)
	}
	return updated, nil
}

// set adds ", column = <m as JSON>" to an UPDATE's SET list.
func (s *stmt) set(column string, m map[string]any) error {
	p, err := s.jsonArg(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", column, err)
	}
	s.add(", ", column, " = ", p)
	return nil
}

// DeleteSession implements Sessions.
func (t *sessionsTable) DeleteSession(ctx context.Context, id string, owner Owner) error {
	q := t.newStmt("DELETE FROM ", t.sql.sessions, " WHERE session_id = ")
	q.add(q.arg(id)).owner("", owner)
	res, err := q.exec(ctx, t.pool())
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("delete session: %w", ErrNotFound)
	}
	return nil
}
