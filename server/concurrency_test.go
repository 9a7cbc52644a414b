package server_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/store"
)

var sessionTypes = [...]string{"agent", "team", "workflow"}

// TestDeleteSessions_ConcurrentOverlapping sends 16 clients' bulk deletes,
// each 50 ids drawn from one pool of 500 in its own shuffled order, at a
// table of 20,000 other sessions (enough that PostgreSQL plans the lookup
// through the index, where lock order would follow the request's order).
// Every request must succeed, every pool session must be reported deleted
// by exactly one of them, and exactly the targeted rows must be gone.
func TestDeleteSessions_ConcurrentOverlapping(t *testing.T) {
	const (
		clients    = 16
		perClient  = 1 // requests each client sends, back to back
		batch      = 50
		pool       = 500
		bystanders = 20_000
		rounds     = 4
	)
	a := testkit.NewAPIWith(t, testkit.Options{Conn: store.ConnSettings{ApplicationName: testkit.AppName(t), MaxOpenConns: clients}},
		testkit.Database("default", testdb.PostgresURL(t)))
	db := a.DB["default"]
	exec := func(sql string) {
		t.Helper()
		if err := db.Exec(sql).Error; err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	_, _, bystanderRows := group("by", bystanders, 1)
	a.Seed(t, bystanderRows...)

	srv := httptest.NewServer(a.Handler)
	defer srv.Close()
	client := srv.Client()

	for round := range rounds {
		// The pool: ids sort in a different order than they are drawn.
		_, _, poolRows := group("p", pool, 2)
		a.Seed(t, poolRows...)
		exec(`ANALYZE agno_sessions`)
		exec(`ANALYZE agno_runs`)

		rng := rand.New(rand.NewPCG(uint64(round), 6))
		targeted := make(map[string]bool)
		bodies := make([]string, clients*perClient)
		for i := range bodies {
			ids, types := make([]string, batch), make([]string, batch)
			for j, n := range rng.Perm(pool)[:batch] {
				ids[j], types[j] = fmt.Sprintf("p-%d", n), sessionTypes[n%3]
				targeted[ids[j]] = true
			}
			bodies[i] = testkit.DeleteBody(ids, types)
		}

		var mu sync.Mutex
		deletedBy := make(map[string]int)
		statuses := make(map[int]int)
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				for r := range perClient {
					req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/sessions", strings.NewReader(bodies[c*perClient+r]))
					req.Header.Set("Content-Type", jsonCT)
					req.Header.Set("Prefer", "return=representation")
					res, err := client.Do(req)
					if err != nil {
						t.Errorf("client %d: %v", c, err)
						return
					}
					var report struct {
						Deleted []struct {
							SessionID   string `json:"session_id"`
							RunsDeleted int    `json:"runs_deleted"`
						} `json:"deleted"`
					}
					err = json.NewDecoder(res.Body).Decode(&report)
					_ = res.Body.Close()
					mu.Lock()
					statuses[res.StatusCode]++
					for _, d := range report.Deleted {
						deletedBy[d.SessionID]++
						if d.RunsDeleted != 2 {
							t.Errorf("%s: runs_deleted = %d, want 2", d.SessionID, d.RunsDeleted)
						}
					}
					mu.Unlock()
					if res.StatusCode != http.StatusOK || err != nil {
						t.Errorf("client %d: status %d (decode: %v), want 200", c, res.StatusCode, err)
					}
				}
			})
		}
		wg.Wait()
		t.Logf("round %d: statuses %v, %d of %d pool sessions targeted", round, statuses, len(targeted), pool)

		for id, n := range deletedBy {
			if n != 1 || !targeted[id] {
				t.Errorf("round %d: %s reported deleted %d times (targeted: %v), want once and only if targeted", round, id, n, targeted[id])
			}
		}
		if len(deletedBy) != len(targeted) {
			t.Errorf("round %d: %d sessions reported deleted, want %d", round, len(deletedBy), len(targeted))
		}
		var left []string
		if err := db.Raw(`SELECT session_id FROM agno_sessions WHERE session_id LIKE 'p-%'`).Scan(&left).Error; err != nil {
			t.Fatal(err)
		}
		for _, id := range left {
			if targeted[id] {
				t.Errorf("round %d: targeted session %s is still there", round, id)
			}
		}
		if len(left) != pool-len(targeted) {
			t.Errorf("round %d: %d pool sessions left, want %d", round, len(left), pool-len(targeted))
		}
		var runsLeft, orphans, byS, byR int64
		db.Raw(`SELECT count(*) FROM agno_runs WHERE session_id LIKE 'p-%'`).Scan(&runsLeft)
		db.Raw(`SELECT count(*) FROM agno_runs r WHERE NOT EXISTS (SELECT 1 FROM agno_sessions s WHERE s.session_id = r.session_id)`).Scan(&orphans)
		db.Raw(`SELECT count(*) FROM agno_sessions WHERE session_id LIKE 'by-%'`).Scan(&byS)
		db.Raw(`SELECT count(*) FROM agno_runs WHERE session_id LIKE 'by-%'`).Scan(&byR)
		if runsLeft != int64(2*len(left)) || orphans != 0 || byS != bystanders || byR != bystanders {
			t.Errorf("round %d: pool runs %d (want %d), orphan runs %d (want 0), bystanders %d sessions %d runs (want %d each)",
				round, runsLeft, 2*len(left), orphans, byS, byR, bystanders)
		}
		if t.Failed() {
			return
		}
		exec(`DELETE FROM agno_sessions WHERE session_id LIKE 'p-%'`)
	}
}
