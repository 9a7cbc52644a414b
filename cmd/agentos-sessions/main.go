// Command agentos-sessions serves the AgentOS sessions API over PostgreSQL
// or an embedded SQLite database, on agno's own tables, and brings earlier
// layouts onto agno's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/store"
)

const usage = `agentos-sessions serves the AgentOS sessions API.

Usage:
  agentos-sessions serve   [flags]   run the HTTP server (creating agno's tables where there are none)
  agentos-sessions migrate [flags]   bring earlier layouts onto agno's, build recommended indexes, and exit
  agentos-sessions seed    [flags]   fill a database with demo sessions and runs
  agentos-sessions version           print the version and exit

Run "agentos-sessions COMMAND -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command and returns the process exit code. What a
// command is asked for (the version, migrate --dry-run's plan) goes to
// stdout, so that a shell can capture it; logs, help and errors go to
// stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		_, _ = fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	command := args[0]
	if command == "version" {
		return printVersion(args[1:], stdout, stderr)
	}
	if command != "serve" && command != "migrate" && command != "seed" {
		_, _ = fmt.Fprintf(stderr, "agentos-sessions: unknown command %q\n\n%s", command, usage)
		return 2
	}
	cfg, err := parseConfig(command, args[1:], getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "agentos-sessions %s: %v\n", command, err)
		return 2
	}
	logger := newLogger(cfg, stderr)
	switch command {
	case "migrate":
		err = migrate(ctx, cfg, logger, stdout)
	case "seed":
		err = seed(ctx, cfg, logger, stderr)
	default:
		err = serve(ctx, cfg, logger)
	}
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "agentos-sessions %s: %v\n", command, err)
		return 1
	}
	return 0
}

// migrate brings the configured databases onto agno's layout
// (store.Upgrade); --dry-run prints the plan on out.
func migrate(ctx context.Context, cfg Config, logger *slog.Logger, out io.Writer) error {
	dbs, err := cfg.Databases()
	if err != nil {
		return err
	}
	return store.Upgrade(ctx, dbs, store.ConnSettings{}, store.UpgradeOptions{
		DryRun: cfg.DryRun, Out: out, ServerApplicationName: cfg.Conn.ApplicationName,
	}, logger)
}

// serve runs the server until ctx ends. It logs "listening" with the bound
// address once, when it accepts requests: with --addr 127.0.0.1:0 that line
// is how a caller learns the port.
func serve(ctx context.Context, cfg Config, logger *slog.Logger) error {
	dbs, err := cfg.Databases()
	if err != nil {
		return err
	}
	catalog, err := store.OpenWith(ctx, dbs, cfg.Conn, logger)
	if err != nil {
		return err
	}
	defer func() { _ = catalog.Close() }()

	e, err := server.NewServer(server.Config{
		SecurityKey:        cfg.SecurityKey,
		MaxBatch:           cfg.MaxBatch,
		MaxBodyBytes:       cfg.MaxBodyBytes,
		JWTVerificationKey: cfg.JWTVerificationKey,
		JWTAudience:        cfg.JWTAudience,
		UserIsolation:      cfg.UserIsolation,
		CORSOrigins:        cfg.CORSOrigins,
	}, catalog, logger)
	if err != nil {
		return err
	}
	if cfg.SecurityKey == "" && cfg.JWTVerificationKey == "" {
		logger.Warn("OS_SECURITY_KEY is not set, nor JWT_VERIFICATION_KEY: the API is open to anyone who can reach it")
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Requests run under base, so that the ones still running when the
	// shutdown timeout ends can be cancelled: their transactions roll back.
	base, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	srv := newHTTPServer(e, cfg.Timeouts)
	srv.BaseContext = func(net.Listener) context.Context { return base }
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "databases", len(dbs))

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		cancelRequests()
		return fmt.Errorf("shut down: requests still running after %s were cancelled: %w", cfg.ShutdownTimeout, err)
	}
	return nil
}
