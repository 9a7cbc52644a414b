package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
)

// BenchmarkSQLiteDeleteWriteLock times SQLite bulk deletes of 1,000,
// 10,000 and 100,000 sessions on agno 3.0's layout, three runs of about
// 2 kB each per session. SQLite holds its one write lock for the whole
// delete, so the time is how long agno's writers (busy timeout 5 s) wait
// behind it. README.md and BENCHMARKS.md record the results:
//
//	go test -run '^$' -bench SQLiteDeleteWriteLock -benchtime 1x -count 3 ./store
func BenchmarkSQLiteDeleteWriteLock(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		for _, report := range []bool{false, true} {
			b.Run(fmt.Sprintf("ids=%d/report=%t", n, report), func(b *testing.B) {
				ctx := context.Background()
				c := openCatalog(b, testdb.SQLiteURL(b))
				d := c.byID["main"]
				keys := make([]SessionKey, n)
				for i := range keys {
					keys[i] = SessionKey{fmt.Sprintf("s-%d", i), "agent"}
				}
				for b.Loop() {
					b.StopTimer()
					for _, q := range []string{
						`WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < ?1)
						 INSERT INTO agno_sessions (session_id, session_type, agent_id, session_data, created_at)
						 SELECT 's-' || i, 'agent', 'a', '{}', 1700000000 FROM g`,
						`WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < ?1), r(j) AS (VALUES (0), (1), (2))
						 INSERT INTO agno_runs (run_id, session_id, run_type, agent_id, run_index, run_data, created_at)
						 SELECT 'r-' || i || '-' || j, 's-' || i, 'agent', 'a', j,
						   json_object('run_id', 'r-' || i || '-' || j, 'agent_id', 'a', 'content', printf('%.2000c', 'x')), 1700000000 FROM g, r`,
					} {
						if _, err := d.sqlDB.ExecContext(ctx, q, n); err != nil {
							b.Fatal(err)
						}
					}
					b.StartTimer()
					res, err := d.tables[0].DeleteSessions(ctx, keys, DeleteOptions{Report: report})
					if err != nil || res.Sessions != int64(n) {
						b.Fatalf("DeleteSessions: %d deleted, %v", res.Sessions, err)
					}
				}
			})
		}
	}
}
