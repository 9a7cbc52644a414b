package main

import (
	"io"
	"testing"
	"time"

	"github.com/agentos-sessions/agentos-sessions/store"
)

func TestParseConfig_Reliability(t *testing.T) {
	t.Parallel()
	cfg, err := parseConfig("serve", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Reliability{ShutdownTimeout: 30 * time.Second, Conn: store.ConnSettings{
		ApplicationName: "agentos-sessions", StatementTimeout: 30 * time.Second, MaxOpenConns: 20}}
	if cfg.Reliability != want {
		t.Errorf("defaults: got %+v, want %+v", cfg.Reliability, want)
	}
	vars := map[string]string{"AGENTOS_SHUTDOWN_TIMEOUT": "5s", "AGENTOS_DB_STATEMENT_TIMEOUT": "0", "AGENTOS_DB_APPLICATION_NAME": "blue", "AGENTOS_DB_MAX_CONNS": "7"}
	cfg, err = parseConfig("serve", []string{"--shutdown-timeout", "9s", "--db-application-name", "green"}, env(vars), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want = Reliability{ShutdownTimeout: 9 * time.Second, Conn: store.ConnSettings{ApplicationName: "green", MaxOpenConns: 7}}
	if cfg.Reliability != want {
		t.Errorf("flags over env: got %+v, want %+v", cfg.Reliability, want)
	}
	wantParseErrors(t, []parseErrorCase{
		{"ZeroShutdownTimeout", []string{"--shutdown-timeout", "0s"}, nil, "must be positive"},
		{"NegativeStatementTimeout", []string{"--db-statement-timeout", "-1s"}, nil, "not negative"},
		{"ZeroMaxConns", []string{"--db-max-conns", "0"}, nil, "must be positive"},
		{"BadShutdownEnv", nil, map[string]string{"AGENTOS_SHUTDOWN_TIMEOUT": "soon"}, `AGENTOS_SHUTDOWN_TIMEOUT: "soon" is not a duration`},
	})
}
