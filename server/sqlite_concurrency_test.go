package server_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
)

// syncBuffer collects log lines written from many request goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSQLite_ConcurrentWriters has 16 clients create sessions, record runs
// and bulk delete at once against the embedded SQLite default. None may
// fail, and SQLite must never report "database is locked" (in a response
// or in the server's log).
func TestSQLite_ConcurrentWriters(t *testing.T) {
	const writers, sessionsEach = 16, 6
	url := testdb.SQLiteURL(t)
	var logs syncBuffer
	a := testkit.NewAPIWith(t, testkit.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		testkit.Database("default", url))

	var wg sync.WaitGroup
	kept := make([][]string, writers)
	gone := make([][]string, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range sessionsEach {
				id := fmt.Sprintf("w%d-%d", w, i)
				want := func(res testkit.Response, status int, what string) bool {
					if res.Status != status || strings.Contains(string(res.Body), "locked") {
						t.Errorf("writer %d %s %s: %d %s, want %d", w, what, id, res.Status, res.Body, status)
						return false
					}
					return true
				}
				if !want(a.Do(t, http.MethodPost, "/sessions?type=agent", `{"session_id":"`+id+`"}`, "Content-Type", jsonCT), http.StatusCreated, "create") {
					return
				}
				for r := range 2 {
					// Run ids are unique across sessions, as agno keys runs.
					body := fmt.Sprintf(`{"run_id":"%s-r%d","status":"completed","agent_id":"writer"}`, id, r)
					if !want(a.Do(t, http.MethodPost, "/sessions/"+id+"/runs", body, "Content-Type", jsonCT), http.StatusCreated, "record run") {
						return
					}
				}
				// Every third session goes again at once, with an id of no one's.
				if i%3 == 2 {
					body := testkit.DeleteBody([]string{id, fmt.Sprintf("w%d-%d", (w+1)%writers, i+100)}, []string{"agent", "agent"})
					if !want(a.Do(t, http.MethodDelete, "/sessions", body, "Content-Type", jsonCT), http.StatusNoContent, "bulk delete") {
						return
					}
					gone[w] = append(gone[w], id)
				} else {
					kept[w] = append(kept[w], id)
				}
				want(a.Do(t, http.MethodGet, "/sessions?limit=5", ""), http.StatusOK, "list")
			}
		})
	}
	wg.Wait()
	for w := range writers {
		a.WantRows(t, kept[w], int64(len(kept[w])), int64(2*len(kept[w])))
		a.WantRows(t, gone[w], 0, 0)
	}
	if strings.Contains(logs.String(), "locked") || strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("server log mentions failures:\n%s", logs.String())
	}
}
