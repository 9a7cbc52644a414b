package testkit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"gorm.io/gorm"

	agentossessions "github.com/agentos-sessions/agentos-sessions"
	"github.com/agentos-sessions/agentos-sessions/apierr"
)

// API is a server under test: the full stack from server.NewServer over
// real databases, and direct connections to check their rows.
type API struct {
	// Handler is the server, for httptest.NewServer or ServeHTTP.
	Handler http.Handler
	// DB holds a direct connection to each database, by its id.
	DB     map[string]*gorm.DB
	router routers.Router
}

// Listen serves the API on a loopback port until the test ends and returns
// its base URL.
func (a *API) Listen(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

// Response is what a request got back.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request through the whole stack; headers are name, value
// pairs. Every response to an operation of the document is checked
// against openapi.yaml.
func (a *API) Do(t testing.TB, method, target, body string, headers ...string) Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return a.Serve(t, req)
}

// Serve sends a prepared request through the whole stack, and checks the
// response as Do does.
func (a *API) Serve(t testing.TB, req *http.Request) Response {
	t.Helper()
	rec := httptest.NewRecorder()
	a.Handler.ServeHTTP(rec, req)
	res := Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	a.CheckResponse(t, req, res)
	return res
}

// CheckResponse fails the test when a response differs from what
// openapi.yaml documents for the operation.
func (a *API) CheckResponse(t testing.TB, req *http.Request, res Response) {
	t.Helper()
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
		t.Errorf("%s %s: response %d does not match openapi.yaml: %v", req.Method, req.URL, res.Status, err)
	}
}

// Document is openapi.yaml, loaded, for a test to read.
func Document(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(agentossessions.OpenAPI)
	if err != nil {
		t.Fatalf("testkit: load openapi.yaml: %v", err)
	}
	return doc
}

// responseRouter finds operations of openapi.yaml for response validation.
func responseRouter(t testing.TB) routers.Router {
	t.Helper()
	doc := Document(t)
	doc.Servers = openapi3.Servers{{URL: "/"}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("testkit: router: %v", err)
	}
	return r
}

// ErrorBody decodes an error response, failing the test on any other
// shape: both members of apierr.Body must be there.
func (r Response) ErrorBody(t testing.TB) (detail, code string) {
	t.Helper()
	var members map[string]json.RawMessage
	var body apierr.Body
	err := json.Unmarshal(r.Body, &members)
	if err == nil {
		err = json.Unmarshal(r.Body, &body)
	}
	if err != nil || !isString(members["detail"]) || !isString(members["error_code"]) {
		t.Fatalf("error body %q: want {detail, error_code} (%v)", r.Body, err)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want application/json", ct)
	}
	return body.Detail, body.ErrorCode
}

func isString(v json.RawMessage) bool { return len(v) > 0 && v[0] == '"' }

// WantError checks an error response's status, detail and code.
func (r Response) WantError(t testing.TB, status int, code, detail string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d (body %s)", r.Status, status, r.Body)
	}
	gotDetail, gotCode := r.ErrorBody(t)
	if gotCode != code || gotDetail != detail {
		t.Errorf("error = %q %q, want %q %q", gotCode, gotDetail, code, detail)
	}
}

// DeleteBody is a DELETE /sessions body.
func DeleteBody(ids []string, types []string) string {
	b, _ := json.Marshal(map[string][]string{"session_ids": ids, "session_types": types})
	return string(b)
}
