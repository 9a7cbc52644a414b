package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"gorm.io/gorm"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// blockedDelete seeds ten sessions with a run each, locks one, and sends a
// bulk delete of all ten, which blocks on that lock. It returns the
// delete's status (or -1) once it answers, and the lock's release.
func blockedDelete(t *testing.T, db *gorm.DB, base, app string) (status <-chan int, release func()) {
	t.Helper()
	var ids, types []string
	var rows []testkit.Session
	for i := range 10 {
		id := fmt.Sprintf("sd-%d", i)
		ids, types = append(ids, id), append(types, "agent")
		rows = append(rows, testkit.Session{ID: id, Type: "agent", Runs: 1})
	}
	testkit.Seed(t, db, store.DefaultTables, rows...)
	release = testkit.LockSessions(t, db, "sd-9")
	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodDelete, base+"/sessions", strings.NewReader(testkit.DeleteBody(ids, types)))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- -1
			return
		}
		_ = res.Body.Close()
		got <- res.StatusCode
	}()
	testkit.WaitForLockWaiters(t, db, app, 1)
	return got, release
}

// countRows counts the sessions blockedDelete seeded, and their runs.
func countRows(t *testing.T, db *gorm.DB) (sessions, runs int) {
	t.Helper()
	if err := db.Raw(`SELECT (SELECT count(*) FROM agno_sessions WHERE session_id LIKE 'sd-%'), (SELECT count(*) FROM agno_runs WHERE session_id LIKE 'sd-%')`).Row().Scan(&sessions, &runs); err != nil {
		t.Fatal(err)
	}
	return sessions, runs
}

// TestServe_GracefulShutdown ends the server, as SIGTERM does, while a bulk
// delete is blocked in the database: the server stops accepting at once,
// lets the delete finish, and exits 0.
func TestServe_GracefulShutdown(t *testing.T) {
	url, app := testdb.PostgresURL(t), testkit.AppName(t)
	s := startServe(t, nil, append(testdb.ServeArgs(url), "--db-application-name", app, "--shutdown-timeout", "1m")...)
	db := testkit.Open(t, url)
	status, release := blockedDelete(t, db, s.url, app)

	s.stop()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
		if err != nil {
			break // no longer accepting
		}
		_ = c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections a minute after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case code := <-s.exit:
		t.Fatalf("serve exited %d with a request in flight: %s", code, s.log)
	default:
	}
	release()
	if got := <-status; got != http.StatusNoContent {
		t.Errorf("in-flight delete: status %d, want 204", got)
	}
	if code := <-s.exit; code != 0 {
		t.Errorf("exit code %d, want 0: %s", code, s.log)
	}
	if s, r := countRows(t, db); s != 0 || r != 0 {
		t.Errorf("after the in-flight delete: %d sessions %d runs left, want none", s, r)
	}
}

// TestServe_ShutdownTimeout ends the server while a delete stays blocked
// past --shutdown-timeout: the delete is cancelled and rolls back whole,
// and the exit code says the shutdown was not clean.
func TestServe_ShutdownTimeout(t *testing.T) {
	url, app := testdb.PostgresURL(t), testkit.AppName(t)
	s := startServe(t, nil, append(testdb.ServeArgs(url), "--db-application-name", app, "--shutdown-timeout", "200ms")...)
	db := testkit.Open(t, url)
	status, release := blockedDelete(t, db, s.url, app)
	s.stop()
	if code := <-s.exit; code != 1 || !strings.Contains(s.log.String(), "requests still running after 200ms were cancelled") {
		t.Errorf("exit code %d, stderr %q; want 1 and a line saying requests were cancelled", code, s.log)
	}
	if got := <-status; got != http.StatusInternalServerError && got != -1 {
		t.Errorf("cancelled delete: status %d, want 500 or a dropped connection", got)
	}
	// The server's statement stopped waiting while the lock is still held.
	testkit.WaitForBackends(t, db, app, "active", 0)
	release()
	if s, r := countRows(t, db); s != 10 || r != 10 {
		t.Errorf("after the cancelled delete: %d sessions %d runs, want all 10 and 10", s, r)
	}
}
