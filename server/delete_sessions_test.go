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
	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/store"
)

const jsonCT = "application/json"

func TestDeleteSessions_Deletes(t *testing.T) {
	backends(t, func(t *testing.T, newURL func(testing.TB) string) {
		t.Run("ListedPairsWithTheirRuns", func(t *testing.T) {
			a := newAPI(t, newURL(t), testConfig())
			a.seed("default",
				session{id: "a1", typ: "agent", runs: 3},
				session{id: "t1", typ: "team", runs: 2},
				session{id: "w1", typ: "workflow", runs: 1},
				session{id: "keep", typ: "agent", runs: 2},
			)
			res := a.do(http.MethodDelete, "/sessions",
				deleteBody([]string{"a1", "t1", "w1"}, []string{"agent", "team", "workflow"}), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent || len(res.Body) != 0 {
				t.Fatalf("got %d %q, want 204 and no body", res.Status, res.Body)
			}
			a.wantRows([]string{"a1", "t1", "w1"}, 0, 0)
			a.wantRows([]string{"keep"}, 1, 2)
		})
		t.Run("OnlyWhenTheTypeMatches", func(t *testing.T) {
			a := newAPI(t, newURL(t), testConfig())
			a.seed("default", session{id: "t1", typ: "team", runs: 1})
			res := a.do(http.MethodDelete, "/sessions", deleteBody([]string{"t1"}, []string{"agent"}), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204", res.Status)
			}
			a.wantRows([]string{"t1"}, 1, 1)
		})
		t.Run("UnknownAndRepeatedIdsAreNotErrors", func(t *testing.T) {
			a := newAPI(t, newURL(t), testConfig())
			a.seed("default", session{id: "a1", typ: "agent", runs: 1})
			res := a.do(http.MethodDelete, "/sessions",
				deleteBody([]string{"nope", "a1", "a1"}, []string{"agent", "agent", "agent"}), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204 (body %s)", res.Status, res.Body)
			}
			a.wantRows([]string{"a1"}, 0, 0)
		})
		t.Run("TypeQueryParameterDoesNotDecide", func(t *testing.T) {
			a := newAPI(t, newURL(t), testConfig())
			a.seed("default", session{id: "a1", typ: "agent"}, session{id: "t1", typ: "team"})
			res := a.do(http.MethodDelete, "/sessions?type=workflow",
				deleteBody([]string{"a1", "t1"}, []string{"agent", "team"}), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204", res.Status)
			}
			a.wantRows([]string{"a1", "t1"}, 0, 0)
		})
		t.Run("PastTheBindParameterLimits", func(t *testing.T) {
			a := newAPI(t, newURL(t), testConfig())
			a.seed("default", session{id: "s-0", typ: "agent", runs: 1}, session{id: "s-69999", typ: "team", runs: 1})
			const n = 70_000
			ids, types := make([]string, n), make([]string, n)
			for i := range n {
				ids[i], types[i] = fmt.Sprintf("s-%d", i), "agent"
			}
			types[n-1] = "team"
			res := a.do(http.MethodDelete, "/sessions", deleteBody(ids, types), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204 (body %.200s)", res.Status, res.Body)
			}
			a.wantRows([]string{"s-0", "s-69999"}, 0, 0)
		})
		t.Run("TrailingSlashIsRewrittenNotRedirected", func(t *testing.T) {
			a := newAPI(t, newURL(t), testConfig())
			a.seed("default", session{id: "a1", typ: "agent"})
			res := a.do(http.MethodDelete, "/sessions/", deleteBody([]string{"a1"}, []string{"agent"}), "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204", res.Status)
			}
			a.wantRows([]string{"a1"}, 0, 0)
		})
	})
}

func TestDeleteSessions_UserID(t *testing.T) {
	backends(t, func(t *testing.T, newURL func(testing.TB) string) {
		a := newAPI(t, newURL(t), testConfig())
		a.seed("default",
			session{id: "mine", typ: "agent", user: ptr("u1"), runs: 1},
			session{id: "theirs", typ: "agent", user: ptr("u2"), runs: 1},
			session{id: "nobody", typ: "agent", runs: 1},
			session{id: "blank", typ: "agent", user: ptr(""), runs: 1},
		)
		all := []string{"mine", "theirs", "nobody", "blank"}
		types := []string{"agent", "agent", "agent", "agent"}

		res := a.do(http.MethodDelete, "/sessions?user_id=u1", deleteBody(all, types), "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204", res.Status)
		}
		a.wantRows([]string{"mine"}, 0, 0)
		a.wantRows([]string{"theirs", "nobody", "blank"}, 3, 3)

		// An empty user_id filters on the empty string, as AgentOS does:
		// it never matches a session without an owner.
		res = a.do(http.MethodDelete, "/sessions?user_id=", deleteBody(all, types), "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204", res.Status)
		}
		a.wantRows([]string{"blank"}, 0, 0)
		a.wantRows([]string{"theirs", "nobody"}, 2, 2)
	})
}

func TestDeleteSessions_Report(t *testing.T) {
	backends(t, func(t *testing.T, newURL func(testing.TB) string) {
		a := newAPI(t, newURL(t), testConfig())
		a.seed("default",
			session{id: "a1", typ: "agent", runs: 3},
			session{id: "t1", typ: "team", user: ptr("u1")},
			session{id: "t2", typ: "team", user: ptr("u2"), runs: 1},
		)
		body := deleteBody(
			[]string{"t1", "zzz", "a1", "t1", "a1", "t2"},
			[]string{"team", "agent", "agent", "team", "team", "team"})
		// Preferences are comma-separated and case-insensitive; others are ignored.
		res := a.do(http.MethodDelete, "/sessions?user_id=u1", body,
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

		res = a.do(http.MethodDelete, "/sessions", deleteBody([]string{"a1", "t2"}, []string{"agent", "team"}),
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

		res = a.do(http.MethodDelete, "/sessions", deleteBody([]string{"x"}, []string{"agent"}),
			"Content-Type", jsonCT, "Prefer", "return=minimal")
		if res.Status != http.StatusNoContent || res.Header.Get("Preference-Applied") != "" {
			t.Errorf("Prefer: return=minimal got %d (Preference-Applied %q), want 204 without it",
				res.Status, res.Header.Get("Preference-Applied"))
		}
	})
}

func TestDeleteSessions_Validation(t *testing.T) {
	a := newAPI(t, testdb.SQLiteURL(t), testConfig())
	a.seed("default", session{id: "a1", typ: "agent", runs: 1})
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
		{"NotJSON", "/sessions", `{"session_ids":`,
			422, "VALIDATION_ERROR", "body: failed to decode request body: unexpected EOF"},
		{"TextAfterTheValue", "/sessions", deleteBody([]string{"a1"}, []string{"agent"}) + ` x`,
			422, "VALIDATION_ERROR", "body: text follows the JSON value"},
		{"TwoValues", "/sessions", deleteBody([]string{"a1"}, []string{"agent"}) + deleteBody([]string{"a1"}, []string{"agent"}),
			422, "VALIDATION_ERROR", "body: text follows the JSON value"},
		{"NoBody", "/sessions", ``,
			422, "VALIDATION_ERROR", "body: value is required but missing"},
		{"BadTypeQuery", "/sessions?type=robot", deleteBody([]string{"a1"}, []string{"agent"}),
			422, "VALIDATION_ERROR", `query.type: value must be one of "agent", "team", "workflow"`},
		{"LengthMismatch", "/sessions", `{"session_ids":["a1","a2"],"session_types":["agent"]}`,
			400, "BAD_REQUEST", "Session IDs and session types must have the same length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.t = t
			res := a.do(http.MethodDelete, tt.target, tt.body, "Content-Type", jsonCT)
			res.wantError(t, tt.status, tt.code, tt.detail)
			a.wantRows([]string{"a1"}, 1, 1)
		})
	}
}

func TestDeleteSessions_Limits(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBatch, cfg.MaxBodyBytes = 3, 200
	a := newAPI(t, testdb.SQLiteURL(t), cfg)
	a.seed("default", session{id: "a1", typ: "agent"})

	t.Run("MaxBatchBeforeLengthMismatch", func(t *testing.T) {
		a.t = t
		res := a.do(http.MethodDelete, "/sessions", deleteBody([]string{"a1", "b", "c", "d"}, []string{"agent"}), "Content-Type", jsonCT)
		res.wantError(t, 422, "VALIDATION_ERROR", "body.session_ids: at most 3 ids per request")
		a.wantRows([]string{"a1"}, 1, 0)
	})
	t.Run("BodyTooLarge", func(t *testing.T) {
		a.t = t
		big := deleteBody([]string{"a1", strings.Repeat("x", 300)}, []string{"agent", "agent"})
		res := a.do(http.MethodDelete, "/sessions", big, "Content-Type", jsonCT)
		res.wantError(t, 413, "PAYLOAD_TOO_LARGE", "Request body is larger than 200 bytes")
		a.wantRows([]string{"a1"}, 1, 0)
	})
	t.Run("BodyTooLargeWithoutContentLength", func(t *testing.T) {
		a.t = t
		req := newStreamingRequest(deleteBody([]string{"a1", strings.Repeat("x", 300)}, []string{"agent", "agent"}))
		res := a.serve(req)
		res.wantError(t, 413, "PAYLOAD_TOO_LARGE", "Request body is larger than 200 bytes")
		a.wantRows([]string{"a1"}, 1, 0)
	})
	t.Run("MaxBatchIsNotABodyRule", func(t *testing.T) {
		a.t = t
		res := a.do(http.MethodDelete, "/sessions", deleteBody([]string{"a1", "b", "c"}, []string{"agent", "agent", "agent"}), "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204 at exactly the limit", res.Status)
		}
		a.wantRows([]string{"a1"}, 0, 0)
	})
}

func TestDeleteSessions_MediaType(t *testing.T) {
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
	a := newAPI(t, testdb.SQLiteURL(t), testConfig())
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			a.t = t
			a.seed("default", session{id: "a1", typ: "agent"})
			t.Cleanup(func() { a.db["default"].Exec(`DELETE FROM agno_sessions`) })
			var headers []string
			if tt.contentType != "" {
				headers = []string{"Content-Type", tt.contentType}
			}
			res := a.do(http.MethodDelete, "/sessions", deleteBody([]string{"a1"}, []string{"agent"}), headers...)
			if res.Status != tt.status {
				t.Fatalf("status = %d, want %d (body %s)", res.Status, tt.status, res.Body)
			}
			if tt.status == http.StatusUnsupportedMediaType {
				res.wantError(t, 415, "UNSUPPORTED_MEDIA_TYPE", fmt.Sprintf("Content-Type must be application/json, not %q", tt.contentType))
				a.wantRows([]string{"a1"}, 1, 0)
			} else {
				a.wantRows([]string{"a1"}, 0, 0)
			}
		})
	}
}

func TestDeleteSessions_Auth(t *testing.T) {
	cfg := testConfig()
	cfg.SecurityKey, cfg.MaxBodyBytes = "s3cret-key", 100
	a := newAPI(t, testdb.SQLiteURL(t), cfg)
	a.seed("default", session{id: "a1", typ: "agent"})
	good := deleteBody([]string{"a1"}, []string{"agent"})
	huge := deleteBody([]string{strings.Repeat("x", 500)}, []string{"agent"})

	tests := []struct {
		name, auth, body, contentType string
		detail                        string
	}{
		{"NoHeader", "", good, jsonCT, "Authorization header required"},
		{"OtherScheme", "Basic czNjcmV0LWtleQ==", good, jsonCT, "Authorization header required"},
		{"WrongToken", "Bearer s3cret-kez", good, jsonCT, "Invalid authentication token"},
		{"PrefixOfToken", "Bearer s3cret", good, jsonCT, "Invalid authentication token"},
		{"BeforeValidation", "", `{"session_ids":[]}`, jsonCT, "Authorization header required"},
		{"BeforeMediaType", "", good, "text/plain", "Authorization header required"},
		{"BeforeBodySize", "", huge, jsonCT, "Authorization header required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.t = t
			res := a.do(http.MethodDelete, "/sessions", tt.body, "Content-Type", tt.contentType, "Authorization", tt.auth)
			res.wantError(t, 401, "UNAUTHENTICATED", tt.detail)
			a.wantRows([]string{"a1"}, 1, 0)
		})
	}
	t.Run("HealthIsPublic", func(t *testing.T) {
		a.t = t
		if res := a.do(http.MethodGet, "/health", ""); res.Status != http.StatusOK {
			t.Errorf("GET /health status = %d, want 200", res.Status)
		}
	})
	t.Run("RightToken", func(t *testing.T) {
		a.t = t
		res := a.do(http.MethodDelete, "/sessions", good, "Content-Type", jsonCT, "Authorization", "bearer s3cret-key")
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204 (body %s)", res.Status, res.Body)
		}
		a.wantRows([]string{"a1"}, 0, 0)
	})
}

func TestDeleteSessions_Resolution(t *testing.T) {
	archive := store.TablePair{Sessions: "archive_sessions", Runs: "archive_runs"}
	main := store.DatabaseConfig{ID: "main", URL: testdb.PostgresURL(t), Tables: []store.TablePair{store.DefaultTables, archive}}
	local := store.DatabaseConfig{ID: "local", URL: testdb.SQLiteURL(t)}
	a := newMultiAPI(t, testConfig(), main, local)
	a.seed("main", session{id: "s1", typ: "agent", runs: 1})
	a.seedInto("main", archive, session{id: "s1", typ: "agent", runs: 2})
	a.seed("local", session{id: "s1", typ: "agent", runs: 1})
	body := deleteBody([]string{"s1"}, []string{"agent"})

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
			a.t = t
			res := a.do(http.MethodDelete, "/sessions"+tt.query, body, "Content-Type", jsonCT)
			res.wantError(t, tt.status, tt.code, tt.detail)
			a.wantRowsIn("main", store.DefaultTables, []string{"s1"}, 1, 1)
			a.wantRowsIn("main", archive, []string{"s1"}, 1, 2)
			a.wantRowsIn("local", store.DefaultTables, []string{"s1"}, 1, 1)
		})
	}
	t.Run("TablePicksThePair", func(t *testing.T) {
		a.t = t
		res := a.do(http.MethodDelete, "/sessions?db_id=main&table=archive_sessions", body, "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204 (body %s)", res.Status, res.Body)
		}
		a.wantRowsIn("main", archive, []string{"s1"}, 0, 0)
		a.wantRowsIn("main", store.DefaultTables, []string{"s1"}, 1, 1)
		a.wantRowsIn("local", store.DefaultTables, []string{"s1"}, 1, 1)
	})
	t.Run("DatabaseDefaultsToItsFirstTable", func(t *testing.T) {
		a.t = t
		res := a.do(http.MethodDelete, "/sessions?db_id=local", body, "Content-Type", jsonCT)
		if res.Status != http.StatusNoContent {
			t.Fatalf("status = %d, want 204 (body %s)", res.Status, res.Body)
		}
		a.wantRowsIn("local", store.DefaultTables, []string{"s1"}, 0, 0)
		a.wantRowsIn("main", store.DefaultTables, []string{"s1"}, 1, 1)
	})
}

func TestDeleteSessions_SingleDatabaseResolution(t *testing.T) {
	a := newAPI(t, testdb.SQLiteURL(t), testConfig())
	body := deleteBody([]string{"s1"}, []string{"agent"})
	t.Run("TableWithoutDatabaseEvenWithOne", func(t *testing.T) {
		a.t = t
		res := a.do(http.MethodDelete, "/sessions?table=agno_sessions", body, "Content-Type", jsonCT)
		res.wantError(t, 400, "BAD_REQUEST", "The db_id query parameter is required when passing a table")
	})
	for _, q := range []string{"", "?db_id=", "?db_id=default", "?db_id=default&table=agno_sessions"} {
		t.Run("Accepts"+q, func(t *testing.T) {
			a.t = t
			a.seed("default", session{id: "s1", typ: "agent", runs: 1})
			res := a.do(http.MethodDelete, "/sessions"+q, body, "Content-Type", jsonCT)
			if res.Status != http.StatusNoContent {
				t.Fatalf("status = %d, want 204 (body %s)", res.Status, res.Body)
			}
			a.wantRows([]string{"s1"}, 0, 0)
		})
	}
}

func TestDeleteSessions_Failures(t *testing.T) {
	backends(t, func(t *testing.T, newURL func(testing.TB) string) {
		t.Run("AllOrNothing", func(t *testing.T) {
			a := newAPI(t, newURL(t), testConfig())
			a.seed("default",
				session{id: "a1", typ: "agent", runs: 2},
				session{id: "boom", typ: "agent", runs: 1},
				session{id: "a2", typ: "agent", runs: 2},
			)
			failOnDelete(t, a, "boom")
			res := a.do(http.MethodDelete, "/sessions", deleteBody([]string{"a1", "boom", "a2"}, []string{"agent", "agent", "agent"}),
				"Content-Type", jsonCT, "X-Request-ID", "req-123")
			res.wantError(t, 500, "INTERNAL_SERVER_ERROR", "Failed to delete sessions (request id: req-123)")
			a.wantRows([]string{"a1", "boom", "a2"}, 3, 5)
		})
		t.Run("DriverTextIsNeverSent", func(t *testing.T) {
			a := newAPI(t, newURL(t), testConfig())
			if err := a.db["default"].Exec(`DROP TABLE agno_runs`).Error; err != nil {
				t.Fatal(err)
			}
			if err := a.db["default"].Exec(`DROP TABLE agno_sessions`).Error; err != nil {
				t.Fatal(err)
			}
			res := a.do(http.MethodDelete, "/sessions", deleteBody([]string{"a1"}, []string{"agent"}), "Content-Type", jsonCT)
			id := res.Header.Get("X-Request-ID")
			if id == "" {
				t.Fatal("no X-Request-ID in the response")
			}
			res.wantError(t, 500, "INTERNAL_SERVER_ERROR", "Failed to delete sessions (request id: "+id+")")
		})
	})
}

// failOnDelete makes the database refuse to delete one session, so that a
// bulk delete fails part-way through its rows.
func failOnDelete(t *testing.T, a *api, id string) {
	t.Helper()
	db := a.db["default"]
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
	a := newAPI(t, testdb.SQLiteURL(t), testConfig())
	a.do(http.MethodGet, "/nope", "").wantError(t, 404, "NOT_FOUND", "Not Found")
	a.do(http.MethodPut, "/sessions", "").wantError(t, 405, "METHOD_NOT_ALLOWED", "Method Not Allowed")
}

func TestNewServer_RejectsBadLimits(t *testing.T) {
	for _, cfg := range []server.Config{{MaxBatch: 0, MaxBodyBytes: 1}, {MaxBatch: 1, MaxBodyBytes: 0}} {
		if _, err := server.NewServer(cfg, nil, nil); err == nil {
			t.Errorf("NewServer(%+v) succeeded, want an error", cfg)
		}
	}
}
