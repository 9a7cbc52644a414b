package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/agnodb"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/store"
)

func TestRun_HelpListsFlagsEnvAndDefaults(t *testing.T) {
	t.Parallel()
	common := []string{"-database-url", "env DATABASE_URL", "default sqlite://agentos.db", "-db-id", "env AGENTOS_DB_ID",
		`(default "default")`, "-config", "env AGENTOS_CONFIG", "-log-format", "env AGENTOS_LOG_FORMAT", `(default "text")`,
		"-log-level", "env AGENTOS_LOG_LEVEL", `(default "info")`}
	tests := map[string][]string{
		"serve": append([]string{"-addr", "env AGENTOS_ADDR", `(default "127.0.0.1:7777")`, "-max-batch", "env AGENTOS_MAX_BATCH",
			"(default 100000)", "-max-body-bytes", "env AGENTOS_MAX_BODY_BYTES", "OS_SECURITY_KEY"}, common...),
		"migrate": common,
		"seed": append([]string{"-sessions", "env AGENTOS_SEED_SESSIONS", "(default 30)", "-runs", "env AGENTOS_SEED_RUNS",
			"(default 3)"}, common...),
		"version": {"Usage: agentos-sessions version"},
	}
	for command, wants := range tests {
		t.Run(command, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			if code := run(context.Background(), []string{command, "--help"}, env(nil), io.Discard, &stderr); code != 0 {
				t.Fatalf("%s --help: exit %d, want 0", command, code)
			}
			for _, want := range wants {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("%s --help lacks %q:\n%s", command, want, stderr.String())
				}
			}
		})
	}
	var stderr bytes.Buffer
	run(context.Background(), []string{"--help"}, env(nil), io.Discard, &stderr)
	for _, command := range []string{"serve", "migrate", "seed", "version"} {
		if !strings.Contains(stderr.String(), "agentos-sessions "+command) {
			t.Errorf("--help does not list %s:\n%s", command, stderr.String())
		}
	}
}

// TestRun_HelpListsEveryEnvironmentVariable reads every command's
// environment through a getenv that records the names asked for, and
// wants each name in that command's --help.
func TestRun_HelpListsEveryEnvironmentVariable(t *testing.T) {
	t.Parallel()
	for _, command := range []string{"serve", "migrate", "seed"} {
		t.Run(command, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			read := map[string]bool{}
			getenv := func(name string) string {
				mu.Lock()
				defer mu.Unlock()
				read[name] = true
				return ""
			}
			var stderr bytes.Buffer
			if code := run(context.Background(), []string{command, "--help"}, getenv, io.Discard, &stderr); code != 0 {
				t.Fatalf("%s --help: exit %d, want 0", command, code)
			}
			if command == "serve" && !read["JWT_VERIFICATION_KEY"] {
				t.Errorf("serve read %v, want JWT_VERIFICATION_KEY among them", read)
			}
			for name := range read {
				if !strings.Contains(stderr.String(), name) {
					t.Errorf("%s reads %s, but its --help does not name it:\n%s", command, name, stderr.String())
				}
			}
		})
	}
}

func TestRun_Version(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"version"}, env(nil), &stdout, &stderr); code != 0 {
		t.Fatalf("version: exit %d, want 0", code)
	}
	if got := stdout.String(); !strings.HasPrefix(got, "agentos-sessions ") || !strings.Contains(got, "go1.") {
		t.Errorf("version printed %q on stdout, want agentos-sessions, a version and the Go version", got)
	}
	if stderr.Len() != 0 {
		t.Errorf("version wrote %q on stderr, want nothing", stderr.String())
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"version", "extra"}, env(nil), &stdout, &stderr); code != 2 || stdout.Len() != 0 {
		t.Errorf("version extra: exit %d, stdout %q; want 2 and nothing on stdout", code, stdout.String())
	}
}

func TestParseConfig_LogFlags(t *testing.T) {
	t.Parallel()
	cfg, err := parseConfig("serve", []string{"--log-level", "debug"}, env(map[string]string{"AGENTOS_LOG_FORMAT": "json"}), &bytes.Buffer{})
	if err != nil || cfg.LogFormat != "json" || cfg.LogLevel != "debug" {
		t.Errorf("got %q %q (%v), want json debug", cfg.LogFormat, cfg.LogLevel, err)
	}
	for _, args := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}} {
		if _, err := parseConfig("serve", args, env(nil), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "must be") {
			t.Errorf("%v: got error %v, want one saying what it must be", args, err)
		}
	}
}

func TestRun_LogsJSON(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	url := testdb.SQLiteURL(t)
	if code := run(context.Background(), append([]string{"migrate", "--log-format", "json", "--log-level", "debug"}, testdb.ServeArgs(url)...), env(nil), io.Discard, &stderr); code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	for _, line := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil || v["level"] == nil || v["msg"] == nil {
			t.Errorf("log line %q is not a JSON record with level and msg", line)
		}
	}
}

func TestRun_Seed(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]string{"sqlite": testdb.SQLiteURL(t), "postgres": testdb.PostgresURL(t)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			args := append([]string{"seed", "--sessions", "120", "--runs", "2"}, testdb.ServeArgs(url)...)
			if code := run(context.Background(), args, env(nil), io.Discard, &stderr); code != 0 {
				t.Fatalf("seed: exit %d: %s", code, stderr.String())
			}
			// stderr is no terminal here: a log line, no progress bar.
			if strings.Contains(stderr.String(), "\r") || !strings.Contains(stderr.String(), "sessions_created=120 runs_created=240") {
				t.Errorf("seed's output %q: want no carriage return and the counts", stderr.String())
			}

			ctx := context.Background()
			catalog, err := store.Open(ctx, []store.DatabaseConfig{testkit.Database("default", url)}, nil)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer func() { _ = catalog.Close() }()
			sessions, err := catalog.Resolve("", "")
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			for _, typ := range []string{"agent", "team", "workflow"} {
				page, total, err := sessions.ListSessions(ctx, store.ListFilter{Type: &typ, SortBy: "created_at", Limit: 5, Page: 1})
				if err != nil || total != 40 || len(page) == 0 {
					t.Fatalf("%s sessions: %d in all (%v), want 40", typ, total, err)
				}
				if name, _ := page[0].SessionData["session_name"].(string); name == "" {
					t.Errorf("%s session %s has no session_name", typ, page[0].ID)
				}
				_, runs, err := sessions.ListRuns(ctx, page[0].ID, store.Owner{}, store.RunFilter{})
				if err != nil || len(runs) != 2 {
					t.Fatalf("%s session %s: %d runs (%v), want 2", typ, page[0].ID, len(runs), err)
				}
				checkAgnoRun(t, page[0], runs)
			}

			// Seeding again adds nothing.
			stderr.Reset()
			if code := run(context.Background(), args, env(nil), io.Discard, &stderr); code != 0 {
				t.Fatalf("seed again: exit %d: %s", code, stderr.String())
			}
			if _, total, _ := sessions.ListSessions(ctx, store.ListFilter{SortBy: "created_at", Limit: 1, Page: 1}); total != 120 {
				t.Errorf("after seeding twice: %d sessions, want 120", total)
			}
			if !strings.Contains(stderr.String(), "sessions_created=0 runs_created=0 sessions_already_there=120") {
				t.Errorf("seeding again logged %q, want nothing created", stderr.String())
			}
		})
	}
}

// checkAgnoRun checks the runs of session s as agno 3.0 writes them: a row
// with the session's type, run_index 0, 1, … and run_data the whole run.
func checkAgnoRun(t *testing.T, s store.Session, runs []store.Run) {
	t.Helper()
	component := map[string]*string{"agent": s.AgentID, "team": s.TeamID, "workflow": s.WorkflowID}[s.Type]
	for i, r := range runs {
		if r.Type == nil || *r.Type != s.Type || r.Index == nil || *r.Index != int64(i) || r.Status == nil {
			t.Fatalf("run %s: type %v, index %v, status %v; want %s, %d and a status", r.ID, r.Type, r.Index, r.Status, s.Type, i)
		}
		if *r.Status != strings.ToUpper(*r.Status) || r.Data["status"] != *r.Status {
			t.Errorf("run %s: status %q, run_data's %v; want the same, upper case", r.ID, *r.Status, r.Data["status"])
		}
		if component == nil || r.Data[s.Type+"_id"] != *component || r.Data["run_id"] != r.ID || r.Data["session_id"] != s.ID ||
			r.Data["created_at"] == nil || r.Data["content"] == nil || r.Data["messages"] == nil || r.Data["metrics"] == nil {
			t.Errorf("run %s: run_data %v lacks what agno writes", r.ID, r.Data)
		}
	}
}

// TestRun_SeedWithoutRunsTable seeds agno's layouts that keep no runs
// table: agno 2.x's runs column, and agno 3.0's before its first run, where
// the first run makes the table.
func TestRun_SeedWithoutRunsTable(t *testing.T) {
	t.Parallel()
	for _, l := range []agnodb.Layout{agnodb.V2, agnodb.V3BeforeFirstRun} {
		t.Run(string(l), func(t *testing.T) {
			t.Parallel()
			testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
				url := newURL(t)
				db, d := agnodb.OpenURL(t, url)
				agnodb.Create(t, db, d, l, agnodb.Options{Schema: testdb.Schema(url), VersionRows: true})
				var stderr bytes.Buffer
				args := append([]string{"seed", "--sessions", "5", "--runs", "2"}, testdb.ServeArgs(url)...)
				if code := run(context.Background(), args, env(nil), io.Discard, &stderr); code != 0 {
					t.Fatalf("seed: exit %d: %s", code, stderr.String())
				}
				if !strings.Contains(stderr.String(), "sessions_created=5 runs_created=10") {
					t.Errorf("seed logged %q, want 5 sessions and 10 runs", stderr.String())
				}
			})
		})
	}
}

func TestProgressBar_OnlyOnATerminal(t *testing.T) {
	t.Parallel()
	file, err := os.Create(filepath.Join(t.TempDir(), "seed.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = file.Close() }()
	for name, w := range map[string]io.Writer{"a buffer": &bytes.Buffer{}, "a file": file} {
		if bar := newProgressBar(w, 1000); bar.w != nil {
			t.Errorf("progress bar drawn on %s, want it on a terminal only", name)
		}
	}
	var drawn bytes.Buffer
	bar := &progressBar{w: &drawn, total: 200}
	bar.add(60)
	bar.add(40)
	bar.finish()
	if got, want := drawn.String(), "\rseeding [############                            ] 60/200 sessions"+
		"\rseeding [####################                    ] 100/200 sessions\n"; got != want {
		t.Errorf("drawn %q, want %q", got, want)
	}
}
