package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/agentos-sessions/agentos-sessions/internal/benchdata"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// report is what one backend measured.
type report struct {
	backend     string
	bulk        []bulkRow
	bulkAgno    []bulkRow // the bulk batches again, with run dicts of agno's size
	scale       []bulkRow
	bulkRuns    int
	scaleRuns   int
	rounds      int
	smallRounds int
	scaleRounds int
	concurrency []concRow
	clients     int
	perClient   int
}

// smallBatch is the largest bulk batch measured in -small-rounds rounds:
// those take milliseconds, and their medians need more rounds to hold
// still on shared cores.
const smallBatch = 100

// bulkRow is one batch size: the medians of interleaved rounds, and the
// server's highest peak RSS over the HTTP requests of that size.
type bulkRow struct {
	n       int
	http    time.Duration
	sql     time.Duration
	peakRSS int64
}

// concRow is one side of the concurrency run.
type concRow struct {
	name     string
	requests int
	errors   int
	elapsed  time.Duration
	p50, p99 time.Duration
}

func runBackend(ctx context.Context, be *backend, opts options, progress io.Writer) (*report, error) {
	client := &http.Client{
		Timeout:   10 * time.Minute,
		Transport: &http.Transport{MaxIdleConnsPerHost: opts.clients * 2},
	}
	defer client.CloseIdleConnections()
	r := &report{
		backend: be.name, bulkRuns: opts.runsPer, scaleRuns: 2, rounds: opts.rounds,
		smallRounds: opts.smallRounds, scaleRounds: opts.scaleRounds, clients: opts.clients, perClient: opts.perClient,
	}
	for _, n := range opts.batches {
		rounds := opts.rounds
		if n <= smallBatch {
			rounds = opts.smallRounds
		}
		row, err := bulk(ctx, be, client, "b", n, opts.runsPer, rounds, "")
		if err != nil {
			return nil, err
		}
		_, _ = fmt.Fprintf(progress, "%s bulk n=%d: http %v sql %v rss %d MB\n", be.name, n, row.http, row.sql, row.peakRSS>>20)
		r.bulk = append(r.bulk, row)
	}
	text := agnoText()
	for _, n := range opts.batches {
		rounds := opts.rounds
		if n <= smallBatch {
			rounds = opts.smallRounds
		}
		row, err := bulk(ctx, be, client, "a", n, opts.runsPer, rounds, text)
		if err != nil {
			return nil, err
		}
		_, _ = fmt.Fprintf(progress, "%s bulk, agno-sized runs, n=%d: http %v sql %v rss %d MB\n", be.name, n, row.http, row.sql, row.peakRSS>>20)
		r.bulkAgno = append(r.bulkAgno, row)
	}
	for _, n := range opts.scale {
		row, err := bulk(ctx, be, client, "s", n, 2, opts.scaleRounds, "")
		if err != nil {
			return nil, err
		}
		_, _ = fmt.Fprintf(progress, "%s scale n=%d: http %v sql %v rss %d MB\n", be.name, n, row.http, row.sql, row.peakRSS>>20)
		r.scale = append(r.scale, row)
	}
	conc, err := concurrency(ctx, be, client, opts)
	if err != nil {
		return nil, err
	}
	r.concurrency = conc
	return r, nil
}

// agnoText is random text to fill agno-sized run dicts from
// (benchdata.SeedText).
func agnoText() string {
	b := make([]byte, benchdata.AgnoText/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// bulk measures one batch size: each round empties the tables, seeds two
// identical sets (with agno-sized run dicts when text is not empty), then
// deletes one over HTTP and the other directly, alternating which goes
// first, and checks that both left nothing behind.
func bulk(ctx context.Context, be *backend, client *http.Client, tag string, n, runsPer, rounds int, text string) (bulkRow, error) {
	row := bulkRow{n: n}
	var httpTimes, sqlTimes []time.Duration
	for round := range rounds {
		httpPrefix := fmt.Sprintf("%sh%d-%d-", tag, n, round)
		sqlPrefix := fmt.Sprintf("%sq%d-%d-", tag, n, round)
		if err := be.reset(ctx); err != nil {
			return row, err
		}
		// Which set is seeded first alternates every round, and which is
		// deleted first every other round, so that neither position goes
		// with one side.
		prefixes := []string{httpPrefix, sqlPrefix}
		if round%2 == 1 {
			slices.Reverse(prefixes)
		}
		for _, p := range prefixes {
			if err := benchdata.SeedText(ctx, be.seed, be.dialect, store.DefaultSessionsTable, store.DefaultRunsTable, p, n, runsPer, text); err != nil {
				return row, err
			}
		}
		if err := be.settle(ctx); err != nil {
			return row, err
		}
		// ANALYZE invalidated every cached plan: replan both statements on
		// an id that does not exist, so that neither side's first request
		// after it pays for planning (which a server in steady state does
		// not, and which costs the server's larger statement more).
		if err := deleteHTTP(ctx, client, be.server.URL, deleteBody([]string{"absent"})); err != nil {
			return row, err
		}
		if _, err := be.rawDelete(ctx, []string{"absent"}); err != nil {
			return row, err
		}
		body := deleteBody(benchdata.IDs(httpPrefix, n))
		sqlIDs := benchdata.IDs(sqlPrefix, n)

		viaHTTP := func() error {
			if err := be.server.resetPeakRSS(); err != nil {
				return fmt.Errorf("reset peak RSS: %w", err)
			}
			start := time.Now()
			err := deleteHTTP(ctx, client, be.server.URL, body)
			httpTimes = append(httpTimes, time.Since(start))
			if err != nil {
				return err
			}
			rss, err := be.server.peakRSS()
			row.peakRSS = max(row.peakRSS, rss)
			return err
		}
		viaSQL := func() error {
			start := time.Now()
			deleted, err := be.rawDelete(ctx, sqlIDs)
			sqlTimes = append(sqlTimes, time.Since(start))
			if err == nil && deleted != int64(n) {
				err = fmt.Errorf("raw delete removed %d sessions, want %d", deleted, n)
			}
			return err
		}
		steps := []func() error{viaHTTP, viaSQL}
		if round/2%2 == 1 {
			slices.Reverse(steps)
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return row, fmt.Errorf("batch %d round %d: %w", n, round, err)
			}
		}
		left, err := be.left(ctx)
		if err != nil {
			return row, err
		}
		if left != 0 {
			return row, fmt.Errorf("batch %d round %d: %d rows left after both deletes, want 0", n, round, left)
		}
	}
	row.http, row.sql = median(httpTimes), median(sqlTimes)
	return row, nil
}

// concurrency runs clients × perClient single-id deletes over HTTP, then
// the same directly, in two rounds with the order swapped.
func concurrency(ctx context.Context, be *backend, client *http.Client, opts options) ([]concRow, error) {
	type side struct {
		name string
		del  func(ctx context.Context, id string) error
	}
	sides := []side{
		{"HTTP, 1 id per request", func(ctx context.Context, id string) error {
			return deleteHTTP(ctx, client, be.server.URL, deleteBody([]string{id}))
		}},
		{"raw SQL, 1 id per transaction", func(ctx context.Context, id string) error {
			n, err := be.rawDelete(ctx, []string{id})
			if err == nil && n != 1 {
				err = fmt.Errorf("deleted %d sessions, want 1", n)
			}
			return err
		}},
	}
	rows := []concRow{{name: sides[0].name}, {name: sides[1].name}}
	lat := make([][]time.Duration, 2)
	for round := range 2 {
		order := []int{0, 1}
		if round == 1 {
			order = []int{1, 0}
		}
		for _, i := range order {
			prefix := fmt.Sprintf("c%d-%d-", i, round)
			total := opts.clients * opts.perClient
			if err := benchdata.Seed(ctx, be.seed, be.dialect, store.DefaultSessionsTable, store.DefaultRunsTable, prefix, total, 2); err != nil {
				return nil, err
			}
			if err := be.settle(ctx); err != nil {
				return nil, err
			}
			ids := benchdata.IDs(prefix, total)
			var mu sync.Mutex
			var wg sync.WaitGroup
			start := time.Now()
			for c := range opts.clients {
				wg.Go(func() {
					mine := make([]time.Duration, 0, opts.perClient)
					errs := 0
					for j := range opts.perClient {
						t0 := time.Now()
						if err := sides[i].del(ctx, ids[c*opts.perClient+j]); err != nil {
							errs++
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					lat[i] = append(lat[i], mine...)
					rows[i].errors += errs
					mu.Unlock()
				})
			}
			wg.Wait()
			rows[i].elapsed += time.Since(start)
			rows[i].requests += total
			left, err := be.left(ctx)
			if err != nil {
				return nil, err
			}
			if left != 0 && rows[i].errors == 0 {
				return nil, fmt.Errorf("concurrency: %d rows left without an error reported", left)
			}
		}
	}
	for i := range rows {
		rows[i].p50, rows[i].p99 = percentile(lat[i], 50), percentile(lat[i], 99)
	}
	return rows, nil
}

// deleteBody is a DELETE /sessions body for agent sessions.
func deleteBody(ids []string) []byte {
	types := make([]string, len(ids))
	for i := range types {
		types[i] = "agent"
	}
	b, _ := json.Marshal(map[string][]string{"session_ids": ids, "session_types": types})
	return b
}

// deleteHTTP sends one bulk delete and wants 204.
func deleteHTTP(ctx context.Context, client *http.Client, base string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, base+"/sessions", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }()
	msg, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusNoContent {
		return fmt.Errorf("DELETE /sessions: status %d: %s", res.StatusCode, msg)
	}
	return nil
}

// median is the middle value, or the mean of the two middle values.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile is the nearest-rank p-th percentile.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100 // ceil(p% of n), 1-based
	return s[max(i-1, 0)]
}
