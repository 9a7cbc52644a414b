// Command agentos-bench measures DELETE /sessions against the floor under
// it: the same delete done directly in SQL. It spawns the agentos-sessions
// binary on a database of its own (a fresh PostgreSQL schema, a SQLite file
// in a temporary directory), seeds twin data sets, times the HTTP request
// and the raw statement in interleaved rounds, and prints medians, their
// ratio and the server's peak RSS. It then writes the tables into
// BENCHMARKS.md between markers, keeping the rest of that file.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/agentos-sessions/agentos-sessions/internal/testdb"
)

// options is what the command line chooses.
type options struct {
	serverBin   string
	postgresURL string
	backends    []string
	batches     []int
	rounds      int
	smallRounds int
	scale       []int
	scaleRounds int
	runsPer     int
	clients     int
	perClient   int
	out         string
	// only is "deletes", "lists" or "" for both sections.
	only         string
	listSessions int
	listManyRuns int
	listBigRuns  int
	listRounds   int
	listKeep     bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "agentos-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	started := time.Now().UTC()
	machine := describeMachine(ctx, opts)
	_, _ = fmt.Fprint(stdout, machine)

	if opts.only != "deletes" {
		listStarted := time.Now().UTC()
		r, err := lists(ctx, opts, stdout)
		if err != nil {
			return fmt.Errorf("lists: %w", err)
		}
		text := renderLists(r, machine, listStarted, time.Now().UTC())
		_, _ = fmt.Fprint(stdout, "\n"+text)
		if opts.out != "" {
			if err := writeSection(opts.out, listsBeginMarker, listsEndMarker, text); err != nil {
				return err
			}
		}
	}
	if opts.only == "lists" {
		return nil
	}
	var reports []*report
	for _, name := range opts.backends {
		be, err := openBackend(ctx, name, opts)
		if err != nil {
			return err
		}
		r, err := runBackend(ctx, be, opts, stdout)
		be.close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		reports = append(reports, r)
	}
	text := renderAll(machine, started, time.Now().UTC(), reports)
	_, _ = fmt.Fprint(stdout, "\n"+text)
	if opts.out == "" {
		return nil
	}
	return writeReport(opts.out, text)
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("agentos-bench", flag.ContinueOnError)
	var o options
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		base = testdb.DefaultPostgresURL
	}
	var backends, batches, scale string
	fs.StringVar(&o.serverBin, "server", "bin/agentos-sessions", "agentos-sessions binary to spawn")
	fs.StringVar(&o.postgresURL, "postgres", base, "PostgreSQL server; the bench creates and drops a schema of its own")
	fs.StringVar(&backends, "backends", "postgres,sqlite", "backends to measure")
	fs.StringVar(&batches, "batches", "1,100,10000", "bulk batch sizes")
	fs.IntVar(&o.rounds, "rounds", 10, "interleaved rounds per bulk batch size")
	fs.IntVar(&o.smallRounds, "small-rounds", 30, fmt.Sprintf("interleaved rounds per bulk batch size of %d ids or fewer", smallBatch))
	fs.StringVar(&scale, "scale", "1000,10000,100000", "batch sizes of the scale run")
	fs.IntVar(&o.scaleRounds, "scale-rounds", 2, "interleaved rounds per scale batch size")
	fs.IntVar(&o.runsPer, "runs", 10, "runs per session in the bulk runs (the scale run uses 2)")
	fs.IntVar(&o.clients, "clients", 32, "concurrent clients of the single-id run")
	fs.IntVar(&o.perClient, "per-client", 50, "single-id deletes each client sends")
	fs.StringVar(&o.out, "out", "BENCHMARKS.md", "file to write the tables into (empty: stdout only)")
	fs.StringVar(&o.only, "only", "", "run one section only: deletes or lists")
	fs.IntVar(&o.listSessions, "list-sessions", 1_000_000, "sessions of the list section")
	fs.IntVar(&o.listManyRuns, "list-many-runs", 5000, "runs of each of the list section's ten long sessions")
	fs.IntVar(&o.listBigRuns, "list-big-runs", 2000, "runs of 256 kB of the list section's largest session")
	fs.IntVar(&o.listRounds, "list-rounds", 30, "interleaved rounds per request of the list section")
	fs.BoolVar(&o.listKeep, "list-keep", false, "keep the list section's seeded schema and print its URL, to read plans on it")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	o.backends = strings.Split(backends, ",")
	if o.batches, err = parseInts(batches); err != nil {
		return o, fmt.Errorf("-batches: %w", err)
	}
	if o.scale, err = parseInts(scale); err != nil {
		return o, fmt.Errorf("-scale: %w", err)
	}
	if o.only != "" && o.only != "deletes" && o.only != "lists" {
		return o, fmt.Errorf("-only: %q is not deletes or lists", o.only)
	}
	if o.listSessions < 40 || o.listManyRuns < 1 || o.listBigRuns < 1 || o.listRounds < 1 {
		return o, fmt.Errorf("-list-sessions must be at least 40, the other list sizes positive")
	}
	if o.rounds < 1 || o.smallRounds < 1 || o.scaleRounds < 1 || o.clients < 1 || o.perClient < 1 {
		return o, fmt.Errorf("rounds, clients and per-client must be positive")
	}
	return o, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}
