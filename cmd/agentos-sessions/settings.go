package main

import (
	"flag"
	"fmt"
	"time"

	"github.com/agentos-sessions/agentos-sessions/store"
)

// Defaults of the serve flags that bound time and connections.
const (
	defaultShutdownTimeout  = 30 * time.Second
	defaultStatementTimeout = 30 * time.Second
)

// Reliability is the part of Config that bounds how long requests, shutdown
// and database statements may take, and how the server's PostgreSQL
// connections are pooled and named.
type Reliability struct {
	ShutdownTimeout time.Duration
	Conn            store.ConnSettings
}

// reliabilityFlags registers serve's flags for r, defaulted from the
// environment. It returns a check to run after parsing.
func reliabilityFlags(fs *flag.FlagSet, r *Reliability, getenv func(string) string) (func() error, error) {
	shutdown, err := envDuration(getenv, "AGENTOS_SHUTDOWN_TIMEOUT", defaultShutdownTimeout)
	if err != nil {
		return nil, err
	}
	statement, err := envDuration(getenv, "AGENTOS_DB_STATEMENT_TIMEOUT", defaultStatementTimeout)
	if err != nil {
		return nil, err
	}
	maxConns, err := envInt(getenv, "AGENTOS_DB_MAX_CONNS", store.DefaultMaxOpenConns)
	if err != nil {
		return nil, err
	}
	fs.DurationVar(&r.ShutdownTimeout, "shutdown-timeout", shutdown,
		"how long in-flight requests may run after SIGTERM (env AGENTOS_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&r.Conn.StatementTimeout, "db-statement-timeout", statement,
		"PostgreSQL statement_timeout of every connection; 0 keeps the server's (env AGENTOS_DB_STATEMENT_TIMEOUT)")
	fs.StringVar(&r.Conn.ApplicationName, "db-application-name", envOr(getenv, "AGENTOS_DB_APPLICATION_NAME", store.DefaultApplicationName),
		"application_name of the PostgreSQL connections (env AGENTOS_DB_APPLICATION_NAME)")
	fs.IntVar(&r.Conn.MaxOpenConns, "db-max-conns", maxConns,
		"most connections to each PostgreSQL database (env AGENTOS_DB_MAX_CONNS)")
	return func() error {
		if r.ShutdownTimeout <= 0 || r.Conn.StatementTimeout < 0 || r.Conn.MaxOpenConns <= 0 {
			return fmt.Errorf("--shutdown-timeout and --db-max-conns must be positive, --db-statement-timeout not negative")
		}
		return nil
	}, nil
}

func envDuration(getenv func(string) string, name string, fallback time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return fallback, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration such as 30s", name, v)
	}
	return d, nil
}
