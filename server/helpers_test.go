package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/glebarez/sqlite"
	"github.com/labstack/echo/v4"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	agentossessions "github.com/agentos-sessions/agentos-sessions"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// backends runs fn once for PostgreSQL and once for SQLite; newURL gives a
// fresh, empty database of that kind each time it is called.
func backends(t *testing.T, fn func(t *testing.T, newURL func(testing.TB) string)) {
	t.Run("postgres", func(t *testing.T) { fn(t, testdb.PostgresURL) })
	t.Run("sqlite", func(t *testing.T) { fn(t, testdb.SQLiteURL) })
}

// api is a server under test: the full Echo stack from server.NewServer
// over real databases, and direct connections to check their rows.
type api struct {
	t      *testing.T
	e      *echo.Echo
	router routers.Router
	db     map[string]*gorm.DB
}

func testConfig() server.Config {
	return server.Config{MaxBatch: server.DefaultMaxBatch, MaxBodyBytes: server.DefaultMaxBodyBytes}
}

// newAPI serves one database, id "default", at url with the default tables.
func newAPI(t *testing.T, url string, cfg server.Config) *api {
	return newMultiAPI(t, cfg, store.DatabaseConfig{ID: "default", URL: url})
}

func newMultiAPI(t *testing.T, cfg server.Config, dbs ...store.DatabaseConfig) *api {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	catalog, err := store.Open(ctx, dbs, log)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = catalog.Close() })
	e, err := server.NewServer(cfg, catalog, log)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	a := &api{t: t, e: e, router: responseRouter(t), db: make(map[string]*gorm.DB)}
	for _, d := range dbs {
		a.db[d.ID] = openDirect(t, d.URL)
	}
	return a
}

// responseRouter finds operations of openapi.yaml for response validation.
func responseRouter(t testing.TB) routers.Router {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(agentossessions.OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: "/"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	return r
}

func openDirect(t *testing.T, url string) *gorm.DB {
	t.Helper()
	dialect, dsn, err := store.ParseURL(url)
	if err != nil {
		t.Fatalf("parse url: %v", err)
	}
	var dial gorm.Dialector = postgres.Open(dsn)
	if dialect == "sqlite" {
		dial = sqlite.Open(dsn)
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Default.LogMode(logger.Silent)})
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	sqlDB, _ := db.DB()
	t.Cleanup(func() { _ = sqlDB.Close() })
	return db
}

// response is what a request got back.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorBody decodes an error response, failing the test on any other shape.
func (r response) errorBody(t *testing.T) (detail, code string) {
	t.Helper()
	var body struct {
		Detail    *string `json:"detail"`
		ErrorCode *string `json:"error_code"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Detail == nil || body.ErrorCode == nil {
		t.Fatalf("error body %q: want {detail, error_code} (%v)", r.Body, err)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	return *body.Detail, *body.ErrorCode
}

// wantError checks an error response's status, detail and code.
func (r response) wantError(t *testing.T, status int, code, detail string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.Status, status, r.Body)
	}
	gotDetail, gotCode := r.errorBody(t)
	if gotCode != code || gotDetail != detail {
		t.Errorf("error = %q %q, want %q %q", gotCode, gotDetail, code, detail)
	}
}

// do sends a request through the whole stack. headers are name, value pairs.
// Every response to an operation of the document is checked against it.
func (a *api) do(method, target, body string, headers ...string) response {
	a.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body == "" {
		req = httptest.NewRequest(method, target, nil)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return a.serve(req)
}

// checkResponse fails the test when a response differs from what
// openapi.yaml documents for the operation.
func (a *api) checkResponse(req *http.Request, res response) {
	a.t.Helper()
	route, params, err := a.router.FindRoute(req)
	if err != nil {
		return // not an operation of the document
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.Status,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(res.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		a.t.Errorf("%s %s: response %d does not match openapi.yaml: %v", req.Method, req.URL, res.Status, err)
	}
}

// deleteBody is a DELETE /sessions body.
func deleteBody(ids []string, types []string) string {
	b, _ := json.Marshal(map[string][]string{"session_ids": ids, "session_types": types})
	return string(b)
}

// session is a row to seed.
type session struct {
	id, typ string
	user    *string
	runs    int
}

func ptr(s string) *string { return &s }

// seed inserts sessions, each with its runs, into a database's default tables.
func (a *api) seed(dbID string, sessions ...session) {
	a.t.Helper()
	a.seedInto(dbID, store.DefaultTables, sessions...)
}

func (a *api) seedInto(dbID string, tables store.TablePair, sessions ...session) {
	a.t.Helper()
	db := a.db[dbID]
	for _, s := range sessions {
		err := db.Exec(fmt.Sprintf(`INSERT INTO %q (session_id, session_type, user_id, created_at) VALUES (?, ?, ?, 1700000000)`, tables.Sessions),
			s.id, s.typ, s.user).Error
		if err != nil {
			a.t.Fatalf("seed session %s: %v", s.id, err)
		}
		for i := range s.runs {
			err := db.Exec(fmt.Sprintf(`INSERT INTO %q (run_id, session_id, created_at) VALUES (?, ?, 1700000000)`, tables.Runs),
				fmt.Sprintf("%s-run-%d", s.id, i), s.id).Error
			if err != nil {
				a.t.Fatalf("seed run of %s: %v", s.id, err)
			}
		}
	}
}

// counts returns how many sessions with these ids, and how many of their
// runs, a database's tables hold.
func (a *api) counts(dbID string, tables store.TablePair, ids ...string) (sessions, runs int64) {
	a.t.Helper()
	db := a.db[dbID]
	if err := db.Table(tables.Sessions).Where("session_id IN ?", ids).Count(&sessions).Error; err != nil {
		a.t.Fatalf("count sessions: %v", err)
	}
	if err := db.Table(tables.Runs).Where("session_id IN ?", ids).Count(&runs).Error; err != nil {
		a.t.Fatalf("count runs: %v", err)
	}
	return sessions, runs
}

// wantRows checks how many of the given sessions, and of their runs, remain.
func (a *api) wantRows(ids []string, wantSessions, wantRuns int64) {
	a.t.Helper()
	a.wantRowsIn("default", store.DefaultTables, ids, wantSessions, wantRuns)
}

func (a *api) wantRowsIn(dbID string, tables store.TablePair, ids []string, wantSessions, wantRuns int64) {
	a.t.Helper()
	s, r := a.counts(dbID, tables, ids...)
	if s != wantSessions || r != wantRuns {
		a.t.Errorf("%s/%s rows of %v: got %d sessions %d runs, want %d sessions %d runs",
			dbID, tables.Sessions, ids, s, r, wantSessions, wantRuns)
	}
}

// newStreamingRequest makes a DELETE /sessions whose body length is not
// announced, as a chunked upload's is not.
func newStreamingRequest(body string) *http.Request {
	req := httptest.NewRequest(http.MethodDelete, "/sessions", io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	return req
}

// serve sends a prepared request through the whole stack.
func (a *api) serve(req *http.Request) response {
	a.t.Helper()
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	a.checkResponse(req, res)
	return res
}
