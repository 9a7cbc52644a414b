package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/benchdata"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// BenchmarkDeleteSessions measures DELETE /sessions through the whole stack
// that NewServer builds (gate, strict handler, store) on each backend,
// for a batch of 1, 100 and 10,000 sessions of 10 runs each. Seeding and the
// check that every row went are outside the timer. cmd/agentos-bench
// compares the same path over a real socket with raw SQL.
func BenchmarkDeleteSessions(b *testing.B) {
	backends := []struct {
		name   string
		newURL func(testing.TB) string
	}{{"postgres", testdb.PostgresURL}, {"sqlite", testdb.SQLiteURL}}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			url := be.newURL(b)
			e, db, dialect := benchServer(b, url)
			for _, n := range []int{1, 100, 10_000} {
				b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
					benchmarkDelete(b, e, db, dialect, n)
				})
			}
		})
	}
}

func benchmarkDelete(b *testing.B, e http.Handler, db *sql.DB, dialect string, n int) {
	ctx := context.Background()
	exec := func(ctx context.Context, query string, args ...any) error {
		_, err := db.ExecContext(ctx, query, args...)
		return err
	}
	types := make([]string, n)
	for i := range types {
		types[i] = "agent"
	}
	b.ReportAllocs()
	round := 0
	for b.Loop() {
		b.StopTimer()
		round++
		prefix := fmt.Sprintf("b%d-%d-", n, round)
		if err := benchdata.Seed(ctx, exec, dialect, store.DefaultSessionsTable, store.DefaultRunsTable, prefix, n, 10); err != nil {
			b.Fatal(err)
		}
		body := testkit.DeleteBody(benchdata.IDs(prefix, n), types)
		req := httptest.NewRequest(http.MethodDelete, "/sessions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		b.StartTimer()

		e.ServeHTTP(rec, req)

		b.StopTimer()
		if rec.Code != http.StatusNoContent {
			b.Fatalf("status = %d, want 204 (body %s)", rec.Code, rec.Body)
		}
		var left int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM agno_runs`).Scan(&left); err != nil || left != 0 {
			b.Fatalf("runs left after delete: got %d (%v), want 0", left, err)
		}
		b.StartTimer()
	}
}

// benchServer builds the server over url and returns the pool of its
// direct connection for seeding.
func benchServer(b *testing.B, url string) (http.Handler, *sql.DB, string) {
	b.Helper()
	a := testkit.NewAPI(b, url, server.Config{})
	dialect, _, err := store.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	db, err := a.DB["default"].DB()
	if err != nil {
		b.Fatal(err)
	}
	return a.Handler, db, dialect
}
