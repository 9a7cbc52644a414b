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

// BenchmarkListRuns measures GET /sessions/{id}/runs through the whole
// stack on PostgreSQL for a session of 1,000 runs of agno's size (about
// 2 kB each): all of them, and a page of 20. The bench program times the
// same over a socket on 5,000 runs against the statements alone.
func BenchmarkListRuns(b *testing.B) {
	ctx := context.Background()
	e, db, dialect := benchServer(b, testdb.PostgresURL(b))
	exec := func(ctx context.Context, query string, args ...any) error {
		_, err := db.ExecContext(ctx, query, args...)
		return err
	}
	text := strings.Repeat("The quick brown fox jumps over the lazy dog; ", benchdata.AgnoText/45+1)
	if err := benchdata.SeedText(ctx, exec, dialect, store.DefaultSessionsTable, store.DefaultRunsTable, "long-", 1, 1000, text); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name, target string
		runs         int
	}{{"all", "/sessions/long-0/runs", 1000}, {"page=20", "/sessions/long-0/runs?limit=20", 20}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.target, nil))
				if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `"run_id"`) < tc.runs {
					b.Fatalf("status %d, %d bytes; want 200 with %d runs", rec.Code, rec.Body.Len(), tc.runs)
				}
			}
		})
	}
}
