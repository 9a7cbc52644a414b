package main

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseConfig_Security(t *testing.T) {
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
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"IsolationWithoutJWT", []string{"--user-isolation"}, map[string]string{"OS_SECURITY_KEY": "k"}, "needs JWT_VERIFICATION_KEY"},
		{"BadIsolationEnv", nil, map[string]string{"AGENTOS_USER_ISOLATION": "maybe"}, `AGENTOS_USER_ISOLATION: "maybe" is not true or false`},
		{"BadTimeoutEnv", nil, map[string]string{"AGENTOS_READ_TIMEOUT": "soon"}, `AGENTOS_READ_TIMEOUT: "soon" is not a duration`},
		{"ZeroTimeout", []string{"--idle-timeout", "0s"}, nil, "--idle-timeout must be positive"},
		{"NoJWTKeyFlag", []string{"--jwt-verification-key", "x"}, nil, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig("serve", tt.args, env(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
