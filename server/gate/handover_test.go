package gate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/agentos-sessions/agentos-sessions/gen"
	"github.com/agentos-sessions/agentos-sessions/handlers"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server/gate"
)

// recordingHandlers is a strict server that records what a bulk delete
// received; calling any other operation panics.
type recordingHandlers struct {
	gen.StrictServerInterface
	got   gen.DeleteSessionsRequestObject
	prefs handlers.Preferences
}

func (h *recordingHandlers) DeleteSessions(ctx context.Context, req gen.DeleteSessionsRequestObject) (gen.DeleteSessionsResponseObject, error) {
	h.got, h.prefs = req, handlers.PreferencesFrom(ctx)
	return gen.DeleteSessions204Response{}, nil
}

// gated is the generated strict server behind the gate, as the server wires
// them: the gate's Binder, and an open API.
func gated(t *testing.T, h gen.StrictServerInterface) *echo.Echo {
	t.Helper()
	doc := testkit.Document(t)
	e := echo.New()
	e.Binder = gate.Binder{}
	e.Use(gate.New(gate.Config{
		Document:     doc,
		Authenticate: func(*http.Request, []string) (handlers.Caller, error) { return handlers.Caller{}, nil },
		Scopes:       func(openapi3.SecurityRequirements) []string { return nil },
		MaxBodyBytes: 1 << 20,
		MaxBatch:     10,
	}).Middleware)
	gen.RegisterHandlers(e, gen.NewStrictHandler(h, nil))
	return e
}

func send(e *echo.Echo, method, target, body string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for name, lines := range header {
		req.Header[name] = lines
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// TestHandOver checks that the strict handler receives the body the gate
// decoded, whatever JSON media type it came as: the gate hands the value
// over through the request body, and nothing after it reads Content-Type.
func TestHandOver(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"application/json", "application/merge-patch+json", "Application/JSON; charset=utf-8", ""} {
		t.Run(ct, func(t *testing.T) {
			t.Parallel()
			h := &recordingHandlers{}
			rec := send(gated(t, h), http.MethodDelete, "/sessions", `{"session_ids":["a","b"],"session_types":["agent","team"]}`,
				http.Header{"Content-Type": {ct}})
			if rec.Code != http.StatusNoContent {
				t.Fatalf("status %d (%s), want 204", rec.Code, rec.Body)
			}
			if b := h.got.Body; b == nil || strings.Join(b.SessionIds, ",") != "a,b" || len(b.SessionTypes) != 2 || b.SessionTypes[1] != gen.Team {
				t.Errorf("handler got body %+v, want ids a,b with types agent,team", b)
			}
		})
	}
}

// TestRepeatedHeaderLines checks that a header parameter sent on two lines
// reaches the generated parameter binder, which refuses two, as one line.
func TestRepeatedHeaderLines(t *testing.T) {
	t.Parallel()
	h := &recordingHandlers{}
	rec := send(gated(t, h), http.MethodDelete, "/sessions", `{"session_ids":["a"],"session_types":["agent"]}`,
		http.Header{"Prefer": {"respond-async", "return=representation"}})
	if rec.Code != http.StatusNoContent {
		t.Fatalf("status %d (%s), want the handler's 204", rec.Code, rec.Body)
	}
	if p := h.got.Params.Prefer; p == nil || *p != "respond-async, return=representation" {
		t.Errorf("Prefer parameter = %v, want the two lines as one", p)
	}
	if !h.prefs.ReturnRepresentation {
		t.Error("preferences: return=representation not read from the second line")
	}
}

// TestBinder_NumberBeyondFloat64 checks the one validated value that does
// not bind: it is refused as Echo's binder refuses it, whatever JSON media
// type the body came as.
func TestBinder_NumberBeyondFloat64(t *testing.T) {
	t.Parallel()
	e := gated(t, &recordingHandlers{})
	for _, ct := range []string{"application/json", "application/merge-patch+json", ""} {
		rec := send(e, http.MethodPost, "/sessions", `{"metadata":{"x":1e400}}`, http.Header{"Content-Type": {ct}})
		want := "Unmarshal type error: expected=float64, got=number 1e400, field=metadata, offset=23"
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("Content-Type %q: got %d %s, want 400 %q", ct, rec.Code, rec.Body, want)
		}
	}
}
