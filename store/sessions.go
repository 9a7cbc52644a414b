package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// sortKeys maps ListFilter.SortBy to the expression a page is ordered by,
// over the alias s. The updated_at key is spelled exactly as in its list
// index, so that both databases match the query to the index.
var sortKeys = map[string]string{
	"created_at": "s.created_at",
	"updated_at": "COALESCE(s.updated_at, s.created_at)",
}

// likeEscaper makes '\', '%' and '_' match only themselves in a LIKE
// pattern whose ESCAPE character is '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// ListSessions implements Sessions. On PostgreSQL the page and the total
// come from one statement, which reads one snapshot (see listPage). On
// SQLite, and for an empty page past the first, the count and then the
// page are read in one read-only transaction, so the total agrees with
// the page: SQLite runs in this process, with no round trip to save, and
// the two statements took 0.6× the time of one at 1 and 1,000 matches
// and as long at 1,000,000 (BENCHMARKS.md). An unknown SortBy, a Limit
// below 1 or a Page below 1 is an error.
func (t *sessionsTable) ListSessions(ctx context.Context, f ListFilter) ([]Session, int64, error) {
	if _, ok := sortKeys[f.SortBy]; !ok {
		return nil, 0, fmt.Errorf("list sessions: unknown sort field %q", f.SortBy)
	}
	if f.Limit < 1 || f.Page < 1 {
		return nil, 0, fmt.Errorf("list sessions: limit %d and page %d must both be positive", f.Limit, f.Page)
	}
	limit := int64(f.Limit)
	skip := int64(f.Page - 1) // pages before this one
	var (
		total    int64
		sessions []Session
	)
	err := t.withState(ctx, func(st *tableState) error {
		where := t.listWhere(st.sql, f)
		if t.db.dialect == DialectPostgres && skip <= math.MaxInt64/limit {
			rows, err := t.listPage(st.sql, where, f, skip*limit, true).query(ctx, t.pool())
			if err != nil {
				return err
			}
			if sessions, total, err = scanPage(rows, limit); err != nil || len(sessions) > 0 || skip == 0 {
				return err
			}
		}
		// Two statements; after one, the page was past the last one: the
		// count, and the page again should the sessions have grown into it
		// meanwhile.
		count := where.after("SELECT count(*) FROM " + st.sql.sessions + " AS s")
		return t.readTx(ctx, func(conn gorm.ConnPool) error {
			total, sessions = 0, make([]Session, 0)
			if err := count.queryRow(ctx, conn).Scan(&total); err != nil {
				return err
			}
			// Compared by division: skip*limit may not fit in an int64.
			if total == 0 || skip > (total-1)/limit {
				return nil
			}
			rows, err := t.listPage(st.sql, where, f, skip*limit, false).query(ctx, conn)
			if err != nil {
				return err
			}
			sessions, _, err = scanPage(rows, limit)
			return err
		})
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list sessions: %w", err)
	}
	return sessions, total, nil
}

// listWhere returns the WHERE clause that selects f's sessions (alias s).
func (t *sessionsTable) listWhere(q *layoutSQL, f ListFilter) *stmt {
	where := t.newStmt(" WHERE 1 = 1")
	if f.Type != nil {
		where.add(" AND s.session_type = ", where.arg(*f.Type))
	}
	if f.ComponentID != nil {
		p := where.arg(*f.ComponentID)
		where.add(" AND (s.agent_id = ", p, " OR s.team_id = ", p, " OR s.workflow_id = ", p, ")")
	}
	if f.UserID != nil {
		where.add(" AND s.user_id = ", where.arg(*f.UserID))
	}
	if f.NameContains != nil {
		p := where.arg(likeEscaper.Replace(*f.NameContains))
		where.add(" AND ", q.nameFilter, " ", q.ilike, ` ('%' || `, p, ` || '%') ESCAPE '\'`)
		// Whether the trigram index serves the pattern depends on the
		// pattern (none of fewer than three characters does); a generic
		// plan, made without it, searched the index for every pattern
		// and took 740 ms where the planned statement takes 30.
		where.planEach = true
	}
	return where
}

// listPage returns the statement that reads f.Limit sessions selected by
// where, from offset on, in f's order, each with the total number of
// sessions where selects. It is a deferred join: the page's keys are
// chosen first, on an index where one serves the filter and the sort (an
// index-only scan that reads no skipped row), then only the page's rows
// are fetched, and each gets its name source. The total is offset plus
// the page's length when the page is not full; only a full page runs the
// count, a subquery the database evaluates once, when first needed (with
// a name filter, a window count over the matches the keys are sorted
// from). An empty page returns no row, and so no total. Without
// withTotal, the statement counts nothing (its total is 0), for a count
// read on its own.
func (t *sessionsTable) listPage(q *layoutSQL, where *stmt, f ListFilter, offset int64, withTotal bool) *stmt {
	dir := " ASC"
	if f.Descending {
		dir = " DESC"
	}
	order := " ORDER BY " + sortKeys[f.SortBy] + dir + ", s.session_id" + dir
	// LIMIT and OFFSET are written into the statement, not bound: planned
	// with a bound LIMIT, which PostgreSQL takes for a tenth of the rows,
	// the statement never earns a generic plan, and was planned again on
	// every request (1.5–2.5 ms on 1,000,000 sessions, where running it
	// takes 0.4 ms).
	limit, skip := strconv.Itoa(f.Limit), strconv.FormatInt(offset, 10)
	join := ") AS k JOIN " + q.sessions + " AS s ON s.session_id = k.session_id" + order
	if f.NameContains != nil && withTotal {
		// No index gives the name filter's order: the page's keys come
		// from sorting every match, so counting them there costs nothing,
		// where the count subquery would search the trigram index again.
		// The matches are counted in a subquery of their own, which
		// PostgreSQL reads whole along its cheapest path (the trigram
		// index): with the count beside the ORDER BY … LIMIT, PostgreSQL
		// 15 costed the window as if the limit stopped it early, walked
		// the created_at index backwards through all 1,000,000 sessions
		// and took 1.5 s where the index takes 40 ms.
		m := " ORDER BY m.sort_key" + dir + ", m.session_id" + dir
		page := where.after("SELECT " + q.listCols + ", k.total FROM (SELECT m.session_id, m.total FROM (SELECT s.session_id, " +
			sortKeys[f.SortBy] + " AS sort_key, count(*) OVER () AS total FROM " + q.sessions + " AS s")
		page.add(") AS m", m, " LIMIT ", limit, " OFFSET ", skip, join)
		return page
	}
	total := "0"
	if withTotal {
		total = "CASE WHEN count(*) OVER () < " + limit + " THEN " + skip + " + count(*) OVER () ELSE " +
			"(SELECT count(*) FROM " + q.sessions + " AS s" + where.sql.String() + ") END"
	}
	page := where.after("SELECT " + q.listCols + ", " + total + " FROM (SELECT s.session_id FROM " + q.sessions + " AS s")
	page.add(order, " LIMIT ", limit, " OFFSET ", skip, join)
	return page
}

// scanPage reads the sessions of a page (listPage) and the total the
// page tells, and closes rows.
func scanPage(rows *sql.Rows, limit int64) ([]Session, int64, error) {
	defer rows.Close()
	sessions := make([]Session, 0, min(limit, 1000))
	var total int64
	for rows.Next() {
		var r sessionRow
		if err := rows.Scan(append(r.listDest(), &total)...); err != nil {
			return nil, 0, err
		}
		sessions = append(sessions, r.session())
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return sessions, total, rows.Close()
}

// CreateSession implements Sessions. It names the columns agno's own
// insert names, and leaves the others (agno 2.x's runs among them) SQL
// NULL.
func (t *sessionsTable) CreateSession(ctx context.Context, s Session) (Session, error) {
	var stored Session
	err := t.withState(ctx, func(st *tableState) error {
		q := t.newStmt("INSERT INTO ", st.sql.sessions, " (", columnList("", sessionColumns), ") VALUES (")
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
				return fmt.Errorf("encode %s: %w", f.name, err)
			}
			q.add(", ", p)
		}
		q.add(", ", q.arg(s.CreatedAt), ", ", q.arg(s.UpdatedAt), ") RETURNING ", columnList("", sessionColumns))
		var r sessionRow
		if err := q.queryRow(ctx, t.pool()).Scan(r.plainDest()...); err != nil {
			return err
		}
		stored = r.session() // a new session has no runs to name it
		return nil
	})
	if err != nil {
		if isUniqueViolation(err) {
			err = ErrConflict
		}
		return Session{}, fmt.Errorf("create session: %w", err)
	}
	return stored, nil
}

// getSession reads the session id if it passes owner, with its name and
// its runs column (raw, nil when the layout has none). It returns
// ErrNotFound, unwrapped, when there is no such session.
func (t *sessionsTable) getSession(ctx context.Context, conn gorm.ConnPool, q *layoutSQL, id string, owner Owner) (Session, []byte, error) {
	s := t.newStmt("SELECT ", q.readCols, " FROM ", q.sessions, " AS s WHERE s.session_id = ")
	s.add(s.arg(id)).owner("s.", owner)
	var r sessionRow
	if err := s.queryRow(ctx, conn).Scan(r.dest()...); err != nil {
		return Session{}, nil, notFound(err)
	}
	return r.session(), r.legacy, nil
}

// GetSession implements Sessions.
func (t *sessionsTable) GetSession(ctx context.Context, id string, owner Owner) (Session, error) {
	var s Session
	err := t.withState(ctx, func(st *tableState) error {
		var err error
		s, _, err = t.getSession(ctx, t.pool(), st.sql, id, owner)
		return err
	})
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
// change keys of session_data, leaving its other keys alone, whatever
// session_data held before (an object, JSON null or SQL NULL: it is
// written back as an object); a nil Value (or a nil map) deletes the key.
// Only the columns a patch touches are written.
func (t *sessionsTable) UpdateSession(ctx context.Context, id string, owner Owner, p SessionPatch) (Session, error) {
	var updated Session
	err := t.withState(ctx, func(st *tableState) error {
		if p.isEmpty() {
			// Nothing to write: no transaction, and on SQLite no write lock.
			var err error
			updated, _, err = t.getSession(ctx, t.pool(), st.sql, id, owner)
			return err
		}
		return t.writeTx(ctx, func(conn gorm.ConnPool) error {
			lock := t.newStmt("SELECT ", st.sql.sessionCols, " FROM ", st.sql.sessions, " AS s WHERE s.session_id = ")
			lock.add(lock.arg(id)).owner("s.", owner).add(st.sql.forUpdate)
			var r sessionRow
			if err := lock.queryRow(ctx, conn).Scan(r.plainDest()...); err != nil {
				return notFound(err)
			}
			cur := r.session()
			q := t.newStmt("UPDATE ", st.sql.sessions, " SET updated_at = ")
			q.add(q.arg(time.Now().Unix()))
			if p.Name.Set || p.State.Set {
				data := maps.Clone(cur.SessionData)
				if data == nil {
					data = make(map[string]any)
				}
				if p.Name.Set {
					if p.Name.Value == nil {
						delete(data, "session_name")
					} else {
						data["session_name"] = *p.Name.Value
					}
				}
				if p.State.Set {
					if p.State.Value == nil || *p.State.Value == nil {
						delete(data, "session_state")
					} else {
						data["session_state"] = *p.State.Value
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
			q.add(" WHERE session_id = ", q.arg(id))
			if _, err := q.exec(ctx, conn); err != nil {
				return err
			}
			var err error
			updated, _, err = t.getSession(ctx, conn, st.sql, id, Owner{})
			return err
		})
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

// DeleteSession implements Sessions. The session's runs go with it
// wherever they live, and so do its tool results, as in DeleteSessions.
func (t *sessionsTable) DeleteSession(ctx context.Context, id string, owner Owner) error {
	err := t.withState(ctx, func(st *tableState) error {
		q := t.newStmt("DELETE FROM ", st.sql.sessions, " AS s WHERE s.session_id = ")
		q.add(q.arg(id)).owner("s.", owner)
		var n int64
		switch {
		case !st.sql.extraSteps:
			res, err := q.exec(ctx, t.pool())
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
		case t.db.dialect == DialectPostgres:
			q.sql.Reset()
			q.add(st.sql.postgresExtras(t, st.layout, nil, "DELETE FROM "+st.sql.sessions+" AS s WHERE s.session_id = $1"+t.db.ownerSQL("s.", owner, 2), ""))
			var results, payloads int64
			if err := q.queryRow(ctx, t.pool()).Scan(&n, &results, &payloads); err != nil {
				return err
			}
		default:
			targets := "SELECT s.session_id FROM " + st.sql.sessions + " AS s WHERE s.session_id = ?1" + t.db.ownerSQL("s.", owner, 2)
			steps, _ := st.sql.sqliteSteps(st.layout, targets)
			err := t.writeTx(ctx, func(conn gorm.ConnPool) error {
				for _, step := range steps {
					if _, err := conn.ExecContext(ctx, step, q.args...); err != nil {
						return err
					}
				}
				res, err := q.exec(ctx, conn)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return err
			}
		}
		if n == 0 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// ownerSQL writes owner's conditions with placeholders numbered from
// next, in the order stmt.owner binds them.
func (d *database) ownerSQL(alias string, o Owner, next int) string {
	var b strings.Builder
	ph := func() string {
		defer func() { next++ }()
		return d.placeholder(next)
	}
	if o.Type != nil {
		b.WriteString(" AND " + alias + "session_type = " + ph())
	}
	if o.UserID != nil {
		b.WriteString(" AND " + alias + "user_id = " + ph())
	}
	return b.String()
}
