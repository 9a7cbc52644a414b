package server_test

import (
	"net/http"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	cfg := server.Config{}
	cfg.SecurityKey = "k"
	a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)
	for _, r := range []struct{ method, target, auth, cache string }{
		{http.MethodGet, "/sessions", "Bearer k", "no-store"},      // success
		{http.MethodGet, "/sessions", "", "no-store"},              // 401
		{http.MethodGet, "/sessions/%00", "Bearer k", "no-store"},  // 422
		{http.MethodGet, "/sessions/nope", "Bearer k", "no-store"}, // 404 from a handler
		{http.MethodGet, "/nowhere", "", "no-store"},               // 404 from the router
		{http.MethodPut, "/sessions", "Bearer k", "no-store"},      // 405
		{http.MethodGet, "/health", "", "no-store"},                // outside the document
		{http.MethodGet, "/openapi.json", "", "no-store"},          // the document
		{http.MethodGet, "/docs", "", "no-store"},                  // a page
		{http.MethodGet, "/redoc", "", "no-store"},                 // a page
		{http.MethodGet, "/docs/nothing.js", "", "no-store"},       // 404 under /docs/
		// Assets: cached, revalidated on every use (TestDocs_Assets).
		{http.MethodGet, "/docs/swagger-ui.css", "", "no-cache"},
		{http.MethodGet, "/redoc/redoc.standalone.js", "", "no-cache"},
	} {
		t.Run(r.method+" "+r.target, func(t *testing.T) {
			t.Parallel()
			res := a.Do(t, r.method, r.target, "", "Authorization", r.auth)
			if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff (status %d)", got, res.Status)
			}
			if got := res.Header.Get("Cache-Control"); got != r.cache {
				t.Errorf("Cache-Control = %q, want %s (status %d)", got, r.cache, res.Status)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	preflight := func(a *testkit.API, origin string) testkit.Response {
		return a.Do(t, http.MethodOptions, "/sessions", "", "Origin", origin,
			"Access-Control-Request-Method", "DELETE", "Access-Control-Request-Headers", "authorization,content-type")
	}
	t.Run("OffByDefault", func(t *testing.T) {
		t.Parallel()
		a := testkit.NewAPI(t, testdb.SQLiteURL(t), server.Config{})
		if got := preflight(a, "https://app.example").Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("preflight Access-Control-Allow-Origin = %q, want none", got)
		}
		if got := a.Do(t, http.MethodGet, "/sessions", "", "Origin", "https://app.example").Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("GET Access-Control-Allow-Origin = %q, want none", got)
		}
	})
	t.Run("AllowList", func(t *testing.T) {
		t.Parallel()
		cfg := server.Config{}
		cfg.SecurityKey = "k"
		cfg.CORSOrigins = []string{"https://app.example"}
		a := testkit.NewAPI(t, testdb.SQLiteURL(t), cfg)
		res := preflight(a, "https://app.example")
		if res.Status != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("allowed preflight: status %d, Allow-Origin %q; want 204 and the origin", res.Status, res.Header.Get("Access-Control-Allow-Origin"))
		}
		if got := res.Header.Get("Access-Control-Allow-Headers"); got == "" {
			t.Error("allowed preflight names no headers")
		}
		if got := preflight(a, "https://evil.example").Header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("other origin's preflight Access-Control-Allow-Origin = %q, want none", got)
		}
		res = a.Do(t, http.MethodGet, "/sessions", "", "Origin", "https://app.example", "Authorization", "Bearer k")
		if res.Status != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Errorf("allowed GET: status %d, Allow-Origin %q", res.Status, res.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}
