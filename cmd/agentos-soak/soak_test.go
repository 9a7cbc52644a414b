package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

// replica serves url through the whole stack at a loopback address, with a
// connection pool of its own, as a separate process would, and returns its
// address and its direct connection to the database.
func replica(t *testing.T, url string, wrap func(http.Handler) http.Handler) (string, *gorm.DB) {
	t.Helper()
	a := testkit.NewAPI(t, url, server.Config{})
	h := a.Handler
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, a.DB["default"]
}

// TestSoak_ThreeReplicas drives a short soak round-robin at three servers
// sharing one PostgreSQL schema; the ledger must balance.
func TestSoak_ThreeReplicas(t *testing.T) {
	url := testdb.PostgresURL(t)
	var targets []string
	for range 3 {
		target, _ := replica(t, url, nil)
		targets = append(targets, target)
	}
	r, err := Run(context.Background(), Load{Targets: targets, Rate: 60, Duration: 3 * time.Second, Prefix: "t"})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + r.String())
	if r.Lost != 0 || r.Errors() != 0 {
		t.Errorf("lost %d, errors %d; want none", r.Lost, r.Errors())
	}
	if r.Requests < 60 || r.Live == 0 || r.Deleted == 0 || r.Runs == 0 {
		t.Errorf("the load did too little to check: %d requests, %d kept, %d deleted, %d runs", r.Requests, r.Live, r.Deleted, r.Runs)
	}
	if !strings.Contains(r.String(), "lost: 0\n") || !strings.Contains(r.String(), "p99") {
		t.Errorf("report lacks lost: 0 or p99:\n%s", r)
	}
}

// TestSoak_LedgerCatchesLoss removes every recorded run behind the
// server's back: the ledger check must notice each one it expects to find.
func TestSoak_LedgerCatchesLoss(t *testing.T) {
	var db *gorm.DB // the replica's own connection, set before its first request
	target, db := replica(t, testdb.PostgresURL(t), func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/runs") {
				if err := db.Exec(`DELETE FROM agno_runs WHERE session_id = ?`, strings.Split(r.URL.Path, "/")[2]).Error; err != nil {
					t.Errorf("remove run: %v", err)
				}
			}
		})
	})
	r, err := Run(context.Background(), Load{Targets: []string{target}, Rate: 60, Duration: 2 * time.Second, Prefix: "l"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Runs == 0 {
		t.Fatalf("no kept session had a run, so none was removed and the ledger was not put to the test:\n%s", r)
	}
	if r.Lost < r.Runs || !strings.Contains(r.String(), "LOST: run ") {
		t.Errorf("%d runs were removed behind the server's back, but the ledger found %d lost:\n%s", r.Runs, r.Lost, r)
	}
}

func TestLoopbackOnly(t *testing.T) {
	t.Parallel()
	if err := loopbackOnly([]string{"http://127.0.0.1:8080"}); err != nil {
		t.Errorf("loopback: %v", err)
	}
	for _, bad := range []string{"http://example.com", "http://10.0.0.1:80", "https://127.0.0.1:1"} {
		if err := loopbackOnly([]string{bad}); err == nil {
			t.Errorf("%s: accepted, want refused", bad)
		}
	}
}
