package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
)

// commandSummaries head each command's --help.
var commandSummaries = map[string]string{
	"serve":   "Serve the API (applying pending migrations first).",
	"migrate": "Bring the configured databases onto agno's layout and exit: create missing tables, convert this server's earlier layouts (moving them into the configured schema), and build the recommended indexes (on PostgreSQL concurrently). Back up first: there is no way back.",
	"seed":    "Fill a database with realistic demo sessions of every type, with runs.",
}

// commandUsage prints a command's summary and its flags with their
// environment variables and defaults.
func commandUsage(fs *flag.FlagSet, command string) func() {
	return func() {
		w := fs.Output()
		_, _ = fmt.Fprintf(w, "Usage: agentos-sessions %s [flags]\n\n%s\n\n", command, commandSummaries[command])
		_, _ = fmt.Fprintf(w, "Flags (a flag wins over its environment variable, which wins over the default):\n")
		fs.PrintDefaults()
		if command == "serve" {
			// Secrets are never flags, so that they do not show in a
			// process listing.
			_, _ = fmt.Fprintf(w, "\nEnvironment only (secrets):\n"+
				"  OS_SECURITY_KEY\n    \tbearer token every /sessions route accepts, as an admin\n"+
				"  JWT_VERIFICATION_KEY\n    \tHS256 secret or PEM public key (RSA, ECDSA, Ed25519) that verifies JWTs with scopes\n"+
				"Unset both, the API is open to anyone who can reach it.\n")
		}
	}
}

func addLogFlags(fs *flag.FlagSet, cfg *Config, getenv func(string) string) {
	fs.StringVar(&cfg.LogFormat, "log-format", envOr(getenv, "AGENTOS_LOG_FORMAT", "text"), "log format: text or json (env AGENTOS_LOG_FORMAT)")
	fs.StringVar(&cfg.LogLevel, "log-level", envOr(getenv, "AGENTOS_LOG_LEVEL", "info"), "least severe level logged: debug, info, warn or error (env AGENTOS_LOG_LEVEL)")
}

// checkExtraFlags checks the flags added to the ones every command shares.
func checkExtraFlags(command string, cfg Config) error {
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, not %q", cfg.LogFormat)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("--log-level must be debug, info, warn or error, not %q", cfg.LogLevel)
	}
	if command == "seed" && (cfg.Seed.Sessions < 0 || cfg.Seed.Runs < 0) {
		return errors.New("--sessions and --runs must not be negative")
	}
	return nil
}

// newLogger builds the process's structured logger from checked flags.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // checked by checkExtraFlags
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// printVersion prints the module version and VCS revision the binary was
// built from, as the Go toolchain recorded them, on stdout; usage and
// errors go to stderr.
func printVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("agentos-sessions version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprintf(stderr, "Usage: agentos-sessions version\n\nPrint the version, VCS revision and Go version of this binary on stdout.\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "agentos-sessions version: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	_, _ = fmt.Fprintln(stdout, versionString())
	return 0
}

func versionString() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "agentos-sessions (unknown version)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	out := "agentos-sessions " + version
	if revision != "" {
		out += " " + revision + modified
	}
	return out + " " + info.GoVersion
}
