package main

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestParseConfig_Security(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		"JWT_VERIFICATION_KEY":        "secret",
		"JWT_AUDIENCE":                "agentos",
		"AGENTOS_USER_ISOLATION":      "true",
		"AGENTOS_CORS_ORIGINS":        "https://a.example, https://b.example",
		"AGENTOS_READ_HEADER_TIMEOUT": "3s",
		"AGENTOS_IDLE_TIMEOUT":        "1m",
	}
	cfg, err := parseConfig("serve", nil, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Timeouts{ReadHeader: 3 * time.Second, Read: 60 * time.Second, Write: 120 * time.Second, Idle: time.Minute}
	if cfg.JWTVerificationKey != "secret" || cfg.JWTAudience != "agentos" || !cfg.UserIsolation ||
		!slices.Equal(cfg.CORSOrigins, []string{"https://a.example", "https://b.example"}) || cfg.Timeouts != want {
		t.Errorf("from env: got %+v", cfg.Security)
	}
	cfg, err = parseConfig("serve", []string{"--read-timeout", "5s", "--write-timeout", "7s", "--jwt-audience", "x",
		"--cors-origins", "https://c.example", "--user-isolation=false"}, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timeouts.Read != 5*time.Second || cfg.Timeouts.Write != 7*time.Second || cfg.JWTAudience != "x" ||
		!slices.Equal(cfg.CORSOrigins, []string{"https://c.example"}) || cfg.UserIsolation {
		t.Errorf("flags must win over env: got %+v", cfg.Security)
	}
	srv := newHTTPServer(nil, cfg.Timeouts)
	if srv.ReadHeaderTimeout != 3*time.Second || srv.ReadTimeout != 5*time.Second || srv.WriteTimeout != 7*time.Second || srv.IdleTimeout != time.Minute {
		t.Errorf("server timeouts = %v %v %v %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
	cfg, err = parseConfig("serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CORSOrigins != nil || cfg.UserIsolation || cfg.Timeouts.ReadHeader != 10*time.Second {
		t.Errorf("defaults: got %+v", cfg.Security)
	}
}

func TestParseConfig_SecurityErrors(t *testing.T) {
	t.Parallel()
	wantParseErrors(t, []parseErrorCase{
		{"IsolationWithoutJWT", []string{"--user-isolation"}, map[string]string{"OS_SECURITY_KEY": "k"}, "needs JWT_VERIFICATION_KEY"},
		{"BadIsolationEnv", nil, map[string]string{"AGENTOS_USER_ISOLATION": "maybe"}, `AGENTOS_USER_ISOLATION: "maybe" is not true or false`},
		{"BadTimeoutEnv", nil, map[string]string{"AGENTOS_READ_TIMEOUT": "soon"}, `AGENTOS_READ_TIMEOUT: "soon" is not a duration`},
		{"ZeroTimeout", []string{"--idle-timeout", "0s"}, nil, "--idle-timeout must be positive"},
		{"NoJWTKeyFlag", []string{"--jwt-verification-key", "x"}, nil, "flag provided but not defined"},
	})
}

// TestRun_SecuritySettings checks that serve hands every security setting
// to the server: JWT key and audience, isolation and CORS.
func TestRun_SecuritySettings(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"JWT_VERIFICATION_KEY": "secret", "AGENTOS_USER_ISOLATION": "true"}
	s := startServe(t, vars, "--database-url", "sqlite::memory:", "--jwt-audience", "agentos", "--cors-origins", "https://app.example")
	token := func(claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + s
	}
	scopes := []string{"sessions:read"}
	tests := []struct {
		name, auth string
		status     int
		detail     string
	}{
		{"NoToken", "", 401, "Authorization header required"},
		{"NoAudience", token(jwt.MapClaims{"sub": "u", "scopes": scopes}), 401, "Invalid token audience"},
		{"NoSubject", token(jwt.MapClaims{"aud": "agentos", "scopes": scopes}), 401, "Token has no subject"},
		{"Good", token(jwt.MapClaims{"aud": "agentos", "sub": "u", "scopes": scopes}), 200, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/sessions", nil)
		req.Header.Set("Authorization", tt.auth)
		req.Header.Set("Origin", "https://app.example")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != tt.status || !strings.Contains(string(body), tt.detail) {
			t.Errorf("%s: got %d %s, want %d %q", tt.name, res.StatusCode, body, tt.status, tt.detail)
		}
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example" {
			t.Errorf("%s: Access-Control-Allow-Origin = %q, want the allowed origin", tt.name, got)
		}
	}
	s.stop()
	if code := <-s.exit; code != 0 {
		t.Errorf("exit code after shutdown = %d (%s)", code, s.log)
	}
}
