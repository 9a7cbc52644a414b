package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/agentos-sessions/agentos-sessions/server"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// Config is everything the commands read from flags, the environment and
// the optional YAML file. Flags win over the environment, the environment
// over defaults.
type Config struct {
	Addr        string
	DatabaseURL string
	DBID        string
	// DBSchema is the PostgreSQL schema of the --database-url database;
	// empty means agno's default, ai.
	DBSchema     string
	ConfigFile   string
	MaxBatch     int
	MaxBodyBytes int64
	// SecurityKey comes from OS_SECURITY_KEY only, so it never shows in a
	// process listing.
	SecurityKey string
	LogFormat   string // text or json
	LogLevel    string // debug, info, warn or error
	// Seed is what the seed command creates.
	Seed SeedConfig
	// DryRun makes migrate print what it would do, and do nothing.
	DryRun bool
	Reliability
	Security
}

const defaultDatabaseURL = "sqlite://agentos.db"

// parseConfig reads the flags of a command; getenv supplies the environment.
func parseConfig(command string, args []string, getenv func(string) string, usage io.Writer) (Config, error) {
	// Each command reads only the environment variables its --help names:
	// a malformed AGENTOS_MAX_BATCH must not stop a seed.
	var cfg Config
	checkReliability := func() error { return nil }
	fs := flag.NewFlagSet("agentos-sessions "+command, flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.Usage = commandUsage(fs, command)
	if command == "serve" {
		cfg.SecurityKey = getenv("OS_SECURITY_KEY")
		maxBatch, err := envInt(getenv, "AGENTOS_MAX_BATCH", server.DefaultMaxBatch)
		if err != nil {
			return cfg, err
		}
		maxBody, err := envInt(getenv, "AGENTOS_MAX_BODY_BYTES", server.DefaultMaxBodyBytes)
		if err != nil {
			return cfg, err
		}
		fs.StringVar(&cfg.Addr, "addr", envOr(getenv, "AGENTOS_ADDR", "127.0.0.1:7777"), "address to listen on (env AGENTOS_ADDR)")
		fs.IntVar(&cfg.MaxBatch, "max-batch", maxBatch, "most session ids one bulk delete may name (env AGENTOS_MAX_BATCH)")
		fs.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", int64(maxBody), "largest request body accepted, in bytes (env AGENTOS_MAX_BODY_BYTES)")
		if checkReliability, err = reliabilityFlags(fs, &cfg.Reliability, getenv); err != nil {
			return cfg, err
		}
		if err := securityFlags(fs, &cfg.Security, getenv); err != nil {
			return cfg, err
		}
	}
	fs.StringVar(&cfg.DatabaseURL, "database-url", getenv("DATABASE_URL"),
		"postgres://…, postgresql://…, sqlite://PATH or sqlite::memory: (env DATABASE_URL; default "+defaultDatabaseURL+")")
	fs.StringVar(&cfg.DBID, "db-id", envOr(getenv, "AGENTOS_DB_ID", "default"), "id of the database given by --database-url (env AGENTOS_DB_ID)")
	fs.StringVar(&cfg.DBSchema, "db-schema", getenv("AGENTOS_DB_SCHEMA"),
		"PostgreSQL schema of agno's tables in the --database-url database; not for SQLite (env AGENTOS_DB_SCHEMA; default "+store.DefaultSchema+")")
	fs.StringVar(&cfg.ConfigFile, "config", getenv("AGENTOS_CONFIG"), "YAML file listing several databases (env AGENTOS_CONFIG)")
	addLogFlags(fs, &cfg, getenv)
	if command == "seed" {
		if err := addSeedFlags(fs, &cfg.Seed, getenv); err != nil {
			return cfg, err
		}
	}
	if command == "migrate" {
		fs.BoolVar(&cfg.DryRun, "dry-run", false, "print what migrate would do, refusals included, and change nothing")
		fs.StringVar(&cfg.Conn.ApplicationName, "db-application-name", envOr(getenv, "AGENTOS_DB_APPLICATION_NAME", store.DefaultApplicationName),
			"application_name of the servers' PostgreSQL connections: migrate refuses while one is open (env AGENTOS_DB_APPLICATION_NAME)")
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if err := checkExtraFlags(command, cfg); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if command == "serve" && (cfg.MaxBatch <= 0 || cfg.MaxBodyBytes <= 0) {
		return cfg, errors.New("--max-batch and --max-body-bytes must be positive")
	}
	if err := checkReliability(); err != nil {
		return cfg, err
	}
	if command == "serve" {
		if err := cfg.Security.check(); err != nil {
			return cfg, err
		}
	}
	if cfg.ConfigFile != "" && cfg.DatabaseURL != "" {
		return cfg, errors.New("give either --config or --database-url, not both")
	}
	if cfg.ConfigFile != "" && cfg.DBSchema != "" {
		return cfg, errors.New("--db-schema is for --database-url; with --config, give each database its schema: in the file")
	}
	return cfg, nil
}

// Databases lists the databases the configuration names.
func (c Config) Databases() ([]store.DatabaseConfig, error) {
	if c.ConfigFile == "" {
		url := c.DatabaseURL
		if url == "" {
			url = defaultDatabaseURL
		}
		return []store.DatabaseConfig{{ID: c.DBID, URL: url, Schema: c.DBSchema}}, nil
	}
	data, err := os.ReadFile(c.ConfigFile)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var file struct {
		Databases []store.DatabaseConfig `yaml:"databases"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("read config %s: %w", c.ConfigFile, err)
	}
	if len(file.Databases) == 0 {
		return nil, fmt.Errorf("read config %s: no databases listed", c.ConfigFile)
	}
	return file.Databases, nil
}

func envOr(getenv func(string) string, name, fallback string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return fallback
}

func envInt(getenv func(string) string, name string, fallback int) (int, error) {
	v := getenv(name)
	if v == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", name, v)
	}
	return n, nil
}
