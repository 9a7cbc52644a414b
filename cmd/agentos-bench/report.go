package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Markers around the part of BENCHMARKS.md this program owns.
const (
	beginMarker = "<!-- agentos-bench:begin (written by `make bench-report`; edits inside are lost) -->"
	endMarker   = "<!-- agentos-bench:end -->"
)

// describeMachine says what the numbers were measured on, including how
// busy the machine already was.
func describeMachine(ctx context.Context, opts options) string {
	var b strings.Builder
	cpu := "unknown CPU"
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(info), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	fmt.Fprintf(&b, "- Machine: %d cores (%s), %s, %s/%s\n", runtime.NumCPU(), cpu, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(&b, "- Load average at start: %s (1, 5, 15 min; above 0 means the run shared the cores)\n", strings.Join(strings.Fields(string(load))[:3], " "))
	}
	if slices.Contains(opts.backends, "postgres") {
		if conn, err := pgx.Connect(ctx, opts.postgresURL); err == nil {
			var version, fsync string
			var others int
			_ = conn.QueryRow(ctx, "SELECT current_setting('server_version'), current_setting('fsync'), (SELECT count(*) - 1 FROM pg_stat_activity WHERE backend_type = 'client backend')").Scan(&version, &fsync, &others)
			_ = conn.Close(ctx)
			fmt.Fprintf(&b, "- PostgreSQL %s on loopback, fsync=%s, %d other client connections at start\n", version, fsync, others)
		}
	}
	fmt.Fprintf(&b, "- SQLite: the server's embedded default (modernc.org/sqlite via glebarez), WAL, foreign keys on\n")
	return b.String()
}

func renderAll(machine string, started, finished time.Time, reports []*report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run of %s, %s to %s UTC.\n\n", started.Format("2006-01-02"), started.Format("15:04"), finished.Format("15:04"))
	b.WriteString(machine)
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(&b, "- Load average at end: %s\n", strings.Join(strings.Fields(string(load))[:3], " "))
	}
	for _, r := range reports {
		fmt.Fprintf(&b, "\n### %s\n\n", r.backend)
		fmt.Fprintf(&b, "Bulk: sessions × %d runs, median of %d interleaved rounds (%d for batches of %d ids or fewer); HTTP is the spawned server over loopback, SQL is one `DELETE … WHERE session_id = ANY($1)` (SQLite: `IN (SELECT value FROM json_each(?))`) in a transaction; RSS is the server's peak during the HTTP requests of that size.\n\n", r.bulkRuns, r.rounds, r.smallRounds, smallBatch)
		writeBulk(&b, r.bulk)
		fmt.Fprintf(&b, "\nThe same batches with run dicts of agno's size (about 2 kB: content, input, metrics, system, user and assistant messages, of random text):\n\n")
		writeBulk(&b, r.bulkAgno)
		fmt.Fprintf(&b, "\nScale: sessions × %d runs, median of %d interleaved rounds; one request each.\n\n", r.scaleRuns, r.scaleRounds)
		writeBulk(&b, r.scale)
		fmt.Fprintf(&b, "\nConcurrency: %d clients, %d single-id deletes each (sessions × 2 runs), two rounds with the order swapped.\n\n", r.clients, r.perClient)
		b.WriteString("| path | requests | errors | req/s | p50 | p99 |\n|---|---:|---:|---:|---:|---:|\n")
		for _, c := range r.concurrency {
			fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %s | %s |\n", c.name, c.requests, c.errors,
				float64(c.requests)/c.elapsed.Seconds(), ms(c.p50), ms(c.p99))
		}
	}
	return b.String()
}

func writeBulk(b *strings.Builder, rows []bulkRow) {
	b.WriteString("| batch | http median | sql median | ratio | http per 1k ids | server peak RSS |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %d | %s | %s | %.2f× | %s | %.1f MB |\n", r.n, ms(r.http), ms(r.sql),
			float64(r.http)/float64(r.sql), ms(r.http*1000/time.Duration(r.n)), float64(r.peakRSS)/(1<<20))
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// writeReport puts text between the markers of the delete section of path.
func writeReport(path, text string) error {
	return writeSection(path, beginMarker, endMarker, text)
}

// writeSection puts text between the markers of path, creating the file
// when it does not exist, and keeps everything outside the markers.
func writeSection(path, beginMarker, endMarker, text string) error {
	block := beginMarker + "\n" + text + endMarker + "\n"
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return os.WriteFile(path, []byte("# Benchmarks\n\n"+block), 0o644)
	}
	if err != nil {
		return err
	}
	before, rest, ok := strings.Cut(string(old), beginMarker)
	if !ok {
		return os.WriteFile(path, []byte(string(old)+"\n"+block), 0o644)
	}
	_, after, ok := strings.Cut(rest, endMarker+"\n")
	if !ok {
		return fmt.Errorf("%s: %q without %q", path, beginMarker, endMarker)
	}
	return os.WriteFile(path, []byte(before+block+after), 0o644)
}
