package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
)

// TestMain lets a test start this test binary as the server itself, so
// that a real process receives a real SIGTERM.
func TestMain(m *testing.M) {
	if args := os.Getenv("AGENTOS_SESSIONS_TEST_MAIN"); args != "" {
		os.Args = append([]string{"agentos-sessions"}, strings.Split(args, "\x1f")...)
		main()
		return
	}
	os.Exit(m.Run())
}

// TestProcess_SIGTERM sends SIGTERM to a server process while a bulk
// delete is blocked in the database: the delete finishes and the process
// exits 0.
func TestProcess_SIGTERM(t *testing.T) {
	url, app := testdb.PostgresURL(t), appName(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "AGENTOS_SESSIONS_TEST_MAIN="+strings.Join(
		[]string{"serve", "--addr", addr, "--database-url", url, "--db-application-name", app}, "\x1f"))
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := "http://" + addr
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := http.Get(base + "/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	db := openPostgres(t, url)
	status, release := blockedDelete(t, db, base, app)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown a minute after SIGTERM:\n%s", stderr.String())
		}
		select {
		case err := <-exited:
			t.Fatalf("exited (%v) with a request in flight:\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	release()
	if got := <-status; got != http.StatusNoContent {
		t.Errorf("in-flight delete: status %d, want 204", got)
	}
	if err := <-exited; err != nil {
		t.Errorf("exit: %v, want status 0\n%s", err, stderr.String())
	}
	if s, r := countRows(t, db); s != 0 || r != 0 {
		t.Errorf("after the in-flight delete: %d sessions %d runs left, want none", s, r)
	}
}
