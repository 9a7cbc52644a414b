package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/agnodb"
	"github.com/agentos-sessions/agentos-sessions/internal/spawn"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
)

// TestMigrate_EarlierDatabase runs the command on a database an earlier
// release of this server left, as a process: serve refuses it, naming
// migrate; migrate --dry-run changes nothing; migrate converts it; serve
// then answers every session and run through HTTP.
func TestMigrate_EarlierDatabase(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		url := newURL(t)
		db, d := agnodb.OpenURL(t, url)
		schema := testdb.Schema(url)
		q := func(name string) string {
			if schema == "" {
				return `"` + name + `"`
			}
			return `"` + schema + `"."` + name + `"`
		}
		agnodb.CreateEarlierLayout(t, db, d, q)
		agnodb.SeedEarlier(t, db, q)
		app := testkit.AppName(t) // no other test's server counts as running beside this one
		// command runs the binary and returns its stdout and its stderr.
		command := func(args ...string) (string, string, error) {
			cmd := exec.Command(os.Args[0], append(args, testdb.ServeArgs(url)...)...)
			cmd.Env = append(os.Environ(), "AGENTOS_SESSIONS_TEST_MAIN=1")
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			return stdout.String(), stderr.String(), err
		}
		if _, log, err := command("serve", "--addr", "127.0.0.1:0"); err == nil || !strings.Contains(log, "agentos-sessions migrate") {
			t.Fatalf("serve on the earlier layout: %v, %s; want a refusal naming migrate", err, log)
		}
		// The plan is what --dry-run is asked for: on stdout, apart from the log.
		plan, log, err := command("migrate", "--dry-run", "--db-application-name", app)
		if err != nil || !strings.Contains(plan, "convert") || strings.Contains(log, "convert ") {
			t.Fatalf("migrate --dry-run: %v\nstdout:\n%s\nstderr:\n%s", err, plan, log)
		}
		var runType int
		if err := db.QueryRow("SELECT count(*) FROM " + q("agno_runs")).Scan(&runType); err != nil || runType != 5 {
			t.Fatalf("after --dry-run: %d runs, %v", runType, err)
		}
		if _, log, err := command("migrate", "--db-application-name", app); err != nil || !strings.Contains(log, "converted to agno's layout") {
			t.Fatalf("migrate: %v\n%s", err, log)
		}
		s := testkit.Spawn(t, os.Args[0], spawn.Options{Args: testdb.ServeArgs(url), Env: []string{"AGENTOS_SESSIONS_TEST_MAIN=1"}})
		res, err := http.Get(s.URL + "/sessions/a/runs")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = res.Body.Close() }()
		body, _ := io.ReadAll(res.Body)
		var runs []map[string]any
		if err := json.Unmarshal(body, &runs); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET /sessions/a/runs: %d %s", res.StatusCode, body)
		}
		var ids []string
		for _, r := range runs {
			status, _ := r["status"].(string)
			ids = append(ids, r["run_id"].(string)+" "+status)
		}
		if got := strings.Join(ids, ", "); got != "a-1 ERROR, a-2 COMPLETED, a-3 " {
			t.Errorf("runs of a after migrate: %s", got)
		}
		if v2, v3 := agnodb.AgnoAccepts(t, db, d, schema, "agno_sessions", "agno_runs"); !v2 || !v3 {
			t.Errorf("agno's column checks after migrate: 2.x %t, 3.0 %t", v2, v3)
		}
	})
}
