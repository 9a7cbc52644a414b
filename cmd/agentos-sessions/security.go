package main

import (
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Security is the part of Config that decides who may call the API and
// how long a client may hold a connection.
type Security struct {
	// JWTVerificationKey comes from JWT_VERIFICATION_KEY only, like the
	// security key, so it never shows in a process listing.
	JWTVerificationKey string
	JWTAudience        string
	UserIsolation      bool
	CORSOrigins        []string
	Timeouts           Timeouts
}

// Timeouts bound each phase of a connection, so that slow or endless
// headers, bodies and idle keep-alives cannot hold the server's resources.
type Timeouts struct {
	ReadHeader, Read, Write, Idle time.Duration
}

// securityFlags adds the serve command's security flags to fs, with their
// environment variables as defaults.
func securityFlags(fs *flag.FlagSet, s *Security, getenv func(string) string) error {
	s.JWTVerificationKey = getenv("JWT_VERIFICATION_KEY")
	isolation, err := envBool(getenv, "AGENTOS_USER_ISOLATION")
	if err != nil {
		return err
	}
	fs.StringVar(&s.JWTAudience, "jwt-audience", getenv("JWT_AUDIENCE"), "audience a JWT's aud claim must hold (env JWT_AUDIENCE)")
	fs.BoolVar(&s.UserIsolation, "user-isolation", isolation,
		"confine each JWT caller without agent_os:admin to its own sessions (env AGENTOS_USER_ISOLATION)")
	fs.Func("cors-origins", "comma-separated browser origins allowed to call the API; none turns CORS off (env AGENTOS_CORS_ORIGINS)",
		func(v string) error { s.CORSOrigins = splitList(v); return nil })
	s.CORSOrigins = splitList(getenv("AGENTOS_CORS_ORIGINS"))

	timeouts := []struct {
		field           *time.Duration
		flag, env, what string
		fallback        time.Duration
	}{
		{&s.Timeouts.ReadHeader, "read-header-timeout", "AGENTOS_READ_HEADER_TIMEOUT", "longest time to read a request's headers", 10 * time.Second},
		{&s.Timeouts.Read, "read-timeout", "AGENTOS_READ_TIMEOUT", "longest time to read a whole request", 60 * time.Second},
		{&s.Timeouts.Write, "write-timeout", "AGENTOS_WRITE_TIMEOUT", "longest time to write a response", 120 * time.Second},
		{&s.Timeouts.Idle, "idle-timeout", "AGENTOS_IDLE_TIMEOUT", "longest time a keep-alive connection may stay idle", 120 * time.Second},
	}
	for _, t := range timeouts {
		d := t.fallback
		if v := getenv(t.env); v != "" {
			if d, err = time.ParseDuration(v); err != nil {
				return fmt.Errorf("%s: %q is not a duration such as 30s", t.env, v)
			}
		}
		fs.DurationVar(t.field, t.flag, d, fmt.Sprintf("%s (env %s)", t.what, t.env))
	}
	return nil
}

// check refuses settings that would leave the server open or hanging.
func (s Security) check() error {
	for name, d := range map[string]time.Duration{
		"--read-header-timeout": s.Timeouts.ReadHeader, "--read-timeout": s.Timeouts.Read,
		"--write-timeout": s.Timeouts.Write, "--idle-timeout": s.Timeouts.Idle,
	} {
		if d <= 0 {
			return fmt.Errorf("%s must be positive", name)
		}
	}
	if s.UserIsolation && s.JWTVerificationKey == "" {
		return fmt.Errorf("--user-isolation needs JWT_VERIFICATION_KEY: a caller's user is its token's subject")
	}
	return nil
}

// newHTTPServer serves handler within the configured timeouts.
func newHTTPServer(handler http.Handler, t Timeouts) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
	}
}

func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func envBool(getenv func(string) string, name string) (bool, error) {
	v := getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: %q is not true or false", name, v)
	}
	return b, nil
}
