package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

// metric returns the value of the sample named exactly series (name and
// labels in the exposition's order), or -1 when there is none.
func metric(t *testing.T, a *testkit.API, series string) float64 {
	t.Helper()
	res := a.Do(t, http.MethodGet, "/metrics", "")
	if res.Status != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", res.Status)
	}
	sc := bufio.NewScanner(bytes.NewReader(res.Body))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if ok && name == series {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("%s: value %q: %v", series, value, err)
			}
			return v
		}
	}
	return -1
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t,
			testkit.Session{ID: "m-1", Type: "agent", Runs: 2},
			testkit.Session{ID: "m-2", Type: "team", Runs: 3},
			testkit.Session{ID: "m-3", Type: "workflow", Runs: 1},
			testkit.Session{ID: "m-4", Type: "agent", Runs: 4},
		)
		if got := metric(t, a, "agentos_sessions_deleted_total"); got != 0 {
			t.Fatalf("agentos_sessions_deleted_total before any delete = %v, want 0", got)
		}

		// A report counts the runs too; a miss counts nothing.
		res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"m-1", "m-2", "nope"}, []string{"agent", "team", "agent"}),
			"Content-Type", "application/json", "Prefer", "return=representation")
		if res.Status != http.StatusOK {
			t.Fatalf("bulk delete: status %d, want 200 (%s)", res.Status, res.Body)
		}
		if got := metric(t, a, "agentos_sessions_deleted_total"); got != 2 {
			t.Errorf("agentos_sessions_deleted_total = %v, want 2", got)
		}
		if got := metric(t, a, "agentos_runs_deleted_total"); got != 5 {
			t.Errorf("agentos_runs_deleted_total = %v, want 5", got)
		}

		// Without a report the runs are not counted; the sessions still are.
		if res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"m-3"}, []string{"workflow"}), "Content-Type", "application/json"); res.Status != http.StatusNoContent {
			t.Fatalf("bulk delete: status %d, want 204", res.Status)
		}
		if res := a.Do(t, http.MethodDelete, "/sessions/m-4", ""); res.Status != http.StatusNoContent {
			t.Fatalf("delete one: status %d, want 204", res.Status)
		}
		if got := metric(t, a, "agentos_sessions_deleted_total"); got != 4 {
			t.Errorf("agentos_sessions_deleted_total = %v, want 4", got)
		}
		if got := metric(t, a, "agentos_runs_deleted_total"); got != 5 {
			t.Errorf("agentos_runs_deleted_total = %v, want 5", got)
		}
		a.WantRows(t, []string{"m-1", "m-2", "m-3", "m-4"}, 0, 0)

		// A failed delete counts nothing.
		a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"m-9"}, []string{"agent", "team"}), "Content-Type", "application/json").
			WantError(t, http.StatusBadRequest, "BAD_REQUEST", "Session IDs and session types must have the same length")
		if got := metric(t, a, "agentos_sessions_deleted_total"); got != 4 {
			t.Errorf("agentos_sessions_deleted_total after a 400 = %v, want 4", got)
		}

		// Requests by operationId and status, unmatched paths in one label.
		a.Do(t, http.MethodGet, "/sessions?limit=0", "")
		a.Do(t, http.MethodGet, "/no/such/path", "")
		for series, want := range map[string]float64{
			`agentos_http_requests_total{method="DELETE",operation="delete_sessions",status="200"}`:                 1,
			`agentos_http_requests_total{method="DELETE",operation="delete_sessions",status="204"}`:                 1,
			`agentos_http_requests_total{method="DELETE",operation="delete_sessions",status="400"}`:                 1,
			`agentos_http_requests_total{method="DELETE",operation="delete_session",status="204"}`:                  1,
			`agentos_http_requests_total{method="GET",operation="get_sessions",status="422"}`:                       1,
			`agentos_http_requests_total{method="GET",operation="unmatched",status="404"}`:                          1,
			`agentos_http_request_duration_seconds_count{method="DELETE",operation="delete_sessions",status="200"}`: 1,
		} {
			if got := metric(t, a, series); got != want {
				t.Errorf("%s = %v, want %v", series, got, want)
			}
		}
		if got := metric(t, a, `agentos_http_requests_total{method="GET",operation="/metrics",status="200"}`); got < 1 {
			t.Errorf("GET /metrics requests = %v, want at least 1", got)
		}
		// The database pool, by database id.
		if got := metric(t, a, `go_sql_max_open_connections{db_name="default"}`); got < 0 {
			t.Errorf("go_sql_max_open_connections for database default missing")
		}
	})
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	a := testkit.NewAPIWith(t, testkit.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))},
		testkit.Database("default", testdb.SQLiteURL(t)))
	buf.Reset()

	req := httptest.NewRequest(http.MethodGet, "/sessions/missing?type=agent", nil)
	req.Header.Set("X-Request-ID", "req-42")
	if res := a.Serve(t, req); res.Status != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", res.Status)
	}

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want one access-log line:\n%s", len(lines), buf.String())
	}
	var line struct {
		Msg        string   `json:"msg"`
		Method     string   `json:"method"`
		Route      string   `json:"route"`
		Status     int      `json:"status"`
		DurationMS *float64 `json:"duration_ms"`
		RequestID  string   `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatalf("log line %q: %v", lines[0], err)
	}
	if line.Msg != "request" || line.Method != "GET" || line.Route != "/sessions/:session_id" ||
		line.Status != 404 || line.RequestID != "req-42" || line.DurationMS == nil || *line.DurationMS < 0 {
		t.Errorf("access log = %s, want msg request, GET /sessions/:session_id 404, request_id req-42 and a duration", lines[0])
	}
}
