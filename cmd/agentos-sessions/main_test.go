package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentos-sessions/agentos-sessions/internal/spawn"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/store"
)

func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestParseConfig_Precedence(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"AGENTOS_ADDR": "127.0.0.1:9000", "AGENTOS_MAX_BATCH": "50", "DATABASE_URL": "sqlite::memory:"}
	cfg, err := parseConfig("serve", nil, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" || cfg.MaxBatch != 50 || cfg.DatabaseURL != "sqlite::memory:" || cfg.DBID != "default" {
		t.Errorf("from env: got %+v", cfg)
	}
	cfg, err = parseConfig("serve", []string{"--addr", "127.0.0.1:9001", "--max-batch", "7"}, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9001" || cfg.MaxBatch != 7 {
		t.Errorf("flags must win over env: got addr %q max batch %d", cfg.Addr, cfg.MaxBatch)
	}
	cfg, err = parseConfig("serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:7777" || cfg.MaxBatch != 100_000 || cfg.MaxBodyBytes != 16<<20 {
		t.Errorf("defaults: got %+v", cfg)
	}
	dbs, err := cfg.Databases()
	if err != nil || len(dbs) != 1 || dbs[0].URL != "sqlite://agentos.db" || dbs[0].ID != "default" {
		t.Errorf("default databases = %+v, %v; want one sqlite://agentos.db", dbs, err)
	}
}

// parseErrorCase is a serve command line that parseConfig must refuse.
type parseErrorCase struct {
	name string
	args []string
	env  map[string]string
	want string // part of the error
}

// wantParseErrors checks that parseConfig refuses each case with its error.
func wantParseErrors(t *testing.T, cases []parseErrorCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConfig("serve", tt.args, env(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseConfig_Errors(t *testing.T) {
	t.Parallel()
	wantParseErrors(t, []parseErrorCase{
		{"ConfigAndURL", []string{"--config", "x.yaml", "--database-url", "sqlite::memory:"}, nil, "not both"},
		{"ConfigFlagAndURLEnv", []string{"--config", "x.yaml"}, map[string]string{"DATABASE_URL": "sqlite::memory:"}, "not both"},
		{"BadEnvNumber", nil, map[string]string{"AGENTOS_MAX_BATCH": "lots"}, `AGENTOS_MAX_BATCH: "lots" is not a whole number`},
		{"ZeroBatch", []string{"--max-batch", "0"}, nil, "must be positive"},
		{"UnknownFlag", []string{"--nope"}, nil, "flag provided but not defined"},
		{"StrayArgument", []string{"extra"}, nil, `unexpected argument "extra"`},
	})
}

func TestConfig_DatabasesFromFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "agentos.yaml")
	content := `databases:
  - id: main
    url: sqlite://main.db
    tables:
      - {sessions: agno_sessions, runs: agno_runs}
      - {sessions: archive_sessions, runs: archive_runs}
  - id: local
    url: "sqlite::memory:"
`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	dbs, err := Config{ConfigFile: path}.Databases()
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DatabaseConfig{
		{ID: "main", URL: "sqlite://main.db", Tables: []store.TablePair{store.DefaultTables, {Sessions: "archive_sessions", Runs: "archive_runs"}}},
		{ID: "local", URL: "sqlite::memory:"},
	}
	if fmt.Sprint(dbs) != fmt.Sprint(want) {
		t.Errorf("got %+v, want %+v", dbs, want)
	}

	if err := os.WriteFile(path, []byte("databases:\n  - id: x\n    uri: typo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (Config{ConfigFile: path}).Databases(); err == nil || !strings.Contains(err.Error(), "uri") {
		t.Errorf("unknown key: got %v, want an error naming it", err)
	}
}

func TestRun_FailsWithOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"UnknownCommand", []string{"launch"}, 2, `unknown command "launch"`},
		{"BadFlag", []string{"serve", "--max-batch", "x"}, 2, "invalid value"},
		{"UnreachableDatabase", []string{"migrate", "--database-url", "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}, 1, "agentos-sessions migrate: "},
		{"UnsupportedURL", []string{"serve", "--database-url", "mysql://x"}, 1, "unsupported database URL scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			code := run(context.Background(), tt.args, env(nil), io.Discard, &stderr)
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr.String(), tt.code, tt.want)
			}
			if strings.Contains(stderr.String(), "goroutine ") {
				t.Errorf("stderr holds a stack trace: %s", stderr.String())
			}
		})
	}
}

func TestRun_ServesAndShutsDown(t *testing.T) {
	t.Parallel()
	backends := map[string]string{"sqlite": "sqlite::memory:", "postgres": testdb.PostgresURL(t)}
	for name, url := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startServe(t, nil, testdb.ServeArgs(url)...)
			res, err := http.Get(s.url + "/health")
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("GET /health: %v %v", res, err)
			}
			_ = res.Body.Close()
			req, _ := http.NewRequest(http.MethodDelete, s.url+"/sessions", strings.NewReader(`{"session_ids":["x"],"session_types":["agent"]}`))
			res, err = http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != http.StatusNoContent {
				t.Fatalf("DELETE /sessions: %v %v", res, err)
			}
			_ = res.Body.Close()
			if !strings.Contains(s.log.String(), "OS_SECURITY_KEY is not set") {
				t.Errorf("no warning that the API is open in %q", s.log)
			}
			s.stop()
			if code := <-s.exit; code != 0 {
				t.Errorf("exit code after shutdown = %d, want 0 (%s)", code, s.log)
			}
		})
	}
}

// served is a serve command running in this process.
type served struct {
	url  string             // http://127.0.0.1:port
	stop context.CancelFunc // ends it, as SIGTERM does
	exit <-chan int         // its exit code, once it has returned
	log  *spawn.Log         // what it logged
}

// startServe runs "serve --addr 127.0.0.1:0" with args and the environment
// vars in this process, and returns once it listens, at the address its
// "listening" line names.
func startServe(t *testing.T, vars map[string]string, args ...string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r, w := io.Pipe()
	log := spawn.Watch(r, nil)
	exit := make(chan int, 1)
	go func() {
		code := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), env(vars), io.Discard, w)
		_ = w.Close()
		<-log.Done() // every line is in log before the exit code is
		exit <- code
	}()
	waitCtx, stopWaiting := context.WithTimeout(ctx, time.Minute)
	defer stopWaiting()
	addr, err := log.Addr(waitCtx)
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, log)
	}
	return &served{url: "http://" + addr, stop: cancel, exit: exit, log: log}
}
