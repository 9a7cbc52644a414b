package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// The list section: GET /sessions and the runs of long sessions at a
// million sessions in agno 3.0's layout, each request timed over HTTP
// against the floor under it (the server's own statements, run directly)
// and against the statements AgentOS runs for the same request.

// Markers around the list section of BENCHMARKS.md.
const (
	listsBeginMarker = "<!-- agentos-bench:lists:begin (written by `make bench-report BENCH_FLAGS='-only lists'`; edits inside are lost) -->"
	listsEndMarker   = "<!-- agentos-bench:lists:end -->"
)

// listShape is one request of the list section.
type listShape struct {
	name  string
	path  string            // the request, under the server's base URL
	floor []store.Statement // the server's statements for it, run directly
	peer  []peerStatement   // AgentOS's statements for it
}

// peerStatement is one of AgentOS's statements; pageIDs, when set, takes
// the session ids of the previous statement's rows as its only argument
// (AgentOS 3.0 reads the runs of every listed session).
type peerStatement struct {
	sql     string
	args    []any
	pageIDs bool
}

// listRow is what one shape measured.
type listRow struct {
	name                             string
	httpMedian, httpP99, floor, peer time.Duration
	peakRSS                          int64
}

// listReport is the whole list section.
type listReport struct {
	sessions   int
	manyRuns   int // runs of each of the ten many-run sessions
	bigRuns    int // runs of 256 kB of the big session
	seedTime   time.Duration
	rounds     int
	rows       []listRow
	deepBefore listRow // the deep page, vacuumed
	deepFull   time.Duration
	updated    listRow // the deep page after 10% of the sessions were updated without a vacuum
	updFull    time.Duration
	counting   []countRow
	// SQLite's session_name filter on one file: the server's page
	// statement, and the earlier build's json_extract count and page.
	sqliteName [2]time.Duration
	upserts    [2]time.Duration // per upsert: with, without the trigram index
}

// countRow compares two statements (count, page) with one (a window
// count) at one size of match.
type countRow struct {
	backend string
	matches int64
	times   [3]time.Duration // the countStrategies, in order
}

// lists runs the list section on PostgreSQL (and the counting comparison
// on SQLite too).
func lists(ctx context.Context, opts options, stdout io.Writer) (*listReport, error) {
	dbURL, drop, err := testdb.NewSchema(ctx, opts.postgresURL, "bench_lists_")
	if err != nil {
		return nil, err
	}
	defer func() {
		if opts.listKeep {
			_, _ = fmt.Fprintf(stdout, "lists: kept %s\n", dbURL)
			return
		}
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_ = drop(dctx)
	}()
	srv, err := startServer(ctx, opts.serverBin, dbURL)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	// The floor's connections have the server's own session parameters
	// (store.SessionParams); AgentOS's have the database's defaults.
	floorCfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	maps.Copy(floorCfg.ConnConfig.RuntimeParams, store.SessionParams())
	// One connection each, as the server, whose pool hands a sequence of
	// requests the connection it used last: plans settle on it alike.
	floorCfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, floorCfg)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	peerCfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, err
	}
	peerCfg.MaxConns = 1
	peerPool, err := pgxpool.NewWithConfig(ctx, peerCfg)
	if err != nil {
		return nil, err
	}
	defer peerPool.Close()
	pools := listPools{floor: pool, peer: peerPool}
	r := &listReport{sessions: opts.listSessions, manyRuns: opts.listManyRuns, bigRuns: opts.listBigRuns, rounds: opts.listRounds}
	_, _ = fmt.Fprintf(stdout, "lists: seeding %d sessions…\n", opts.listSessions)
	start := time.Now()
	seedCfg := floorCfg.Copy()
	seedCfg.MaxConns = 2
	seedPool, err := pgxpool.NewWithConfig(ctx, seedCfg)
	if err != nil {
		return nil, err
	}
	err = seedLists(ctx, seedPool, opts.listSessions, opts.listManyRuns, opts.listBigRuns)
	seedPool.Close()
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	r.seedTime = time.Since(start)
	_, _ = fmt.Fprintf(stdout, "lists: seeded in %s\n", r.seedTime.Round(time.Second))

	catalog, err := store.Open(ctx, []store.DatabaseConfig{{ID: "bench", URL: dbURL, Schema: testdb.Schema(dbURL)}}, nil)
	if err != nil {
		return nil, err
	}
	defer func() { _ = catalog.Close() }()
	table, err := catalog.Resolve("bench", "")
	if err != nil {
		return nil, err
	}
	shapes, err := listShapes(ctx, table, opts)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	for _, sh := range shapes {
		row, err := measureShape(ctx, srv, client, pools, sh, warmRounds, opts.listRounds)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sh.name, err)
		}
		_, _ = fmt.Fprintf(stdout, "lists %s: http %v (p99 %v) floor %v peer %v rss %d MB\n", row.name, row.httpMedian, row.httpP99, row.floor, row.peer, row.peakRSS>>20)
		r.rows = append(r.rows, row)
	}
	for _, big := range []struct{ name, path string }{
		{fmt.Sprintf("all runs of the session with %s runs of 256 kB", grouped(opts.listBigRuns)), "/sessions/big/runs"},
		{"that session's detail (its chat_history)", "/sessions/big"},
	} {
		row, err := measureShape(ctx, srv, client, pools, listShape{name: big.name, path: big.path}, 1, 2)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", big.name, err)
		}
		_, _ = fmt.Fprintf(stdout, "lists %s: http %v rss %d MB\n", row.name, row.httpMedian, row.peakRSS>>20)
		r.rows = append(r.rows, row)
	}
	if r.deepBefore, r.deepFull, err = deepPage(ctx, srv, client, pools, table, opts); err != nil {
		return nil, err
	}
	// 10% of the sessions updated, no vacuum since: index-only scans must
	// visit the heap for those pages.
	if _, err := pool.Exec(ctx, `UPDATE agno_sessions SET updated_at = updated_at + 1 WHERE right(session_id, 1) = '7'`); err != nil {
		return nil, err
	}
	if r.updated, r.updFull, err = deepPage(ctx, srv, client, pools, table, opts); err != nil {
		return nil, err
	}
	_, _ = fmt.Fprintf(stdout, "lists %s: http %v, full-row OFFSET %v; after 10%% updated: http %v, full-row OFFSET %v\n",
		r.deepBefore.name, r.deepBefore.httpMedian, r.deepFull, r.updated.httpMedian, r.updFull)
	if r.upserts, err = upserts(ctx, pool, table); err != nil {
		return nil, err
	}
	_, _ = fmt.Fprintf(stdout, "lists upserts: %v with the trigram index, %v without\n", r.upserts[0], r.upserts[1])
	if r.counting, r.sqliteName, err = counting(ctx, pool, opts); err != nil {
		return nil, err
	}
	return r, nil
}

// seedLists fills the tables set-based, as agno 3.0 would have written
// them: n sessions of the three types (a fifth unnamed, the rest named
// "topic …" with session metrics), three runs of about 2 kB each
// (system, user and assistant messages, input, metrics); ten sessions of
// 5,000 runs ("many-0" … "many-9"); and one of 2,000 runs of 256 kB
// ("big"). Users: u0 … u999 own a thousand sessions each; "unnamed-user"
// and "named-user" own 200 each, all unnamed and all named; "solo-user"
// owns one. Both tables' indexes but their keys are dropped for the load
// and made again from their own definitions (so agno's names and this
// server's stay), the large inserts run in two halves at once on pool's
// connections (one per core here), then everything is vacuumed and
// analyzed.
func seedLists(ctx context.Context, pool *pgxpool.Pool, n, manyRuns, bigRuns int) error {
	var indexes []string // the definitions of the dropped indexes
	for _, table := range []string{"agno_sessions", "agno_runs"} {
		rows, err := pool.Query(ctx, `SELECT c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x
JOIN pg_class c ON c.oid = x.indexrelid
WHERE x.indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)`, table)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (string, error) {
			var name, def string
			err := row.Scan(&name, &def)
			indexes = append(indexes, def)
			return name, err
		})
		if err != nil {
			return err
		}
		for _, name := range names {
			if _, err := pool.Exec(ctx, "DROP INDEX "+pgx.Identifier{name}.Sanitize()); err != nil {
				return err
			}
		}
	}
	const runData = `jsonb_build_object('run_id', s.session_id || '-' || i, 'session_id', s.session_id,
  s.session_type || '_id', COALESCE(s.agent_id, s.team_id, s.workflow_id), 'status', 'COMPLETED', 'created_at', s.created_at + i,
  'content_type', 'str', 'content', repeat(md5(s.session_id || i), %[1]d),
  'input', jsonb_build_object('input_content', 'question ' || s.session_id || ' ' || i),
  'metrics', jsonb_build_object('input_tokens', 120, 'output_tokens', 80, 'total_tokens', 200, 'duration', 1.5),
  'messages', jsonb_build_array(
    jsonb_build_object('role', 'system', 'content', 'You are a helpful assistant.', 'created_at', s.created_at + i),
    jsonb_build_object('role', 'user', 'content', 'question ' || s.session_id || ' ' || i, 'created_at', s.created_at + i),
    jsonb_build_object('role', 'assistant', 'content', repeat(md5(i || s.session_id), %[2]d), 'created_at', s.created_at + i)))`
	runs := func(where string, count, content, answer int) string {
		return `INSERT INTO agno_runs (run_id, session_id, run_type, agent_id, team_id, workflow_id, user_id, status, run_index, run_data, created_at, updated_at)
SELECT s.session_id || '-' || i, s.session_id, s.session_type, s.agent_id, s.team_id, s.workflow_id, s.user_id, 'COMPLETED', i,
  ` + fmt.Sprintf(runData, content, answer) + `, s.created_at + i, s.created_at + i
FROM agno_sessions s, generate_series(0, ` + fmt.Sprint(count-1) + `) i WHERE ` + where
	}
	// sessions inserts the sessions g = from, from + 2, … up to n.
	sessions := func(from int) string {
		return `INSERT INTO agno_sessions (session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data, agent_data, metadata, created_at, updated_at)
SELECT 'L' || g, (ARRAY['agent', 'team', 'workflow'])[g % 3 + 1],
  CASE WHEN g % 3 = 0 THEN 'agent-' || g % 100 END, CASE WHEN g % 3 = 1 THEN 'team-' || g % 100 END, CASE WHEN g % 3 = 2 THEN 'workflow-' || g % 100 END,
  CASE WHEN g % 5000 = 1 THEN 'unnamed-user' WHEN g % 5000 = 2 THEN 'named-user' WHEN g = 3 THEN 'solo-user' ELSE 'u' || g % 1000 END,
  CASE WHEN (g % 5 = 0 OR g % 5000 = 1) AND g % 5000 <> 2 THEN '{}'::jsonb
    ELSE jsonb_build_object('session_name', 'topic ' || g % 100000 || ' ' || left(md5(g::text), 8), 'session_state', jsonb_build_object('step', g % 7),
      'session_metrics', jsonb_build_object('input_tokens', 360, 'output_tokens', 240, 'total_tokens', 600)) END,
  jsonb_build_object('name', 'Helper', 'agent_id', 'agent-' || g % 100), jsonb_build_object('source', 'bench'),
  1700000000 + g * 10, 1700000000 + g * 10 + g % 7
FROM generate_series(` + fmt.Sprint(from) + `, ` + fmt.Sprint(n) + `, 2) g`
	}
	const even = `right(s.session_id, 1) IN ('0', '2', '4', '6', '8')`
	// Each step's statements run at once, each on a connection of its own.
	for _, step := range [][]string{
		{sessions(1), sessions(2)},
		{runs("s.session_id LIKE 'L%' AND "+even, 3, 10, 45), runs("s.session_id LIKE 'L%' AND NOT "+even, 3, 10, 45)},
		{`INSERT INTO agno_sessions (session_id, session_type, agent_id, user_id, session_data, created_at, updated_at)
SELECT 'many-' || g, 'agent', 'agent-many', 'many-user', '{}'::jsonb, 1600000000 + g, 1600000000 + g FROM generate_series(0, 9) g
UNION ALL SELECT 'big', 'agent', 'agent-big', 'big-user', '{}'::jsonb, 1600000100, 1600000100`},
		{runs("s.session_id LIKE 'many-%'", manyRuns, 10, 45), runs("s.session_id = 'big'", bigRuns, 10, 8000)},
		indexes,
	} {
		errs := make([]error, len(step))
		var wg sync.WaitGroup
		for i, q := range step {
			wg.Go(func() {
				_, errs[i] = pool.Exec(ctx, q)
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	_, err := pool.Exec(ctx, "VACUUM ANALYZE")
	return err
}

// listShapes are the requests measured, with the server's statements and
// AgentOS's for each.
func listShapes(ctx context.Context, table store.Sessions, opts options) ([]listShape, error) {
	f := func(mod func(*store.ListFilter)) store.ListFilter {
		lf := store.ListFilter{SortBy: "created_at", Descending: true, Limit: 20, Page: 1}
		if mod != nil {
			mod(&lf)
		}
		return lf
	}
	type spec struct {
		name, path  string
		filter      store.ListFilter
		where       string // AgentOS's WHERE
		args        []any
		order       string
		limit, skip int
	}
	deep := min(40000, opts.listSessions/20)
	specs := []spec{
		{"default page", "/sessions", f(nil), "", nil, "created_at DESC", 20, 0},
		{"type=team", "/sessions?type=team", f(func(l *store.ListFilter) { l.Type = ptr("team") }), "session_type = $1", []any{"team"}, "created_at DESC", 20, 0},
		{"user_id=u7", "/sessions?user_id=u7", f(func(l *store.ListFilter) { l.UserID = ptr("u7") }), "user_id = $1", []any{"u7"}, "created_at DESC", 20, 0},
		{"component_id=agent-7", "/sessions?component_id=agent-7", f(func(l *store.ListFilter) { l.ComponentID = ptr("agent-7") }),
			"(agent_id = $1 OR team_id = $1 OR workflow_id = $1)", []any{"agent-7"}, "created_at DESC", 20, 0},
		{"session_name=topic 791", "/sessions?session_name=topic%20791", f(func(l *store.ListFilter) { l.NameContains = ptr("topic 791") }),
			"session_data->>'session_name' ILIKE $1", []any{"%topic 791%"}, "created_at DESC", 20, 0},
		{fmt.Sprintf("page=%d", deep), fmt.Sprintf("/sessions?page=%d", deep), f(func(l *store.ListFilter) { l.Page = deep }), "", nil, "created_at DESC", 20, (deep - 1) * 20},
		{"sort_by=updated_at", "/sessions?sort_by=updated_at", f(func(l *store.ListFilter) { l.SortBy = "updated_at" }), "", nil, "COALESCE(updated_at, created_at) DESC", 20, 0},
		{"limit=1000", "/sessions?limit=1000", f(func(l *store.ListFilter) { l.Limit = 1000 }), "", nil, "created_at DESC", 1000, 0},
		{"unnamed-heavy page (user_id=unnamed-user)", "/sessions?user_id=unnamed-user", f(func(l *store.ListFilter) { l.UserID = ptr("unnamed-user") }),
			"user_id = $1", []any{"unnamed-user"}, "created_at DESC", 20, 0},
		{"the same page with stored names (user_id=named-user)", "/sessions?user_id=named-user", f(func(l *store.ListFilter) { l.UserID = ptr("named-user") }),
			"user_id = $1", []any{"named-user"}, "created_at DESC", 20, 0},
	}
	var shapes []listShape
	for _, s := range specs {
		floor, err := store.ListStatements(ctx, table, s.filter)
		if err != nil {
			return nil, err
		}
		where := ""
		if s.where != "" {
			where = " WHERE " + s.where
		}
		shapes = append(shapes, listShape{name: s.name, path: s.path, floor: floor, peer: []peerStatement{
			{sql: "SELECT count(*) FROM agno_sessions" + where, args: s.args},
			{sql: fmt.Sprintf("SELECT * FROM agno_sessions%s ORDER BY %s LIMIT %d OFFSET %d", where, s.order, s.limit, s.skip), args: s.args},
			{sql: "SELECT * FROM agno_runs WHERE session_id = ANY($1)", pageIDs: true},
		}})
	}
	for _, r := range []struct {
		name, path string
		page       store.RunPage
	}{
		{fmt.Sprintf("runs of a %s-run session, a page of 20", grouped(opts.listManyRuns)), "/sessions/many-3/runs?limit=20", store.RunPage{Limit: 20, Page: 1}},
		{fmt.Sprintf("runs of a %s-run session, all", grouped(opts.listManyRuns)), "/sessions/many-3/runs", store.RunPage{}},
	} {
		floor, err := store.RunStatements(ctx, table, "many-3", r.page)
		if err != nil {
			return nil, err
		}
		shapes = append(shapes, listShape{name: r.name, path: r.path, floor: floor, peer: []peerStatement{
			{sql: "SELECT * FROM agno_sessions WHERE session_id = $1", args: []any{"many-3"}},
			{sql: "SELECT * FROM agno_runs WHERE session_id = $1 ORDER BY run_index, created_at", args: []any{"many-3"}},
		}})
	}
	return shapes, nil
}

func ptr[T any](v T) *T { return &v }

// measureShape times one shape over interleaved rounds: the HTTP request,
// the floor and the peer, in an order that turns every round.
// warmRounds are the rounds of each shape that are not counted.
const warmRounds = 6

// listPools are the bench's connections: the floor's, with the server's
// session parameters, and AgentOS's, with the database's defaults.
type listPools struct{ floor, peer *pgxpool.Pool }

func measureShape(ctx context.Context, srv *server, client *http.Client, pools listPools, sh listShape, warm, rounds int) (listRow, error) {
	row := listRow{name: sh.name}
	var httpTimes, floorTimes, peerTimes []time.Duration
	if err := srv.resetPeakRSS(); err != nil {
		return row, err
	}
	steps := []func() error{
		func() error {
			d, err := timedGet(ctx, client, srv.URL+sh.path)
			httpTimes = append(httpTimes, d)
			return err
		},
		func() error {
			if len(sh.floor) == 0 {
				return nil
			}
			d, err := timedStatements(ctx, pools.floor, sh.floor)
			floorTimes = append(floorTimes, d)
			return err
		},
		func() error {
			if len(sh.peer) == 0 {
				return nil
			}
			d, err := timedPeer(ctx, pools.peer, sh.peer)
			peerTimes = append(peerTimes, d)
			return err
		},
	}
	// The first rounds warm the caches and are not counted: PostgreSQL
	// settles a prepared statement's plan on its sixth execution.
	for round := range warm + rounds {
		for i := range steps {
			if err := steps[(i+round)%len(steps)](); err != nil {
				return row, err
			}
		}
		if round == warm-1 {
			httpTimes, floorTimes, peerTimes = nil, nil, nil
		}
	}
	rss, err := srv.peakRSS()
	if err != nil {
		return row, err
	}
	row.peakRSS = rss
	row.httpMedian, row.httpP99 = median(httpTimes), percentile(httpTimes, 99)
	if len(floorTimes) > 0 {
		row.floor = median(floorTimes)
	}
	if len(peerTimes) > 0 {
		row.peer = median(peerTimes)
	}
	return row, nil
}

// timedGet is one request, its whole body read.
func timedGet(ctx context.Context, client *http.Client, url string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return time.Since(start), err
}

// timedStatements runs statements as the server does, reading every row:
// one on its own, more in one read-only REPEATABLE READ transaction.
func timedStatements(ctx context.Context, pool *pgxpool.Pool, stmts []store.Statement) (time.Duration, error) {
	start := time.Now()
	if len(stmts) == 1 {
		_, err := readAll(ctx, pool, stmts[0].SQL, stmts[0].Args...)
		return time.Since(start), err
	}
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, s := range stmts {
		if _, err := readAll(ctx, tx, s.SQL, s.Args...); err != nil {
			return 0, err
		}
	}
	return time.Since(start), tx.Commit(ctx)
}

// timedPeer runs AgentOS's statements, each on its own, as its
// SQLAlchemy sessions do.
func timedPeer(ctx context.Context, pool *pgxpool.Pool, stmts []peerStatement) (time.Duration, error) {
	start := time.Now()
	var ids []string
	for _, s := range stmts {
		args := s.args
		if s.pageIDs {
			args = []any{ids}
		}
		got, err := readAll(ctx, pool, s.sql, args...)
		if err != nil {
			return 0, err
		}
		if !s.pageIDs {
			ids = got
		}
	}
	return time.Since(start), nil
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// readAll reads every row of a statement, values as the wire sent them,
// and returns the first column of each as text.
func readAll(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var first []string
	for rows.Next() {
		raw := rows.RawValues()
		if len(raw) > 0 {
			first = append(first, string(raw[0]))
		}
	}
	return first, rows.Err()
}

// deepPage times a deep page (40,000, or the last twentieth of a smaller
// table) over HTTP and its floor, and the full-row
// OFFSET statement the earlier build sent for it.
func deepPage(ctx context.Context, srv *server, client *http.Client, pools listPools, table store.Sessions, opts options) (listRow, time.Duration, error) {
	page := min(40000, opts.listSessions/20)
	floor, err := store.ListStatements(ctx, table, store.ListFilter{SortBy: "created_at", Descending: true, Limit: 20, Page: page})
	if err != nil {
		return listRow{}, 0, err
	}
	full := []store.Statement{{SQL: fmt.Sprintf(`SELECT session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data, agent_data, team_data, workflow_data, metadata, summary, created_at, updated_at
FROM agno_sessions ORDER BY created_at DESC, session_id DESC LIMIT 20 OFFSET %d`, (page-1)*20)}}
	row, err := measureShape(ctx, srv, client, pools, listShape{name: fmt.Sprintf("page=%d", page), path: fmt.Sprintf("/sessions?page=%d", page), floor: floor}, warmRounds, opts.listRounds)
	if err != nil {
		return row, 0, err
	}
	var times []time.Duration
	for range opts.listRounds {
		d, err := timedStatements(ctx, pools.floor, full)
		if err != nil {
			return row, 0, err
		}
		times = append(times, d)
	}
	return row, median(times), nil
}

// upserts times agno's session upsert (INSERT … ON CONFLICT (session_id)
// DO UPDATE, the statement agno runs after every run) on existing
// sessions, with the trigram index and without it.
func upserts(ctx context.Context, pool *pgxpool.Pool, table store.Sessions) ([2]time.Duration, error) {
	var out [2]time.Duration
	var indexDef string
	if err := pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'agno_sessions_session_name_trgm_idx'`).Scan(&indexDef); err != nil {
		return out, fmt.Errorf("the trigram index: %w", err)
	}
	const n = 2000
	upsert := `INSERT INTO agno_sessions (session_id, session_type, agent_id, user_id, session_data, agent_data, metadata, created_at, updated_at)
VALUES ($1, 'agent', 'agent-1', 'u1', jsonb_build_object('session_name', $3::text, 'session_state', '{}'::jsonb), '{}', '{}', 1700000000, $2)
ON CONFLICT (session_id) DO UPDATE SET agent_id = excluded.agent_id, user_id = excluded.user_id, session_data = excluded.session_data,
  agent_data = excluded.agent_data, metadata = excluded.metadata, updated_at = excluded.updated_at
WHERE agno_sessions.user_id = excluded.user_id OR agno_sessions.user_id IS NULL`
	for i := range 2 {
		start := time.Now()
		for j := range n {
			id := fmt.Sprintf("L%d", 1+j*37%max(n, 1))
			if _, err := pool.Exec(ctx, upsert, id, int64(1800000000+j), "renamed "+id); err != nil {
				return out, err
			}
		}
		out[i] = time.Since(start) / n
		if i == 0 {
			if _, err := pool.Exec(ctx, "DROP INDEX agno_sessions_session_name_trgm_idx"); err != nil {
				return out, err
			}
		}
	}
	_, err := pool.Exec(ctx, indexDef)
	return out, err
}

// counting compares the two statements a page and its total take with one
// statement carrying a window count, at 1, 1,000 and every matching row,
// on PostgreSQL and on a SQLite file of the same sessions.
func counting(ctx context.Context, pool *pgxpool.Pool, opts options) ([]countRow, [2]time.Duration, error) {
	var rows []countRow
	for _, f := range countFilters("$1", int64(opts.listSessions)) {
		strategies := countStrategies(f.where)
		var times [3][]time.Duration
		for round := range opts.listRounds {
			for i := range strategies {
				k := (i + round) % len(strategies)
				d, err := timedStatements(ctx, pool, asStatements(strategies[k], f.arg))
				if err != nil {
					return nil, [2]time.Duration{}, err
				}
				times[k] = append(times[k], d)
			}
		}
		rows = append(rows, countRow{backend: "postgres", matches: f.matches, times: [3]time.Duration{median(times[0]), median(times[1]), median(times[2])}})
	}
	sqliteRows, name, err := countingSQLite(ctx, opts, int64(opts.listSessions))
	if err != nil {
		return nil, name, fmt.Errorf("sqlite: %w", err)
	}
	return append(rows, sqliteRows...), name, nil
}

// countFilter selects 1, 1,000 or every session of the list section's
// table; p is the dialect's first placeholder.
type countFilter struct {
	matches int64
	where   string
	arg     any
}

func countFilters(p string, all int64) []countFilter {
	return []countFilter{{1, "user_id = " + p, "solo-user"}, {1000, "user_id = " + p, "u7"}, {all, "session_id LIKE " + p, "L%"}}
}

// countStrategies are the three ways to read a page of 20 and its total:
// two statements (the count, then the page) in one read-only transaction;
// one statement with a window count; and one statement whose total is the
// page's length when the page is not full, and a count subquery, which
// the database runs only when it is needed, otherwise (the server's).
func countStrategies(where string) [3][]string {
	const order = " ORDER BY created_at DESC, session_id DESC"
	return [3][]string{
		{"SELECT count(*) FROM agno_sessions WHERE " + where,
			"SELECT session_id FROM agno_sessions WHERE " + where + order + " LIMIT 20"},
		{"SELECT session_id, count(*) OVER () FROM agno_sessions WHERE " + where + order + " LIMIT 20"},
		{"SELECT session_id, CASE WHEN count(*) OVER () < 20 THEN count(*) OVER () ELSE (SELECT count(*) FROM agno_sessions WHERE " + where + ") END" +
			" FROM (SELECT session_id, created_at FROM agno_sessions WHERE " + where + order + " LIMIT 20) AS k" + order},
	}
}

func asStatements(sqls []string, arg any) []store.Statement {
	out := make([]store.Statement, len(sqls))
	for i, q := range sqls {
		out[i] = store.Statement{SQL: q, Args: []any{arg}}
	}
	return out
}

// countingSQLite makes the same comparison on a SQLite file of n sessions
// with the server's tables and indexes, and times the session_name filter
// there: the server's page statement against the earlier build's
// statements (json_extract, a count then the page).
func countingSQLite(ctx context.Context, opts options, n int64) ([]countRow, [2]time.Duration, error) {
	var name [2]time.Duration
	dir, err := os.MkdirTemp("", "agentos-bench-lists-")
	if err != nil {
		return nil, name, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	url := "sqlite://" + filepath.Join(dir, "lists.db")
	catalog, err := store.Open(ctx, []store.DatabaseConfig{{ID: "bench", URL: url}}, nil)
	if err != nil {
		return nil, name, err
	}
	defer func() { _ = catalog.Close() }()
	table, err := catalog.Resolve("bench", "")
	if err != nil {
		return nil, name, err
	}
	_, dsn, err := store.ParseURL(url)
	if err != nil {
		return nil, name, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, name, err
	}
	defer func() { _ = db.Close() }()
	if _, err := db.ExecContext(ctx, `WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?1)
INSERT INTO agno_sessions (session_id, session_type, agent_id, user_id, session_data, created_at, updated_at)
SELECT 'L' || i, 'agent', 'agent-' || (i % 100), CASE WHEN i = 3 THEN 'solo-user' ELSE 'u' || (i % 1000) END,
  json_object('session_name', 'topic ' || (i % 100000)), 1700000000 + i * 10, 1700000000 + i * 10 FROM g`, n); err != nil {
		return nil, name, err
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return nil, name, err
	}
	var rows []countRow
	for _, f := range countFilters("?1", n) {
		strategies := countStrategies(f.where)
		var times [3][]time.Duration
		for round := range min(opts.listRounds, 10) {
			for i := range strategies {
				k := (i + round) % len(strategies)
				start := time.Now()
				if err := sqliteStatements(ctx, db, asStatements(strategies[k], f.arg)); err != nil {
					return nil, name, err
				}
				times[k] = append(times[k], time.Since(start))
			}
		}
		rows = append(rows, countRow{backend: "sqlite", matches: f.matches, times: [3]time.Duration{median(times[0]), median(times[1]), median(times[2])}})
	}

	pattern := "topic 791"
	ours, err := store.ListStatements(ctx, table, store.ListFilter{NameContains: &pattern, SortBy: "created_at", Descending: true, Limit: 20, Page: 1})
	if err != nil {
		return nil, name, err
	}
	const match = ` WHERE json_extract(session_data, '$.session_name') LIKE ('%' || ?1 || '%') ESCAPE '\'`
	earlier := asStatements([]string{"SELECT count(*) FROM agno_sessions" + match,
		"SELECT " + strings.Join(sessionColumnNames, ", ") + " FROM agno_sessions" + match + " ORDER BY created_at DESC, session_id DESC LIMIT 20 OFFSET 0"}, pattern)
	var times [2][]time.Duration
	for round := range min(opts.listRounds, 10) {
		for i := range 2 {
			k := (i + round) % 2
			start := time.Now()
			stmts := ours // the count and the page, as the server reads them
			if k == 1 {
				stmts = earlier
			}
			if err := sqliteStatements(ctx, db, stmts); err != nil {
				return nil, name, err
			}
			times[k] = append(times[k], time.Since(start))
		}
	}
	return rows, [2]time.Duration{median(times[0]), median(times[1])}, nil
}

// sessionColumnNames are the 14 columns of agno's sessions table.
var sessionColumnNames = []string{"session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id",
	"session_data", "agent_data", "team_data", "workflow_data", "metadata", "summary", "created_at", "updated_at"}

// sqliteStatements runs one statement on its own, or more in one
// read-only transaction, reading every row.
func sqliteStatements(ctx context.Context, db *sql.DB, stmts []store.Statement) error {
	if len(stmts) == 1 {
		return drain(ctx, db, stmts[0].SQL, stmts[0].Args...)
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range stmts {
		if err := drain(ctx, tx, q.SQL, q.Args...); err != nil {
			return err
		}
	}
	return nil
}

func drain(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	dest := make([]any, len(cols))
	for i := range dest {
		dest[i] = new(any)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
	}
	return rows.Err()
}

// renderLists writes the list section.
func renderLists(r *listReport, machine string, started, finished time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run of %s, %s to %s UTC.\n\n", started.Format("2006-01-02"), started.Format("15:04"), finished.Format("15:04"))
	b.WriteString(machine)
	fmt.Fprintf(&b, "\nPostgreSQL, agno 3.0's layout: %s sessions (a fifth unnamed, named by their runs), three runs of about 2 kB each; ten sessions of %s runs; one of %s runs of 256 kB. Seeded set-based in %s, `VACUUM ANALYZE` included. Medians of %d interleaved rounds after six warm-up rounds (PostgreSQL settles a prepared statement's plan on its sixth execution), each side on one connection; *floor* is the server's own statements run directly, as it sends them (a list page is one statement; a runs page three, in one read-only snapshot), on connections with its session parameters (`jit=off`); *AgentOS* is AgentOS's statements for the same request (the count, the page selecting every column, then every run of the listed sessions: `SELECT * FROM runs WHERE session_id = ANY(page ids)`), each on its own, on connections with the database's defaults; RSS is the server's peak over the shape's requests.\n\n",
		grouped(r.sessions), grouped(r.manyRuns), grouped(r.bigRuns), r.seedTime.Round(time.Second), r.rounds)
	b.WriteString("| request | http median | http p99 | floor | http/floor | AgentOS | server peak RSS |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range r.rows {
		ratio, floor, peer := "–", "–", "–"
		if row.floor > 0 {
			ratio, floor = fmt.Sprintf("%.2f×", float64(row.httpMedian)/float64(row.floor)), ms(row.floor)
		}
		if row.peer > 0 {
			peer = ms(row.peer)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %.1f MB |\n", row.name, ms(row.httpMedian), ms(row.httpP99), floor, ratio, peer, float64(row.peakRSS)/(1<<20))
	}
	fmt.Fprintf(&b, "\nThe deep page against the full-row OFFSET statement the earlier build sent for it (`SELECT <14 columns> … ORDER BY created_at DESC, session_id DESC LIMIT 20 OFFSET …`), on the same table:\n\n")
	b.WriteString("| | http median | floor | full-row OFFSET | http/full-row |\n|---|---:|---:|---:|---:|\n")
	for _, d := range []struct {
		name string
		row  listRow
		full time.Duration
	}{{r.deepBefore.name + ", vacuumed", r.deepBefore, r.deepFull}, {r.updated.name + ", after 10% of the sessions were updated, no vacuum", r.updated, r.updFull}} {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %.2f× |\n", d.name, ms(d.row.httpMedian), ms(d.row.floor), ms(d.full), float64(d.row.httpMedian)/float64(d.full))
	}
	fmt.Fprintf(&b, "\nagno's session upsert (`INSERT … ON CONFLICT (session_id) DO UPDATE`, 2,000 on existing sessions, one at a time): %s each with the trigram index, %s without (%.2f×).\n",
		ms(r.upserts[0]), ms(r.upserts[1]), float64(r.upserts[0])/float64(r.upserts[1]))
	b.WriteString("\nCounting: a page of 20 and its total as two statements (`count(*)`, then the page, in one read-only transaction), as one with a window count (`count(*) OVER ()` in the page), or as the server reads them: one statement whose total is the page's length when the page is not full, and a count subquery, run only for a full page, otherwise:\n\n")
	b.WriteString("| database | matching rows | two statements | window count | count when full (the server's) | window/two | server's/two |\n|---|---:|---:|---:|---:|---:|---:|\n")
	sort.SliceStable(r.counting, func(i, j int) bool { return r.counting[i].backend < r.counting[j].backend })
	for _, c := range r.counting {
		t := c.times
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.2f× | %.2f× |\n", c.backend, grouped(int(c.matches)), ms(t[0]), ms(t[1]), ms(t[2]),
			float64(t[1])/float64(t[0]), float64(t[2])/float64(t[0]))
	}
	fmt.Fprintf(&b, "\nSQLite's `session_name` filter (`topic 791`, %s sessions, one file): the server's count and page (one read-only transaction), which read every encoding agno wrote, %s; the earlier build's (`json_extract(session_data, '$.session_name') LIKE …`, a count then the page) %s (%.2f×).\n",
		grouped(r.sessions), ms(r.sqliteName[0]), ms(r.sqliteName[1]), float64(r.sqliteName[0])/float64(r.sqliteName[1]))
	return b.String()
}

// grouped writes n with commas between thousands: 1,000,000.
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
