package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/gen"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/store"
)

func TestDeleteSessions_Deletes(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		t.Run("ListedPairsWithTheirRuns", func(t *testing.T) {
			t.Parallel()
			a := testkit.NewAPI(t, newURL(t), server.Config{})
			a.Seed(t,
				testkit.Session{ID: "a1", Type: "agent", Runs: 3},
				testkit.Session{ID: "t1", Type: "team", Runs: 2},
				testkit.Session{ID: "w1", Type: "workflow", Runs: 1},
				testkit.Session{ID: "keep", Type: "agent", Runs: 2},
			)
			res := a.Do(t, http.MethodDelete, "/sessions",
				testkit.DeleteBody([]string{"a1", "t1", "w1"}, []string{"agent", "team", "workflow"}), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent || len(res.Body) != 0 {
				t.Fatalf("got %d %q, want 204 and no body", res.Status, res.Body)
			}
			a.WantRows(t, []string{"a1", "t1", "w1"}, 0, 0)
			a.WantRows(t, []string{"keep"}, 1, 2)
		})
		t.Run("OnlyWhenTheTypeMatches", func(t *testing.T) {
			t.Parallel()
			a := testkit.NewAPI(t, newURL(t), server.Config{})
			a.Seed(t, testkit.Session{ID: "t1", Type: "team", Runs: 1})
			res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"t1"}, []string{"agent"}), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204", res.Status)
			}
			a.WantRows(t, []string{"t1"}, 1, 1)
		})
		t.Run("UnknownAndRepeatedIdsAreNotErrors", func(t *testing.T) {
			t.Parallel()
			a := testkit.NewAPI(t, newURL(t), server.Config{})
			a.Seed(t, testkit.Session{ID: "a1", Type: "agent", Runs: 1})
			res := a.Do(t, http.MethodDelete, "/sessions",
				testkit.DeleteBody([]string{"nope", "a1", "a1"}, []string{"agent", "agent", "agent"}), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204 (body %s)", res.Status, res.Body)
			}
			a.WantRows(t, []string{"a1"}, 0, 0)
		})
		t.Run("TypeQueryParameterDoesNotDecide", func(t *testing.T) {
			t.Parallel()
			a := testkit.NewAPI(t, newURL(t), server.Config{})
			a.Seed(t, testkit.Session{ID: "a1", Type: "agent"}, testkit.Session{ID: "t1", Type: "team"})
			res := a.Do(t, http.MethodDelete, "/sessions?type=workflow",
				testkit.DeleteBody([]string{"a1", "t1"}, []string{"agent", "team"}), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204", res.Status)
			}
			a.WantRows(t, []string{"a1", "t1"}, 0, 0)
		})
		t.Run("PastTheBindParameterLimits", func(t *testing.T) {
			t.Parallel()
			a := testkit.NewAPI(t, newURL(t), server.Config{})
			a.Seed(t, testkit.Session{ID: "s-0", Type: "agent", Runs: 1}, testkit.Session{ID: "s-69999", Type: "team", Runs: 1})
			const n = 70_000
			ids, types := make([]string, n), make([]string, n)
			for i := range n {
				ids[i], types[i] = fmt.Sprintf("s-%d", i), "agent"
			}
			types[n-1] = "team"
			res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody(ids, types), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204 (body %.200s)", res.Status, res.Body)
			}
			a.WantRows(t, []string{"s-0", "s-69999"}, 0, 0)
		})
		t.Run("TrailingSlashIsRewrittenNotRedirected", func(t *testing.T) {
			t.Parallel()
			a := testkit.NewAPI(t, newURL(t), server.Config{})
			a.Seed(t, testkit.Session{ID: "a1", Type: "agent"})
			res := a.Do(t, http.MethodDelete, "/sessions/", testkit.DeleteBody([]string{"a1"}, []string{"agent"}), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204", res.Status)
			}
			a.WantRows(t, []string{"a1"}, 0, 0)
		})
	})
}

func TestDeleteSessions_UserID(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t,
			testkit.Session{ID: "mine", Type: "agent", UserID: ptr("u1"), Runs: 1},
			testkit.Session{ID: "theirs", Type: "agent", UserID: ptr("u2"), Runs: 1},
			testkit.Session{ID: "nobody", Type: "agent", Runs: 1},
			testkit.Session{ID: "blank", Type: "agent", UserID: ptr(""), Runs: 1},
		)
		all := []string{"mine", "theirs", "nobody", "blank"}
		types := []string{"agent", "agent", "agent", "agent"}

		res := a.Do(t, http.MethodDelete, "/sessions?user_id=u1", testkit.DeleteBody(all, types), "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204", res.Status)
		}
		a.WantRows(t, []string{"mine"}, 0, 0)
		a.WantRows(t, []string{"theirs", "nobody", "blank"}, 3, 3)

		// An empty user_id filters on the empty string, as AgentOS does:
		// it never matches a session without an owner.
		res = a.Do(t, http.MethodDelete, "/sessions?user_id=", testkit.DeleteBody(all, types), "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204", res.Status)
		}
		a.WantRows(t, []string{"blank"}, 0, 0)
		a.WantRows(t, []string{"theirs", "nobody"}, 2, 2)
	})
}

func TestDeleteSessions_Report(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		a := testkit.NewAPI(t, newURL(t), server.Config{})
		a.Seed(t,
			testkit.Session{ID: "a1", Type: "agent", Runs: 3},
			testkit.Session{ID: "t1", Type: "team", UserID: ptr("u1")},
			testkit.Session{ID: "t2", Type: "team", UserID: ptr("u2"), Runs: 1},
		)
		body := testkit.DeleteBody(
			[]string{"t1", "zzz", "a1", "t1", "a1", "t2"},
			[]string{"team", "agent", "agent", "team", "team", "team"})
		// Preferences are comma-separated and case-insensitive; others are ignored.
		res := a.Do(t, http.MethodDelete, "/sessions?user_id=u1", body,
			"Content-Type", jsonCT, "Prefer", "respond-async, RETURN=Representation")
		if res.Status != http.StatusOK {
			t.Fatalf("status = %d, want 200 (body %s)", res.Status, res.Body)
		}
		if got := res.Header.Get("Preference-Applied"); got != "return=representation" {
			t.Errorf("Preference-Applied = %q, want return=representation", got)
		}
		var report gen.DeleteSessionsReport
		if err := json.Unmarshal(res.Body, &report); err != nil {
			t.Fatalf("decode report: %v", err)
		}
		wantDeleted := []gen.DeletedSession{{SessionId: "t1", SessionType: "team", RunsDeleted: 0}}
		wantNotFound := []gen.SessionRef{
			{SessionId: "zzz", SessionType: "agent"},
			{SessionId: "a1", SessionType: "agent"}, // filtered out by user_id
			{SessionId: "a1", SessionType: "team"},
			{SessionId: "t2", SessionType: "team"},
		}
		if !slices.Equal(report.Deleted, wantDeleted) || !slices.Equal(report.NotFound, wantNotFound) {
			t.Errorf("report = %+v, want deleted %+v not_found %+v", report, wantDeleted, wantNotFound)
		}

		res = a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"a1", "t2"}, []string{"agent", "team"}),
			"Content-Type", jsonCT, "Prefer", `return="representation"; x=1`)
		if err := json.Unmarshal(res.Body, &report); err != nil || res.Status != http.StatusOK {
			t.Fatalf("got %d %s, want 200 with a report", res.Status, res.Body)
		}
		wantDeleted = []gen.DeletedSession{{SessionId: "a1", SessionType: "agent", RunsDeleted: 3}, {SessionId: "t2", SessionType: "team", RunsDeleted: 1}}
		if !slices.Equal(report.Deleted, wantDeleted) || report.NotFound == nil || len(report.NotFound) != 0 {
			t.Errorf("report = %+v, want deleted %+v and not_found []", report, wantDeleted)
		}
		if !strings.Contains(string(res.Body), `"not_found":[]`) {
			t.Errorf("body %s: want not_found as [], not null", res.Body)
		}

		res = a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"x"}, []string{"agent"}),
			"Content-Type", jsonCT, "Prefer", "return=minimal")
		if res.Status != http.StatusNoContent || res.Header.Get("Preference-Applied") != "" {
			t.Errorf("Prefer: return=minimal got %d (Preference-Applied %q), want 204 without it",
				res.Status, res.Header.Get("Preference-Applied"))
		}
	})
}

func TestDeleteSessions_Validation(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	a.Seed(t, testkit.Session{ID: "a1", Type: "agent", Runs: 1})
	tests := []struct {
		name, target, body string
		status             int
		code, detail       string
	}{
		{"EmptyIds", "/sessions", `{"session_ids":[],"session_types":["agent"]}`,
			422, "VALIDATION_ERROR", "body.session_ids: minimum number of items is 1"},
		{"MissingTypes", "/sessions", `{"session_ids":["a1"]}`,
			422, "VALIDATION_ERROR", `body.session_types: property "session_types" is missing`},
		{"UnknownType", "/sessions", `{"session_ids":["a1"],"session_types":["robot"]}`,
			422, "VALIDATION_ERROR", `body.session_types.0: value must be one of "agent", "team", "workflow"`},
		{"IdNotAString", "/sessions", `{"session_ids":[1],"session_types":["agent"]}`,
			422, "VALIDATION_ERROR", `body.session_ids.0: value must be a string`},
		{"NullIds", "/sessions", `{"session_ids":null,"session_types":["agent"]}`,
			422, "VALIDATION_ERROR", "body.session_ids: must be a list, not null"},
		{"NullTypes", "/sessions", `{"session_ids":["a1"],"session_types":null}`,
			422, "VALIDATION_ERROR", "body.session_types: must be a list, not null"},
		{"NullId", "/sessions", `{"session_ids":["a1",null],"session_types":["agent","agent"]}`,
			422, "VALIDATION_ERROR", "body.session_ids.1: must be a string, not null"},
		{"NullBody", "/sessions", `null`,
			422, "VALIDATION_ERROR", "body: must be an object, not null"},
		{"NotJSON", "/sessions", `{"session_ids":`,
			422, "VALIDATION_ERROR", "body: failed to decode request body: unexpected EOF"},
		{"TextAfterTheValue", "/sessions", testkit.DeleteBody([]string{"a1"}, []string{"agent"}) + ` x`,
			422, "VALIDATION_ERROR", "body: text follows the JSON value"},
		{"TwoValues", "/sessions", testkit.DeleteBody([]string{"a1"}, []string{"agent"}) + testkit.DeleteBody([]string{"a1"}, []string{"agent"}),
			422, "VALIDATION_ERROR", "body: text follows the JSON value"},
		{"NoBody", "/sessions", ``,
			422, "VALIDATION_ERROR", "body: value is required but missing"},
		{"BadTypeQuery", "/sessions?type=robot", testkit.DeleteBody([]string{"a1"}, []string{"agent"}),
			422, "VALIDATION_ERROR", `query.type: value must be one of "agent", "team", "workflow"`},
		{"LengthMismatch", "/sessions", `{"session_ids":["a1","a2"],"session_types":["agent"]}`,
			400, "BAD_REQUEST", "Session IDs and session types must have the same length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := a.Do(t, http.MethodDelete, tt.target, tt.body, "Content-Type", jsonCT)
			res.WantError(t, tt.status, tt.code, tt.detail)
			a.WantRows(t, []string{"a1"}, 1, 1)
		})
	}
}

func TestDeleteSessions_Limits(t *testing.T) {
	t.Parallel()
	cfg := server.Config{}
	cfg.MaxBatch, cfg.MaxBodyBytes = 3, 200
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)
	a.Seed(t, testkit.Session{ID: "a1", Type: "agent"})

	t.Run("MaxBatchBeforeLengthMismatch", func(t *testing.T) {
		// More ids than the limit, and fewer types than ids: the batch
		// limit answers, not the length mismatch.
		tooMany := testkit.DeleteBody([]string{"a1", "b", "c", "d"}, []string{"agent", "agent"})
		a.Do(t, http.MethodDelete, "/sessions", tooMany, "Content-Type", jsonCT).
			WantError(t, 422, "VALIDATION_ERROR", "body.session_ids: at most 3 ids per request")
		// The same mismatch within the limit is the 400 the limit came before.
		mismatched := testkit.DeleteBody([]string{"a1", "b", "c"}, []string{"agent", "agent"})
		a.Do(t, http.MethodDelete, "/sessions", mismatched, "Content-Type", jsonCT).
			WantError(t, 400, "BAD_REQUEST", "Session IDs and session types must have the same length")
		a.WantRows(t, []string{"a1"}, 1, 0)
	})
	t.Run("BodyTooLarge", func(t *testing.T) {
		big := testkit.DeleteBody([]string{"a1", strings.Repeat("x", 300)}, []string{"agent", "agent"})
		res := a.Do(t, http.MethodDelete, "/sessions", big, "Content-Type", jsonCT)
		res.WantError(t, 413, "PAYLOAD_TOO_LARGE", "Request body is larger than 200 bytes")
		a.WantRows(t, []string{"a1"}, 1, 0)
	})
	t.Run("BodyTooLargeWithoutContentLength", func(t *testing.T) {
		req := newStreamingRequest(testkit.DeleteBody([]string{"a1", strings.Repeat("x", 300)}, []string{"agent", "agent"}))
		res := a.Serve(t, req)
		res.WantError(t, 413, "PAYLOAD_TOO_LARGE", "Request body is larger than 200 bytes")
		a.WantRows(t, []string{"a1"}, 1, 0)
	})
	t.Run("MaxBatchIsNotABodyRule", func(t *testing.T) {
		res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"a1", "b", "c"}, []string{"agent", "agent", "agent"}), "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204 at exactly the limit", res.Status)
		}
		a.WantRows(t, []string{"a1"}, 0, 0)
	})
}

func TestDeleteSessions_MediaType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		contentType string
		status      int
	}{
		{"", http.StatusNoContent}, // no Content-Type is read as JSON
		{"application/json", http.StatusNoContent},
		{"application/json; charset=utf-8", http.StatusNoContent},
		{"Application/JSON", http.StatusNoContent},
		{"application/merge-patch+json", http.StatusNoContent},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"application/json; charset=latin1", http.StatusUnsupportedMediaType},
		{"application/jsonx", http.StatusUnsupportedMediaType},
		{"not a media type", http.StatusUnsupportedMediaType},
	}
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			a.Seed(t, testkit.Session{ID: "a1", Type: "agent"})
			t.Cleanup(func() { a.DB["default"].Exec(`DELETE FROM agno_sessions`) })
			var headers []string
			if tt.contentType != "" {
				headers = []string{"Content-Type", tt.contentType}
			}
			res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"a1"}, []string{"agent"}), headers...)
			if res.Status != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", res.Status, tt.status, res.Body)
			}
			if tt.status == http.StatusUnsupportedMediaType {
				res.WantError(t, 415, "UNSUPPORTED_MEDIA_TYPE", fmt.Sprintf("Content-Type must be application/json, not %q", tt.contentType))
				a.WantRows(t, []string{"a1"}, 1, 0)
			} else {
				a.WantRows(t, []string{"a1"}, 0, 0)
			}
		})
	}
}

func TestDeleteSessions_Auth(t *testing.T) {
	t.Parallel()
	cfg := server.Config{}
	cfg.SecurityKey, cfg.MaxBodyBytes = "s3cret-key", 100
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)
	a.Seed(t, testkit.Session{ID: "a1", Type: "agent"})
	good := testkit.DeleteBody([]string{"a1"}, []string{"agent"})
	huge := testkit.DeleteBody([]string{strings.Repeat("x", 500)}, []string{"agent"})

	tests := []struct {
		name, auth, body, contentType string
		detail                        string
	}{
		{"NoHeader", "", good, jsonCT, "Authorization header required"},
		{"OtherScheme", "Basic czNjcmV0LWtleQ==", good, jsonCT, "Authorization header must be 'Bearer <token>'"},
		{"WrongToken", "Bearer s3cret-kez", good, jsonCT, "Invalid authentication token"},
		{"PrefixOfToken", "Bearer s3cret", good, jsonCT, "Invalid authentication token"},
		{"BeforeValidation", "", `{"session_ids":[]}`, jsonCT, "Authorization header required"},
		{"BeforeMediaType", "", good, "text/plain", "Authorization header required"},
		{"BeforeBodySize", "", huge, jsonCT, "Authorization header required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Do(t, http.MethodDelete, "/sessions", tt.body, "Content-Type", tt.contentType, "Authorization", tt.auth)
			res.WantError(t, 401, "UNAUTHENTICATED", tt.detail)
			a.WantRows(t, []string{"a1"}, 1, 0)
		})
	}
	t.Run("HealthIsPublic", func(t *testing.T) {
		if res := a.Do(t, http.MethodGet, "/health", ""); res.Status != http.StatusOK {
			t.Errorf("GET /health status = %d, want 200", res.Status)
		}
	})
	t.Run("RightToken", func(t *testing.T) {
		res := a.Do(t, http.MethodDelete, "/sessions", good, "Content-Type", jsonCT, "Authorization", "bearer s3cret-key")
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204 (body %s)", res.Status, res.Body)
		}
		a.WantRows(t, []string{"a1"}, 0, 0)
	})
}

func TestDeleteSessions_Resolution(t *testing.T) {
	t.Parallel()
	archive := store.TablePair{Sessions: "archive_sessions", Runs: "archive_runs"}
	main := testkit.Database("main", testdb.PostgresURL(t), store.DefaultTables, archive)
	local := testkit.Database("local", testdb.SQLiteURL(t))
	a := testkit.NewAPIWith(t, testkit.Options{}, main, local)
	a.SeedInto(t, "main", store.DefaultTables, testkit.Session{ID: "s1", Type: "agent", Runs: 1})
	a.SeedInto(t, "main", archive, testkit.Session{ID: "s1", Type: "agent", Runs: 2})
	a.SeedInto(t, "local", store.DefaultTables, testkit.Session{ID: "s1", Type: "agent", Runs: 1})
	body := testkit.DeleteBody([]string{"s1"}, []string{"agent"})

	errorsTests := []struct {
		name, query string
		status      int
		code        string
		detail      string
	}{
		{"NoDatabaseWithSeveral", "", 400, "BAD_REQUEST", "The db_id query parameter is required when using multiple databases"},
		{"EmptyDatabaseIsNone", "?db_id=", 400, "BAD_REQUEST", "The db_id query parameter is required when using multiple databases"},
		{"TableWithoutDatabase", "?table=agno_sessions", 400, "BAD_REQUEST", "The db_id query parameter is required when passing a table"},
		{"UnknownDatabase", "?db_id=nope", 404, "NOT_FOUND", "No database found with id 'nope'"},
		{"UnknownTable", "?db_id=main&table=nope", 404, "NOT_FOUND", "No database with id 'main' has table 'nope'"},
		{"RunsTableIsNotASessionTable", "?db_id=main&table=agno_runs", 404, "NOT_FOUND", "No database with id 'main' has table 'agno_runs'"},
		{"HostileTable", "?db_id=main&table=" + `agno_sessions%22%3B%20DROP%20TABLE%20agno_runs%3B--`, 404, "NOT_FOUND",
			`No database with id 'main' has table 'agno_sessions"; DROP TABLE agno_runs;--'`},
		{"TableOfAnotherDatabase", "?db_id=local&table=archive_sessions", 404, "NOT_FOUND", "No database with id 'local' has table 'archive_sessions'"},
	}
	for _, tt := range errorsTests {
		t.Run(tt.name, func(t *testing.T) {
			res := a.Do(t, http.MethodDelete, "/sessions"+tt.query, body, "Content-Type", jsonCT)
			res.WantError(t, tt.status, tt.code, tt.detail)
			a.WantRowsIn(t, "main", store.DefaultTables, []string{"s1"}, 1, 1)
			a.WantRowsIn(t, "main", archive, []string{"s1"}, 1, 2)
			a.WantRowsIn(t, "local", store.DefaultTables, []string{"s1"}, 1, 1)
		})
	}
	t.Run("TablePicksThePair", func(t *testing.T) {
		res := a.Do(t, http.MethodDelete, "/sessions?db_id=main&table=archive_sessions", body, "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204 (body %s)", res.Status, res.Body)
		}
		a.WantRowsIn(t, "main", archive, []string{"s1"}, 0, 0)
		a.WantRowsIn(t, "main", store.DefaultTables, []string{"s1"}, 1, 1)
		a.WantRowsIn(t, "local", store.DefaultTables, []string{"s1"}, 1, 1)
	})
	t.Run("DatabaseDefaultsToItsFirstTable", func(t *testing.T) {
		res := a.Do(t, http.MethodDelete, "/sessions?db_id=local", body, "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204 (body %s)", res.Status, res.Body)
		}
		a.WantRowsIn(t, "local", store.DefaultTables, []string{"s1"}, 0, 0)
		a.WantRowsIn(t, "main", store.DefaultTables, []string{"s1"}, 1, 1)
	})
}

func TestDeleteSessions_SingleDatabaseResolution(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	body := testkit.DeleteBody([]string{"s1"}, []string{"agent"})
	t.Run("TableWithoutDatabaseEvenWithOne", func(t *testing.T) {
		res := a.Do(t, http.MethodDelete, "/sessions?table=agno_sessions", body, "Content-Type", jsonCT)
		res.WantError(t, 400, "BAD_REQUEST", "The db_id query parameter is required when passing a table")
	})
	for _, q := range []string{"", "?db_id=", "?db_id=default", "?db_id=default&table=agno_sessions"} {
		t.Run("Accepts"+q, func(t *testing.T) {
			a.Seed(t, testkit.Session{ID: "s1", Type: "agent", Runs: 1})
			res := a.Do(t, http.MethodDelete, "/sessions"+q, body, "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204 (body %s)", res.Status, res.Body)
			}
			a.WantRows(t, []string{"s1"}, 0, 0)
		})
	}
}

func TestDeleteSessions_Failures(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		t.Run("AllOrNothing", func(t *testing.T) {
			t.Parallel()
			a := testkit.NewAPI(t, newURL(t), server.Config{})
			a.Seed(t,
				testkit.Session{ID: "a1", Type: "agent", Runs: 2},
				testkit.Session{ID: "boom", Type: "agent", Runs: 1},
				testkit.Session{ID: "a2", Type: "agent", Runs: 2},
			)
			failOnDelete(t, a, "boom")
			res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"a1", "boom", "a2"}, []string{"agent", "agent", "agent"}),
				"Content-Type", jsonCT, "X-Request-ID", "req-123")
			res.WantError(t, 500, "INTERNAL_SERVER_ERROR", "Failed to delete sessions (request id: req-123)")
			a.WantRows(t, []string{"a1", "boom", "a2"}, 3, 5)
		})
		t.Run("DriverTextIsNeverSent", func(t *testing.T) {
			t.Parallel()
			a := testkit.NewAPI(t, newURL(t), server.Config{})
			if err := a.DB["default"].Exec(`DROP TABLE agno_runs`).Error; err != nil {
				t.Fatal(err)
			}
			if err := a.DB["default"].Exec(`DROP TABLE agno_sessions`).Error; err != nil {
				t.Fatal(err)
			}
			res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"a1"}, []string{"agent"}), "Content-Type", jsonCT)
			id := res.Header.Get("X-Request-ID")
			if id == "" {
				t.Fatal("no X-Request-ID in the testkit.Response")
			}
			res.WantError(t, 500, "INTERNAL_SERVER_ERROR", "Failed to delete sessions (request id: "+id+")")
		})
	})
}

// failOnDelete makes the database refuse to delete one session, so that a
// bulk delete fails part-way through its rows.
func failOnDelete(t *testing.T, a *testkit.API, id string) {
	t.Helper()
	db := a.DB["default"]
	var stmts []string
	if db.Dialector.Name() == "sqlite" {
		stmts = []string{fmt.Sprintf(`CREATE TRIGGER refuse BEFORE DELETE ON agno_sessions WHEN OLD.session_id = '%s'
			BEGIN SELECT RAISE(ABORT, 'refused'); END`, id)}
	} else {
		stmts = []string{
			fmt.Sprintf(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN IF OLD.session_id = '%s' THEN RAISE EXCEPTION 'refused'; END IF; RETURN OLD; END $$`, id),
			`CREATE TRIGGER refuse BEFORE DELETE ON agno_sessions FOR EACH ROW EXECUTE FUNCTION refuse()`,
		}
	}
	for _, s := range stmts {
		if err := db.Exec(s).Error; err != nil {
			t.Fatalf("create trigger: %v", err)
		}
	}
}

func TestRouting_Errors(t *testing.T) {
	t.Parallel()
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
	a.Do(t, http.MethodGet, "/nope", "").WantError(t, 404, "NOT_FOUND", "Not Found")
	a.Do(t, http.MethodPut, "/sessions", "").WantError(t, 405, "METHOD_NOT_ALLOWED", "Method Not Allowed")
}

func TestNewServer_RejectsBadLimits(t *testing.T) {
	t.Parallel()
	for _, cfg := range []server.Config{{MaxBatch: 0, MaxBodyBytes: 1}, {MaxBatch: 1, MaxBodyBytes: 0}} {
		if _, err := server.NewServer(cfg, nil, nil); err == nil {
			t.Errorf("NewServer(%+v) succeeded, want an error", cfg)
		}
	}
}
