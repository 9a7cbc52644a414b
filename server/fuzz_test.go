package server_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

var fuzzMethods = []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodPut, http.MethodHead}

// FuzzRequest sends arbitrary requests through the whole stack — routing,
// validation, decoding, handlers — over PostgreSQL and SQLite, and fails on
// any 5xx (a recovered panic is one) or on a response openapi.yaml does not
// document. The corpus is in testdata/fuzz/FuzzRequest; `make fuzz` explores.
func FuzzRequest(f *testing.F) {
	f.Add(uint8(3), "/sessions", "application/json", []byte(`{"session_ids":["a1"],"session_types":["agent"]}`))
	f.Add(uint8(0), "/sessions/%00", "", []byte(nil))
	f.Add(uint8(1), "/sessions", "application/json", []byte(`{"session_id":"a1","user_id":"u","metadata":{"k":[1,{"x":null}]}}`))
	f.Add(uint8(2), "/sessions/a1?user_id=u", "application/json", []byte(`{"summary":{"summary":"s"},"metadata":null}`))
	f.Add(uint8(1), "/sessions/a1/runs?type=team", "application/json", []byte(`{"run_id":"r1","run_data":{"content":"x"}}`))
	f.Add(uint8(0), "/sessions/a1/runs/r1?created_after=1", "", []byte(nil))
	f.Add(uint8(1), "/sessions/a1/rename", "application/json; charset=utf-8", []byte(`{"session_name":"n"}`))
	f.Add(uint8(0), "/sessions?limit=1&page=2&sort_by=updated_at&sort_order=asc&session_name=a", "", []byte(nil))

	servers := map[string]*testkit.API{}
	for name, url := range map[string]string{"postgres": testdb.PostgresURL(f), "sqlite": testdb.SQLiteURL(f)} {
		servers[name] = testkit.NewAPI(f, url, server.Config{MaxBatch: 50})
	}

	f.Fuzz(func(t *testing.T, method uint8, target, contentType string, body []byte) {
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		for name, a := range servers {
			req, err := http.NewRequest(m, "http://127.0.0.1"+target, bytes.NewReader(body))
			if err != nil || req.URL.Path == "" || req.URL.Host != "127.0.0.1" {
				t.Skip("not a request a client could send")
			}
			req.RequestURI = req.URL.RequestURI()
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			rec := httptest.NewRecorder()
			a.Handler.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s: %s %q %q: status %d: %s", name, m, target, body, rec.Code, rec.Body)
			}
			a.CheckResponse(t, req, testkit.Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()})
		}
	})
}
