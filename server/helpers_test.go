package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
)

const jsonCT = "application/json"

func ptr(s string) *string { return &s }

// newStreamingRequest makes a DELETE /sessions whose body length is not
// announced, as a chunked upload's is not.
func newStreamingRequest(body string) *http.Request {
	req := httptest.NewRequest(http.MethodDelete, "/sessions", io.MultiReader(strings.NewReader(body)))
	req.ContentLength = -1
	req.Header.Set("Content-Type", jsonCT)
	return req
}
