package server_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
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
	t.Parallel()
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
			t.Parallel()
			var logs strings.Builder
			a := testkit.NewAPIWith(t, testkit.Options{Resolver: fakeResolver{tt.resolve}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			res := a.Do(t, http.MethodDelete, "/sessions", testkit.DeleteBody([]string{"a"}, []string{"agent"}), "X-Request-ID", "abc-1")
			res.WantError(t, 500, "INTERNAL_SERVER_ERROR", "Failed to delete sessions (request id: abc-1)")
			if !strings.Contains(logs.String(), "request_id=abc-1") {
				t.Errorf("log %q does not name the request id", logs.String())
			}
		})
	}
}

func TestDeleteSessions_RepeatedPreferLines(t *testing.T) {
	t.Parallel()
	var got store.DeleteOptions
	sessions := fakeSessions{deleteSessions: func(_ context.Context, keys []store.SessionKey, opts store.DeleteOptions) (store.DeleteResult, error) {
		got = opts
		return store.DeleteResult{Deleted: []store.DeletedSession{}}, nil
	}}
	a := testkit.NewAPIWith(t, testkit.Options{Resolver: fakeResolver{func(string, string) (store.Sessions, error) { return sessions, nil }}})
	req := httptest.NewRequest(http.MethodDelete, "/sessions", strings.NewReader(testkit.DeleteBody([]string{"a"}, []string{"agent"})))
	req.Header.Add("Prefer", "respond-async")
	req.Header.Add("Prefer", "return=representation")
	res := a.Serve(t, req)
	if res.Status != http.StatusOK || !got.Report {
		t.Errorf("two Prefer lines: status %d, report asked %v; want 200 with a report (body %s)", res.Status, got.Report, res.Body)
	}
	if want := `{"deleted":[],"not_found":[{"session_id":"a","session_type":"agent"}]}`; strings.TrimSpace(string(res.Body)) != want {
		t.Errorf("body = %s, want %s", res.Body, want)
	}
}
