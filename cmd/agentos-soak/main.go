// Command agentos-soak drives a fixed-rate mix of creates, runs, lists and
// bulk deletes at agentos-sessions servers on 127.0.0.1, then checks an
// invariant ledger: every session created and not deleted by a successful
// request is still there with all its runs, every session a successful
// request deleted is gone with its runs, and every failed bulk delete left
// all of its sessions or none. It starts the servers itself (--server-bin,
// --replicas, sharing one fresh PostgreSQL schema) or drives running ones
// (--targets).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/agentos-sessions/agentos-sessions/internal/spawn"
	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agentos-soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	targets := fs.String("targets", "", "comma-separated base URLs of running servers (http://127.0.0.1:PORT); instead of --server-bin")
	bin := fs.String("server-bin", "", "agentos-sessions binary to start --replicas of")
	replicas := fs.Int("replicas", 1, "server processes to start, sharing one database")
	dbURL := fs.String("database-url", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"database the started servers share; on PostgreSQL a fresh schema is made in it and dropped after")
	rate := fs.Int("rate", 100, "requests per second")
	duration := fs.Duration("duration", 60*time.Second, "how long to drive the load")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	report, err := soak(ctx, *targets, *bin, *replicas, *dbURL, *rate, *duration, stderr)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "agentos-soak: %v\n", err)
		return 1
	}
	_, _ = fmt.Fprint(stdout, report)
	if report.Lost > 0 || report.Errors() > 0 {
		return 1
	}
	return 0
}

func soak(ctx context.Context, targets, bin string, replicas int, dbURL string, rate int, duration time.Duration, stderr io.Writer) (Report, error) {
	prefix := "soak-" + randomHex(4)
	var bases []string
	if targets != "" {
		bases = strings.Split(targets, ",")
	} else {
		if bin == "" || replicas <= 0 {
			return Report{}, errors.New("give --targets, or --server-bin and a positive --replicas")
		}
		url, drop, err := freshSchema(ctx, dbURL)
		if err != nil {
			return Report{}, err
		}
		defer drop()
		servers, err := startServers(ctx, bin, replicas, url, stderr)
		defer func() {
			if err := stopServers(servers); err != nil {
				_, _ = fmt.Fprintf(stderr, "agentos-soak: %v\n", err)
			}
		}()
		if err != nil {
			return Report{}, err
		}
		for _, s := range servers {
			bases = append(bases, s.URL)
		}
	}
	if err := loopbackOnly(bases); err != nil {
		return Report{}, err
	}
	_, _ = fmt.Fprintf(stderr, "agentos-soak: %d/s for %s against %s\n", rate, duration, strings.Join(bases, " "))
	return Run(ctx, Load{Targets: bases, Rate: rate, Duration: duration, Prefix: prefix})
}

// freshSchema makes a schema of its own in a PostgreSQL database and returns
// a URL whose connections use it, and a function dropping it. Other URLs
// are returned as they are.
func freshSchema(ctx context.Context, raw string) (string, func(), error) {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return raw, func() {}, nil
	}
	schemaURL, drop, err := testdb.NewSchema(ctx, raw, "soak_")
	if err != nil {
		return "", nil, err
	}
	return schemaURL, func() { _ = drop(context.Background()) }, nil
}

// startServers starts n servers over one database, each on a port of its
// own, and returns once each listens.
func startServers(ctx context.Context, bin string, n int, dbURL string, stderr io.Writer) ([]*spawn.Server, error) {
	var servers []*spawn.Server
	for i := range n {
		s, err := spawn.Start(ctx, bin, spawn.Options{
			Args: append(testdb.ServeArgs(dbURL), "--db-application-name", fmt.Sprintf("agentos-soak-%d", i)),
			Log:  stderr,
		})
		if err != nil {
			return servers, err
		}
		servers = append(servers, s)
	}
	return servers, nil
}

// stopServers sends SIGTERM to every server and reports any that did not
// exit 0.
func stopServers(servers []*spawn.Server) error {
	var errs []error
	for _, s := range servers {
		_ = s.Signal(syscall.SIGTERM)
	}
	for _, s := range servers {
		if err := s.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("server %s: %w", s.URL, err))
		}
	}
	return errors.Join(errs...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
