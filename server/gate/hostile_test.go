package gate_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/server/gate"
)

func TestHostileInput_URL(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t, testkit.Session{ID: "a1", Type: "agent", Runs: 1})
		long := strings.Repeat("x", gate.MaxIDBytes+1)
		tests := []struct {
			name, method, target, detail string
		}{
			{"NULInPath", http.MethodGet, "/sessions/%00", "path.session_id: value must not contain NUL characters"},
			{"NULInPathDelete", http.MethodDelete, "/sessions/a%00", "path.session_id: value must not contain NUL characters"},
			{"NULInRunID", http.MethodGet, "/sessions/a1/runs/r%00", "path.run_id: value must not contain NUL characters"},
			{"BadUTF8InPath", http.MethodGet, "/sessions/%C3%28", "path.session_id: value is not valid UTF-8"},
			{"LongPathID", http.MethodGet, "/sessions/" + long, fmt.Sprintf("path.session_id: ids are at most %d bytes long", gate.MaxIDBytes)},
			{"NULInQuery", http.MethodGet, "/sessions?user_id=%00", "query.user_id: value must not contain NUL characters"},
			{"BadUTF8InQuery", http.MethodGet, "/sessions?session_name=%FF", "query.session_name: value is not valid UTF-8"},
			{"NULInQueryName", http.MethodGet, "/sessions?a%00=1", "query: value must not contain NUL characters"},
			{"NULInDeleteQuery", http.MethodDelete, "/sessions/a1?user_id=%00", "query.user_id: value must not contain NUL characters"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				a.Do(t, tt.method, tt.target, "").WantError(t, 422, "VALIDATION_ERROR", tt.detail)
			})
		}
		a.WantRows(t, []string{"a1"}, 1, 1)
		t.Run("LongestIDIsNotFound", func(t *testing.T) {
			id := strings.Repeat("x", gate.MaxIDBytes)
			a.Do(t, http.MethodGet, "/sessions/"+id, "").WantError(t, 404, "NOT_FOUND", "Session with id '"+id+"' not found")
		})
	})
}

func TestHostileInput_TableNames(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t, testkit.Session{ID: "a1", Type: "agent", Runs: 1})
		names := []string{
			`agno_sessions"; DROP TABLE agno_sessions; --`,
			`agno_sessions'; DELETE FROM agno_sessions; --`,
			"séssions_日本",
			"agno_sessions;",
			strings.Repeat("t", 10<<10),
		}
		body := testkit.DeleteBody([]string{"a1"}, []string{"agent"})
		for i, name := range names {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				q := url.QueryEscape(name)
				a.Do(t, http.MethodDelete, "/sessions?db_id=default&table="+q, body).
					WantError(t, 404, "NOT_FOUND", fmt.Sprintf("No database with id 'default' has table '%s'", name))
				a.Do(t, http.MethodGet, "/sessions/a1?db_id="+q, "").
					WantError(t, 404, "NOT_FOUND", fmt.Sprintf("No database found with id '%s'", name))
				a.WantRows(t, []string{"a1"}, 1, 1)
			})
		}
	})
}

func TestHostileInput_Body(t *testing.T) {
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t, testkit.Session{ID: "a1", Type: "agent", Runs: 1}, testkit.Session{ID: "b1", Type: "agent"})
		deep := strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000)
		megaID := strings.Repeat("x", 1<<20)
		tests := []struct {
			name, method, target, body, detail string
		}{
			{"NULInID", http.MethodDelete, "/sessions", `{"session_ids":["a1","a\u0000"],"session_types":["agent","agent"]}`,
				"body.session_ids.1: text must not contain NUL characters"},
			{"NULInName", http.MethodPost, "/sessions/a1/rename", `{"session_name":"x\u0000y"}`,
				"body.session_name: text must not contain NUL characters"},
			{"NULInMetadataKey", http.MethodPatch, "/sessions/a1", `{"metadata":{"k\u0000":1}}`,
				"body.metadata: text must not contain NUL characters"},
			{"BadUTF8", http.MethodDelete, "/sessions", "{\"session_ids\":[\"a1\xff\"],\"session_types\":[\"agent\"]}",
				"body: the JSON text is not valid UTF-8"},
			{"DuplicateKey", http.MethodDelete, "/sessions", `{"session_ids":["b1"],"session_types":["agent"],"session_ids":["a1"]}`,
				"body.session_ids: member appears more than once"},
			{"NestedDuplicateKey", http.MethodPatch, "/sessions/a1", `{"metadata":{"k":1,"k":2}}`,
				"body.metadata.k: member appears more than once"},
			{"LongNameIsCut", http.MethodPatch, "/sessions/a1", `{"metadata":{"` + megaID + `":1,"` + megaID + `":2}}`,
				"body.metadata." + strings.Repeat("x", 128-len(".metadata.")) + "…: member appears more than once"},
			{"DeepBody", http.MethodDelete, "/sessions", deep, fmt.Sprintf("body: JSON nests deeper than %d levels", gate.MaxJSONDepth)},
			{"DeepMetadata", http.MethodPost, "/sessions", `{"metadata":{"m":` + deep + `}}`,
				fmt.Sprintf("body: JSON nests deeper than %d levels", gate.MaxJSONDepth)},
			{"MegabyteID", http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"a1", megaID}, []string{"agent", "agent"}),
				fmt.Sprintf("body.session_ids.1: ids are at most %d bytes long", gate.MaxIDBytes)},
			{"MegabyteCreateID", http.MethodPost, "/sessions", `{"session_id":"` + megaID + `"}`,
				fmt.Sprintf("body.session_id: ids are at most %d bytes long", gate.MaxIDBytes)},
			{"MegabyteRunID", http.MethodPost, "/sessions/a1/runs", `{"run_id":"` + megaID + `"}`,
				fmt.Sprintf("body.run_id: ids are at most %d bytes long", gate.MaxIDBytes)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				a.Do(t, tt.method, tt.target, tt.body, "Content-Type", "application/json").WantError(t, 422, "VALIDATION_ERROR", tt.detail)
				a.WantRows(t, []string{"a1", "b1"}, 2, 1)
			})
		}
	})
}

// TestHostileInput_MillionIDs sends a million tiny ids: refused before the
// body is decoded into a tree, so the request costs little more memory than
// the body itself.
func TestHostileInput_MillionIDs(t *testing.T) {
	a := testkit.NewAPI(t, "sqlite::memory:", server.Config{})
	const n = 1_000_000
	var b strings.Builder
	b.WriteString(`{"session_ids":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"a"`)
	}
	b.WriteString(`],"session_types":["agent"]}`)
	body := b.String()

	req := httptest.NewRequest(http.MethodDelete, "/sessions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := a.Serve(t, req)
	runtime.ReadMemStats(&after)

	res.WantError(t, 422, "VALIDATION_ERROR", fmt.Sprintf("body.session_ids: at most %d ids per request", server.DefaultMaxBatch))
	t.Logf("allocated %d bytes for a %d-byte body", after.TotalAlloc-before.TotalAlloc, len(body))
	// Decoding a million strings into []any takes well over 50 MB; the
	// token scan needs the body's copy and a little more.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*uint64(len(body)) {
		t.Errorf("allocated %d bytes for a %d-byte body, want at most %d", alloc, len(body), 8*len(body))
	}
}
