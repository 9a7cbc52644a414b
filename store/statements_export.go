package store

import (
	"context"
	"errors"
	"fmt"
)

// Statement is one SQL statement with its arguments; on PostgreSQL the
// first may be a pgx query mode, which pgx takes as an option.
type Statement struct {
	SQL  string
	Args []any
}

// ListStatements returns the statements ListSessions runs for f when the
// page is not past the end: on PostgreSQL one, the page with its total;
// on SQLite the count and the page, in one read-only transaction. It is
// for benchmarks that time the store's own statements without the server
// around them (the floor of a request); s must be a table this package
// resolved, not a decorator of one.
func ListStatements(ctx context.Context, s Sessions, f ListFilter) ([]Statement, error) {
	t, ok := s.(*sessionsTable)
	if !ok {
		return nil, errors.New("list statements: not a table of this store")
	}
	if _, ok := sortKeys[f.SortBy]; !ok || f.Limit < 1 || f.Page < 1 {
		return nil, fmt.Errorf("list statements: bad filter %+v", f)
	}
	q := t.current(ctx).sql
	where := t.listWhere(q, f)
	offset := int64(f.Page-1) * int64(f.Limit)
	if t.db.dialect == DialectPostgres {
		page := t.listPage(q, where, f, offset, true)
		return []Statement{{page.sql.String(), page.bound()}}, nil
	}
	count := where.after("SELECT count(*) FROM " + q.sessions + " AS s")
	page := t.listPage(q, where, f, offset, false)
	return []Statement{{count.sql.String(), count.bound()}, {page.sql.String(), page.bound()}}, nil
}

// RunStatements returns the statements StreamRuns runs for the page p of a
// session's runs on a layout with a runs table and no runs column (agno
// 3.0's), for the same benchmarks: the session, the count, the rows.
func RunStatements(ctx context.Context, s Sessions, sessionID string, p RunPage) ([]Statement, error) {
	t, ok := s.(*sessionsTable)
	if !ok {
		return nil, errors.New("run statements: not a table of this store")
	}
	q := t.current(ctx).sql
	if q.runs == "" {
		return nil, errors.New("run statements: no runs table")
	}
	get := t.newStmt("SELECT ", q.readCols, " FROM ", q.sessions, " AS s WHERE s.session_id = ")
	get.add(get.arg(sessionID))
	where := t.tableRunsWhere(q, sessionID, nil, RunFilter{}, false)
	count := where.after("SELECT count(*) FROM " + q.runs + " AS t")
	rows := where.after("SELECT " + columnList("t.", runColumns) + " FROM " + q.runs + " AS t")
	rows.add(" ORDER BY ", q.run.tableOrder("t"))
	if p.Limit > 0 {
		rows.add(" LIMIT ", rows.arg(int64(p.Limit)), " OFFSET ", rows.arg(int64(max(p.Page, 1)-1)*int64(p.Limit)))
	}
	return []Statement{{get.sql.String(), get.args}, {count.sql.String(), count.args}, {rows.sql.String(), rows.args}}, nil
}
