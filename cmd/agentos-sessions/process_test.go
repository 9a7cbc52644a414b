package main

import (
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentos-sessions/agentos-sessions/internal/spawn"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
)

// TestMain lets a test start this test binary as the server itself, so
// that a real process receives a real SIGTERM.
func TestMain(m *testing.M) {
	if os.Getenv("AGENTOS_SESSIONS_TEST_MAIN") == "1" {
		main() // the command line is the server's: os.Args[1:] is "serve …"
		return
	}
	os.Exit(m.Run())
}

// TestProcess_SIGTERM sends SIGTERM to a server process while a bulk
// delete is blocked in the database: the delete finishes and the process
// exits 0.
func TestProcess_SIGTERM(t *testing.T) {
	t.Parallel()
	url, app := testdb.PostgresURL(t), testkit.AppName(t)
	s := testkit.Spawn(t, os.Args[0], spawn.Options{
		Args: append(testdb.ServeArgs(url), "--db-application-name", app),
		Env:  []string{"AGENTOS_SESSIONS_TEST_MAIN=1"},
	})
	db := testkit.Open(t, url)
	status, release := blockedDelete(t, db, s.URL, app)
	if err := s.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(s.Log(), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown a minute after SIGTERM:\n%s", s.Log())
		}
		select {
		case <-s.Done():
			t.Fatalf("exited (%v) with a request in flight:\n%s", s.Wait(), s.Log())
		case <-time.After(10 * time.Millisecond):
		}
	}
	release()
	if got := <-status; got != http.StatusNoContent {
		t.Errorf("in-flight delete: status %d, want 204", got)
	}
	if err := s.Wait(); err != nil {
		t.Errorf("exit: %v, want status 0\n%s", err, s.Log())
	}
	if s, r := countRows(t, db); s != 0 || r != 0 {
		t.Errorf("after the in-flight delete: %d sessions %d runs left, want none", s, r)
	}
}
