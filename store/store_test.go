package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
)

// newURL returns the URL of a fresh, empty database of one dialect.
type newURL func(t testing.TB) string

// forEachDialect runs test once against PostgreSQL and once against SQLite.
func forEachDialect(t *testing.T, test func(t *testing.T, newURL newURL)) {
	t.Run("Postgres", func(t *testing.T) { test(t, testdb.PostgresURL) })
	t.Run("SQLite", func(t *testing.T) { test(t, testdb.SQLiteURL) })
}

// dbConfig configures one database, id "main", at url with the given
// table pairs; on PostgreSQL its tables live in the test's own schema
// (the search_path testdb.PostgresURL sets).
func dbConfig(url string, tables ...TablePair) DatabaseConfig {
	return DatabaseConfig{ID: "main", URL: url, Schema: schemaOf(url), Tables: tables}
}

// pgConfig configures one database, id "d", at a testdb.PostgresURL.
func pgConfig(url string) DatabaseConfig {
	return DatabaseConfig{ID: "d", URL: url, Schema: schemaOf(url)}
}

// schemaOf is the schema testdb.PostgresURL put on a URL's search_path,
// "" for SQLite.
func schemaOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		return ""
	}
	return u.Query().Get("search_path")
}

// openCatalog opens one database, id "main", with the given table pairs
// (DefaultTables when none), and closes it when the test ends.
func openCatalog(t testing.TB, url string, tables ...TablePair) *Catalog {
	t.Helper()
	c, err := Open(context.Background(), []DatabaseConfig{dbConfig(url, tables...)}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func resolve(t testing.TB, c *Catalog, table string) Sessions {
	t.Helper()
	s, err := c.Resolve("main", table)
	if err != nil {
		t.Fatalf("Resolve(%q, %q): %v", "main", table, err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

// session is a row seed inserts, with Runs runs of its own.
type session struct {
	ID     string
	Type   string
	UserID *string
	Runs   int
}

// seed inserts sessions and their runs with plain SQL.
func seed(t testing.TB, c *Catalog, pair TablePair, sessions ...session) {
	t.Helper()
	d := c.byID["main"]
	p := d.placeholder
	tx, err := d.sqlDB.Begin()
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, s := range sessions {
		if _, err := tx.Exec("INSERT INTO "+d.qualified(pair.Sessions)+
			" (session_id, session_type, user_id, session_data, created_at) VALUES ("+p(1)+", "+p(2)+", "+p(3)+", '{\"k\": 1}', 1700000000)",
			s.ID, s.Type, s.UserID); err != nil {
			t.Fatalf("seed session %q: %v", s.ID, err)
		}
		for i := range s.Runs {
			// As agno writes a run: typed like its session, with the
			// session's component id in run_data.
			data := fmt.Sprintf(`{"%s_id": "component"}`, s.Type)
			if _, err := tx.Exec("INSERT INTO "+d.qualified(pair.Runs)+
				" (run_id, session_id, run_type, status, run_index, run_data, created_at) VALUES ("+p(1)+", "+p(2)+", "+p(3)+", 'COMPLETED', "+p(4)+", "+p(5)+", 1700000000)",
				fmt.Sprintf("%s-run-%d", s.ID, i), s.ID, s.Type, i, data); err != nil {
				t.Fatalf("seed run of %q: %v", s.ID, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("seed: %v", err)
	}
}

// seedMany inserts n agent sessions named bulk-1 … bulk-n, each with one run.
func seedMany(t testing.TB, c *Catalog, pair TablePair, n int) {
	t.Helper()
	d := c.byID["main"]
	series := "generate_series(1, $1) AS g(n)"
	if d.dialect == DialectSQLite {
		series = "(WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?1) SELECT n FROM g) AS g"
	}
	for _, q := range []string{
		"INSERT INTO " + d.qualified(pair.Sessions) + " (session_id, session_type, user_id, created_at) SELECT 'bulk-' || g.n, 'agent', 'u' || (g.n % 7), 1700000000 FROM " + series,
		"INSERT INTO " + d.qualified(pair.Runs) + " (run_id, session_id, run_type, run_index, run_data, created_at) SELECT 'run-' || g.n, 'bulk-' || g.n, 'agent', 0, '{}', 1700000000 FROM " + series,
	} {
		if _, err := d.sqlDB.Exec(q, n); err != nil {
			t.Fatalf("seed %d sessions: %v", n, err)
		}
	}
}

// remaining returns every session left in pair's table with its run count.
func remaining(t testing.TB, c *Catalog, pair TablePair) map[string]int64 {
	t.Helper()
	d := c.byID["main"]
	rows, err := d.sqlDB.Query("SELECT s.session_id, (SELECT count(*) FROM " + d.qualified(pair.Runs) +
		" r WHERE r.session_id = s.session_id) FROM " + d.qualified(pair.Sessions) + " s")
	if err != nil {
		t.Fatalf("remaining: %v", err)
	}
	defer rows.Close()
	left := make(map[string]int64)
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatalf("remaining: %v", err)
		}
		left[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("remaining: %v", err)
	}
	return left
}

// countRows counts the rows of a table.
func countRows(t testing.TB, c *Catalog, table string) int64 {
	t.Helper()
	var n int64
	if err := c.byID["main"].sqlDB.QueryRow("SELECT count(*) FROM " + c.byID["main"].qualified(table)).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// summary renders deleted sessions as sorted "id/type:runs" strings.
func summary(deleted []DeletedSession) []string {
	out := make([]string, 0, len(deleted))
	for _, d := range deleted {
		out = append(out, fmt.Sprintf("%s/%s:%d", d.ID, d.Type, d.RunsDeleted))
	}
	slices.Sort(out)
	return out
}

func checkRemaining(t testing.TB, c *Catalog, pair TablePair, want map[string]int64) {
	t.Helper()
	if got := remaining(t, c, pair); !maps.Equal(got, want) {
		t.Errorf("remaining sessions (id: runs): got %v, want %v", got, want)
	}
}

// checkDeleted compares a delete's result with want ("id/type:runs"): the
// count always, and the sessions themselves when the delete reported them.
func checkDeleted(t testing.TB, got DeleteResult, want ...string) {
	t.Helper()
	if got.Sessions != int64(len(want)) {
		t.Errorf("sessions deleted: got %d, want %d", got.Sessions, len(want))
	}
	if got.Deleted == nil {
		return
	}
	if want == nil {
		want = []string{}
	}
	if g := summary(got.Deleted); !slices.Equal(g, want) {
		t.Errorf("deleted: got %v, want %v", g, want)
	}
}

func TestStore_DeleteSessions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, newURL newURL) {
		ctx := context.Background()
		pair := DefaultTables

		t.Run("CascadesRuns", func(t *testing.T) {
			c := openCatalog(t, newURL(t))
			seed(t, c, pair, session{ID: "a1", Type: "agent", Runs: 2}, session{ID: "a2", Type: "agent", Runs: 1})
			got, err := resolve(t, c, "").DeleteSessions(ctx, []SessionKey{{"a1", "agent"}, {"a2", "agent"}}, DeleteOptions{})
			if err != nil {
				t.Fatalf("DeleteSessions: %v", err)
			}
			checkDeleted(t, got, "a1/agent:0", "a2/agent:0")
			checkRemaining(t, c, pair, map[string]int64{})
			if n := countRows(t, c, pair.Runs); n != 0 {
				t.Errorf("runs left: got %d, want 0", n)
			}
		})

		t.Run("LeavesOthersUntouched", func(t *testing.T) {
			c := openCatalog(t, newURL(t))
			seed(t, c, pair,
				session{ID: "a1", Type: "agent", Runs: 2},
				session{ID: "b1", Type: "agent", Runs: 3},
				session{ID: "b2", Type: "team"},
			)
			got, err := resolve(t, c, "").DeleteSessions(ctx, []SessionKey{{"a1", "agent"}}, DeleteOptions{})
			if err != nil {
				t.Fatalf("DeleteSessions: %v", err)
			}
			checkDeleted(t, got, "a1/agent:0")
			checkRemaining(t, c, pair, map[string]int64{"b1": 3, "b2": 0})
		})

		t.Run("TypeMismatchNotDeleted", func(t *testing.T) {
			c := openCatalog(t, newURL(t))
			seed(t, c, pair, session{ID: "t1", Type: "team", Runs: 1}, session{ID: "w1", Type: "workflow"})
			got, err := resolve(t, c, "").DeleteSessions(ctx, []SessionKey{{"t1", "agent"}, {"w1", "team"}}, DeleteOptions{})
			if err != nil {
				t.Fatalf("DeleteSessions: %v", err)
			}
			checkDeleted(t, got)
			checkRemaining(t, c, pair, map[string]int64{"t1": 1, "w1": 0})
		})

		t.Run("UnknownAndDuplicateKeys", func(t *testing.T) {
			// A repeated pair deletes and counts its session once, with or
			// without a report.
			for _, opts := range []DeleteOptions{{}, {Report: true}} {
				c := openCatalog(t, newURL(t))
				seed(t, c, pair, session{ID: "a1", Type: "agent", Runs: 2}, session{ID: "keep", Type: "agent"})
				keys := []SessionKey{{"a1", "agent"}, {"nope", "agent"}, {"a1", "agent"}, {"a1", "team"}, {"", ""}}
				got, err := resolve(t, c, "").DeleteSessions(ctx, keys, opts)
				if err != nil {
					t.Fatalf("DeleteSessions(%+v): %v", opts, err)
				}
				checkDeleted(t, got, "a1/agent:2")
				checkRemaining(t, c, pair, map[string]int64{"keep": 0})
			}
		})

		t.Run("EmptyKeys", func(t *testing.T) {
			c := openCatalog(t, newURL(t))
			seed(t, c, pair, session{ID: "a1", Type: "agent", Runs: 1})
			got, err := resolve(t, c, "").DeleteSessions(ctx, nil, DeleteOptions{Report: true, UserID: ptr("u")})
			if err != nil {
				t.Fatalf("DeleteSessions: %v", err)
			}
			if got.Sessions != 0 || got.Deleted == nil || len(got.Deleted) != 0 {
				t.Errorf("deleted: got %#v, want none, as an empty non-nil slice", got)
			}
			checkRemaining(t, c, pair, map[string]int64{"a1": 1})
		})

		t.Run("UserFilter", func(t *testing.T) {
			owners := []session{
				{ID: "alice-1", Type: "agent", UserID: ptr("alice"), Runs: 2},
				{ID: "bob-1", Type: "agent", UserID: ptr("bob"), Runs: 1},
				{ID: "anon-1", Type: "agent", UserID: nil, Runs: 1},
				{ID: "empty-1", Type: "agent", UserID: ptr(""), Runs: 3},
			}
			keys := make([]SessionKey, 0, len(owners))
			for _, s := range owners {
				keys = append(keys, SessionKey{s.ID, s.Type})
			}
			all := map[string]int64{"alice-1": 2, "bob-1": 1, "anon-1": 1, "empty-1": 3}
			without := func(ids ...string) map[string]int64 {
				m := maps.Clone(all)
				for _, id := range ids {
					delete(m, id)
				}
				return m
			}
			for _, tc := range []struct {
				name   string
				userID *string
				report bool
				want   []string
				left   map[string]int64
			}{
				{"MatchesOwner", ptr("alice"), false, []string{"alice-1/agent:0"}, without("alice-1")},
				{"MatchesOwnerCountingRuns", ptr("alice"), true, []string{"alice-1/agent:2"}, without("alice-1")},
				{"OtherUser", ptr("carol"), false, nil, all},
				{"EmptyStringMatchesOnlyEmpty", ptr(""), true, []string{"empty-1/agent:3"}, without("empty-1")},
				{"NoFilter", nil, false, []string{"alice-1/agent:0", "anon-1/agent:0", "bob-1/agent:0", "empty-1/agent:0"}, map[string]int64{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					c := openCatalog(t, newURL(t))
					seed(t, c, pair, owners...)
					got, err := resolve(t, c, "").DeleteSessions(ctx, keys, DeleteOptions{UserID: tc.userID, Report: tc.report})
					if err != nil {
						t.Fatalf("DeleteSessions: %v", err)
					}
					checkDeleted(t, got, tc.want...)
					checkRemaining(t, c, pair, tc.left)
				})
			}
		})

		t.Run("Report", func(t *testing.T) {
			c := openCatalog(t, newURL(t))
			seed(t, c, pair,
				session{ID: "a", Type: "agent", Runs: 3},
				session{ID: "b", Type: "team"},
				session{ID: "c", Type: "workflow", Runs: 1},
				session{ID: "d", Type: "agent", Runs: 2},
			)
			keys := []SessionKey{{"a", "agent"}, {"b", "team"}, {"c", "workflow"}, {"a", "agent"}}
			got, err := resolve(t, c, "").DeleteSessions(ctx, keys, DeleteOptions{Report: true})
			if err != nil {
				t.Fatalf("DeleteSessions: %v", err)
			}
			checkDeleted(t, got, "a/agent:3", "b/team:0", "c/workflow:1")
			checkRemaining(t, c, pair, map[string]int64{"d": 2})
		})

		t.Run("LargeBatch", func(t *testing.T) {
			// 70,000 keys is past PostgreSQL's 65,535 and SQLite's 32,766
			// bind-parameter limits. One key in ten names a session (fewer
			// rows keep -race runs on SQLite bearable); the rest are unknown.
			const keyCount, existing = 70_000, 7_000
			c := openCatalog(t, newURL(t))
			seedMany(t, c, pair, existing)
			seed(t, c, pair, session{ID: "bystander", Type: "agent", Runs: 1})
			keys := make([]SessionKey, 0, keyCount)
			for i := range keyCount {
				// bulk-1 … bulk-70000, the existing ones spread among them.
				n := i/10 + 1 + (i%10)*existing
				keys = append(keys, SessionKey{fmt.Sprintf("bulk-%d", n), "agent"})
			}
			got, err := resolve(t, c, "").DeleteSessions(ctx, keys, DeleteOptions{Report: true})
			if err != nil {
				t.Fatalf("DeleteSessions: %v", err)
			}
			if got.Sessions != existing || len(got.Deleted) != existing {
				t.Errorf("deleted: got %d sessions (%d listed), want %d", got.Sessions, len(got.Deleted), existing)
			}
			var runs int64
			for _, d := range got.Deleted {
				runs += d.RunsDeleted
			}
			if runs != existing {
				t.Errorf("runs deleted: got %d, want %d", runs, existing)
			}
			checkRemaining(t, c, pair, map[string]int64{"bystander": 1})
			if n := countRows(t, c, pair.Runs); n != 1 {
				t.Errorf("runs left: got %d, want 1", n)
			}
		})

		t.Run("AllOrNothing", func(t *testing.T) {
			rows := []session{
				{ID: "a-1", Type: "agent", Runs: 1},
				{ID: "a-2", Type: "agent", Runs: 2},
				{ID: "a-3", Type: "agent", Runs: 1},
				{ID: "z-boom", Type: "agent", Runs: 1},
			}
			keys := []SessionKey{{"a-1", "agent"}, {"a-2", "agent"}, {"a-3", "agent"}, {"z-boom", "agent"}}
			want := map[string]int64{"a-1": 1, "a-2": 2, "a-3": 1, "z-boom": 1}

			t.Run("FailingRow", func(t *testing.T) {
				c := openCatalog(t, newURL(t))
				seed(t, c, pair, rows...)
				// z-boom sorts last, so the rows before it have been deleted,
				// with their runs, when the trigger raises.
				d := c.byID["main"]
				trigger := []string{
					`CREATE TRIGGER boom BEFORE DELETE ON "agno_sessions" FOR EACH ROW WHEN (OLD.session_id = 'z-boom') BEGIN SELECT RAISE(ABORT, 'boom'); END`,
				}
				if d.dialect == DialectPostgres {
					trigger = []string{
						`CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$`,
						`CREATE TRIGGER boom BEFORE DELETE ON "agno_sessions" FOR EACH ROW WHEN (OLD.session_id = 'z-boom') EXECUTE FUNCTION boom()`,
					}
				}
				for _, q := range trigger {
					if _, err := d.sqlDB.Exec(q); err != nil {
						t.Fatalf("create trigger: %v", err)
					}
				}
				for _, opts := range []DeleteOptions{{}, {Report: true}} {
					got, err := resolve(t, c, "").DeleteSessions(ctx, keys, opts)
					if err == nil || !strings.Contains(err.Error(), "boom") {
						t.Fatalf("DeleteSessions(%+v): got error %v, want the trigger's", opts, err)
					}
					if !strings.HasPrefix(err.Error(), "delete sessions: ") {
						t.Errorf("error: got %q, want it prefixed %q", err, "delete sessions: ")
					}
					if got.Sessions != 0 || got.Deleted != nil {
						t.Errorf("deleted: got %+v, want nothing on error", got)
					}
					checkRemaining(t, c, pair, want)
				}
			})

			t.Run("CancelledContext", func(t *testing.T) {
				c := openCatalog(t, newURL(t))
				seed(t, c, pair, rows...)
				cctx, cancel := context.WithCancel(ctx)
				cancel()
				_, err := resolve(t, c, "").DeleteSessions(cctx, keys, DeleteOptions{})
				if !errors.Is(err, context.Canceled) {
					t.Errorf("error: got %v, want context.Canceled", err)
				}
				checkRemaining(t, c, pair, want)
			})
		})

		t.Run("ConcurrentOverlapping", func(t *testing.T) {
			// Each worker deletes an overlapping, shuffled subset. No pair of
			// transactions can wait on each other (postgresDeleteSQL says
			// why); every session goes exactly once.
			// Batch sizes alternate across OrderedLockMaxKeys, so that on
			// PostgreSQL deletes that lock their rows in order overlap
			// deletes that run alone.
			const sessions, workers = 2000, 8
			perWorker := [2]int{OrderedLockMaxKeys + 500, OrderedLockMaxKeys / 2}
			url := newURL(t)
			if strings.HasPrefix(url, "sqlite:") {
				// SQLite runs one writer at a time and the others wait in
				// its busy handler, up to busy_timeout (5 s, agno's) each:
				// eight deletes of 1,500 keys queued for about 7 s under
				// -race on two busy cores, and the last one got
				// SQLITE_BUSY. Batch sizes mean nothing to SQLite's
				// locking, so smaller ones test the same overlap.
				perWorker = [2]int{300, 150}
			}
			c := openCatalog(t, url)
			seedMany(t, c, pair, sessions)
			s := resolve(t, c, "")
			requested := make(map[string]bool)
			batches := make([][]SessionKey, workers)
			for w := range batches {
				ids := rand.Perm(sessions)[:perWorker[w/2%2]]
				for _, i := range ids {
					id := fmt.Sprintf("bulk-%d", i+1)
					requested[id] = true
					batches[w] = append(batches[w], SessionKey{id, "agent"})
				}
			}
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				deleted = make(map[string]int)
				errs    []error
			)
			var counted int64 // sessions reported or counted by all workers
			for w, batch := range batches {
				// Half the workers ask for a report (an explicit transaction
				// on SQLite), half do not (one statement on its own).
				opts := DeleteOptions{Report: w%2 == 0}
				wg.Go(func() {
					got, err := s.DeleteSessions(ctx, batch, opts)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					}
					counted += got.Sessions
					for _, d := range got.Deleted {
						deleted[d.ID]++
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				t.Errorf("DeleteSessions: %v", err)
			}
			for id, n := range deleted {
				if n != 1 {
					t.Errorf("session %s: got deleted %d times, want 1", id, n)
				}
			}
			if counted != int64(len(requested)) {
				t.Errorf("deleted: got %d sessions counted over all workers, want %d", counted, len(requested))
			}
			if got, want := countRows(t, c, pair.Sessions), int64(sessions-len(requested)); got != want {
				t.Errorf("sessions left: got %d, want %d", got, want)
			}
			if got, want := countRows(t, c, pair.Runs), int64(sessions-len(requested)); got != want {
				t.Errorf("runs left: got %d, want %d", got, want)
			}
		})
	})
}
