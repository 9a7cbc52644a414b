package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// fakeResolver is a hand-written stand-in for the store's catalog, for the
// failures a real database cannot be made to produce on demand.
type fakeResolver struct {
	resolve func(dbID, table string) (store.Sessions, error)
}

func (f fakeResolver) Resolve(dbID, table string) (store.Sessions, error) {
	return f.resolve(dbID, table)
}

type fakeSessions struct {
	store.Sessions // nil: calling a method the test does not set panics
	deleteSessions func(ctx context.Context, keys []store.SessionKey, opts store.DeleteOptions) (store.DeleteResult, error)
}

func (f fakeSessions) DeleteSessions(ctx context.Context, keys []store.SessionKey, opts store.DeleteOptions) (store.DeleteResult, error) {
	return f.deleteSessions(ctx, keys, opts)
}

func TestDeleteSessions_Unexpected(t *testing.T) {
	tests := []struct {
		name    string
		resolve func(dbID, table string) (store.Sessions, error)
	}{
		{"ResolveFails", func(string, string) (store.Sessions, error) { return nil, errors.New("catalog exploded") }},
		{"StorePanics", func(string, string) (store.Sessions, error) {
			return fakeSessions{deleteSessions: func(context.Context, []store.SessionKey, store.DeleteOptions) (store.DeleteResult, error) {
				panic("store bug")
			}}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			e, err := server.NewServer(testConfig(), fakeResolver{tt.resolve}, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodDelete, "/sessions", strings.NewReader(deleteBody([]string{"a"}, []string{"agent"})))
			req.Header.Set("X-Request-ID", "abc-1")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
			res.wantError(t, 500, "INTERNAL_SERVER_ERROR", "Failed to delete sessions (request id: abc-1)")
			if !strings.Contains(logs.String(), "request_id=abc-1") {
				t.Errorf("log %q does not name the request id", logs.String())
			}
		})
	}
}

func TestDeleteSessions_RepeatedPreferLines(t *testing.T) {
	var got store.DeleteOptions
	sessions := fakeSessions{deleteSessions: func(_ context.Context, keys []store.SessionKey, opts store.DeleteOptions) (store.DeleteResult, error) {
		got = opts
		return store.DeleteResult{Deleted: []store.DeletedSession{}}, nil
	}}
	e, err := server.NewServer(testConfig(), fakeResolver{func(string, string) (store.Sessions, error) { return sessions, nil }},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodDelete, "/sessions", strings.NewReader(deleteBody([]string{"a"}, []string{"agent"})))
	req.Header.Add("Prefer", "respond-async")
	req.Header.Add("Prefer", "return=representation")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !got.Report {
		t.Errorf("two Prefer lines: status %d, report asked %v; want 200 with a report (body %s)", rec.Code, got.Report, rec.Body)
	}
	if want := `{"deleted":[],"not_found":[{"session_id":"a","session_type":"agent"}]}`; strings.TrimSpace(rec.Body.String()) != want {
		t.Errorf("body = %s, want %s", rec.Body, want)
	}
}
