package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Load is one soak run: a fixed rate of requests, spread round-robin over
// the targets, for a duration.
type Load struct {
	Targets  []string // base URLs, http://127.0.0.1:PORT
	Rate     int      // requests per second
	Duration time.Duration
	// Prefix makes this run's session ids its own.
	Prefix string
	Client *http.Client
}

// Report is what a soak run saw and what the ledger check found.
type Report struct {
	Requests  int
	ByStatus  map[int]int // 0 is a transport error
	P50, P99  time.Duration
	Elapsed   time.Duration
	Live      int // sessions the ledger expects to find, with their runs
	Deleted   int // sessions the ledger expects to be gone
	Runs      int // runs the ledger expects to find
	Uncertain int // bulk deletes that failed: all or nothing, either way
	Lost      int // ledger violations
	Problems  []string
}

// Errors counts the responses that were 5xx or never came.
func (r Report) Errors() int {
	n := r.ByStatus[0]
	for status, c := range r.ByStatus {
		if status >= 500 {
			n += c
		}
	}
	return n
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "requests: %d in %s (%.0f/s)\n", r.Requests, r.Elapsed.Round(time.Millisecond), float64(r.Requests)/r.Elapsed.Seconds())
	statuses := make([]int, 0, len(r.ByStatus))
	for s := range r.ByStatus {
		statuses = append(statuses, s)
	}
	sort.Ints(statuses)
	b.WriteString("by status:")
	for _, s := range statuses {
		name := fmt.Sprint(s)
		if s == 0 {
			name = "transport-error"
		}
		fmt.Fprintf(&b, " %s=%d", name, r.ByStatus[s])
	}
	fmt.Fprintf(&b, "\nerrors (5xx and transport): %d\n", r.Errors())
	fmt.Fprintf(&b, "latency: p50 %s p99 %s\n", r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond))
	fmt.Fprintf(&b, "ledger: %d sessions kept with %d runs, %d deleted, %d failed deletes checked all-or-nothing\n", r.Live, r.Runs, r.Deleted, r.Uncertain)
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  LOST: %s\n", p)
	}
	fmt.Fprintf(&b, "lost: %d\n", r.Lost)
	return b.String()
}

// Session states in the ledger.
const (
	live     = iota // created; no delete has named it
	deleting        // a bulk delete naming it is in flight
	deleted         // a bulk delete naming it succeeded
	unknown         // a bulk delete naming it failed: all of its group or none
)

type entry struct {
	state     int
	runs      map[string]bool // recorded: 201
	maybeRuns map[string]bool // outcome unknown
}

// ledger remembers what successful requests did, so the end state can be
// checked against it.
type ledger struct {
	mu       sync.Mutex
	sessions map[string]*entry
	live     []string
	failed   [][]string // groups of failed bulk deletes
	problems []string
}

func (l *ledger) pickLive(rng *rand.Rand) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.live) == 0 {
		return "", false
	}
	return l.live[rng.IntN(len(l.live))], true
}

// takeLive removes up to n random live sessions and marks them deleting.
func (l *ledger) takeLive(rng *rand.Rand, n int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for len(ids) < n && len(l.live) > 0 {
		i := rng.IntN(len(l.live))
		id := l.live[i]
		l.live[i] = l.live[len(l.live)-1]
		l.live = l.live[:len(l.live)-1]
		l.sessions[id].state = deleting
		ids = append(ids, id)
	}
	return ids
}

func (l *ledger) lose(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, fmt.Sprintf(format, args...))
}

// soaker sends requests and keeps the ledger.
type soaker struct {
	Load
	next    atomic.Uint64
	ledger  ledger
	mu      sync.Mutex
	status  map[int]int
	latency []time.Duration
}

// Run drives the load, waits for the last request, then checks the ledger
// through the same targets.
func Run(ctx context.Context, load Load) (Report, error) {
	if load.Client == nil {
		load.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if load.Rate <= 0 || len(load.Targets) == 0 {
		return Report{}, fmt.Errorf("soak: need a positive rate and at least one target")
	}
	s := &soaker{Load: load, status: make(map[int]int), ledger: ledger{sessions: make(map[string]*entry)}}
	start := time.Now()
	s.drive(ctx)
	elapsed := time.Since(start)
	r := Report{ByStatus: s.status, Elapsed: elapsed, Requests: len(s.latency)}
	if len(s.latency) > 0 {
		slices.Sort(s.latency)
		r.P50 = s.latency[len(s.latency)*50/100]
		r.P99 = s.latency[len(s.latency)*99/100]
	}
	s.check(ctx, &r)
	return r, nil
}

func (s *soaker) drive(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.Duration)
	defer cancel()
	tick := time.NewTicker(time.Second / time.Duration(s.Rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for n := uint64(0); ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rng := rand.New(rand.NewPCG(n, 0x50a6))
		wg.Go(func() { s.step(rng, n) })
	}
}

// step sends one request of the mix: 40% creates, 30% runs, 20% lists,
// 10% bulk deletes.
func (s *soaker) step(rng *rand.Rand, n uint64) {
	switch p := rng.IntN(100); {
	case p < 40:
		id := fmt.Sprintf("%s-%d", s.Prefix, n)
		status, _ := s.send(http.MethodPost, "/sessions?type=agent", fmt.Sprintf(`{"session_id":%q,"user_id":"soak","agent_id":"soak-agent"}`, id), true)
		if status == http.StatusCreated {
			s.ledger.mu.Lock()
			s.ledger.sessions[id] = &entry{state: live, runs: map[string]bool{}, maybeRuns: map[string]bool{}}
			s.ledger.live = append(s.ledger.live, id)
			s.ledger.mu.Unlock()
		}
	case p < 70:
		id, ok := s.ledger.pickLive(rng)
		if !ok {
			return
		}
		runID := fmt.Sprintf("r-%d", n)
		status, _ := s.send(http.MethodPost, "/sessions/"+id+"/runs", fmt.Sprintf(`{"run_id":%q,"status":"completed"}`, runID), true)
		s.ledger.mu.Lock()
		e := s.ledger.sessions[id]
		switch {
		case status == http.StatusCreated:
			e.runs[runID] = true
		case status == http.StatusNotFound && e.state == live:
			s.ledger.problems = append(s.ledger.problems, fmt.Sprintf("session %s, never deleted, was not found to record run %s", id, runID))
		case status != http.StatusNotFound:
			e.maybeRuns[runID] = true
		}
		s.ledger.mu.Unlock()
	case p < 90:
		s.send(http.MethodGet, "/sessions?limit=20&sort_order=desc", "", true)
	default:
		ids := s.ledger.takeLive(rng, 1+rng.IntN(4))
		if len(ids) == 0 {
			return
		}
		all := append(slices.Clone(ids), s.Prefix+"-nobody")
		types := make([]string, len(all))
		for i := range types {
			types[i] = "agent"
		}
		body, _ := json.Marshal(map[string][]string{"session_ids": all, "session_types": types})
		status, _ := s.send(http.MethodDelete, "/sessions", string(body), true)
		s.ledger.mu.Lock()
		for _, id := range ids {
			if status == http.StatusNoContent {
				s.ledger.sessions[id].state = deleted
			} else {
				s.ledger.sessions[id].state = unknown
			}
		}
		if status != http.StatusNoContent {
			s.ledger.failed = append(s.ledger.failed, ids)
		}
		s.ledger.mu.Unlock()
	}
}

// send makes one request to the next target, round-robin. counted requests
// are part of the load; the ledger check's are not.
func (s *soaker) send(method, path, body string, counted bool) (int, []byte) {
	target := s.Targets[s.next.Add(1)%uint64(len(s.Targets))]
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target+path, rd)
	if err != nil {
		panic(err) // the paths are built here, never from input
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := s.Client.Do(req)
	status, data := 0, []byte(nil)
	if err == nil {
		data, err = io.ReadAll(res.Body)
		_ = res.Body.Close()
		status = res.StatusCode
		if err != nil {
			status = 0
		}
	}
	if counted {
		d := time.Since(start)
		s.mu.Lock()
		s.status[status]++
		s.latency = append(s.latency, d)
		s.mu.Unlock()
	}
	return status, data
}

// runsOf returns the run ids a session has, and whether it exists.
func (s *soaker) runsOf(id string) (map[string]bool, bool, error) {
	status, body := s.send(http.MethodGet, "/sessions/"+id+"/runs", "", false)
	switch status {
	case http.StatusNotFound:
		return nil, false, nil
	case http.StatusOK:
	default:
		return nil, false, fmt.Errorf("GET runs of %s: status %d", id, status)
	}
	var runs []struct {
		RunID string `json:"run_id"`
	}
	if err := json.Unmarshal(body, &runs); err != nil {
		return nil, false, fmt.Errorf("GET runs of %s: %w", id, err)
	}
	got := make(map[string]bool, len(runs))
	for _, r := range runs {
		got[r.RunID] = true
	}
	return got, true, nil
}

// check compares the end state with the ledger, through the API.
func (s *soaker) check(ctx context.Context, r *Report) {
	l := &s.ledger
	ids := make([]string, 0, len(l.sessions))
	for id := range l.sessions {
		ids = append(ids, id)
	}
	present := make(map[string]bool, len(ids))
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for id := range work {
				e := l.sessions[id]
				runs, exists, err := s.runsOf(id)
				if err != nil {
					l.lose("%v", err)
					continue
				}
				mu.Lock()
				present[id] = exists
				mu.Unlock()
				switch e.state {
				case live:
					if !exists {
						l.lose("session %s, never deleted, is gone", id)
						continue
					}
					for run := range e.runs {
						if !runs[run] {
							l.lose("run %s of session %s is gone", run, id)
						}
					}
					for run := range runs {
						if !e.runs[run] && !e.maybeRuns[run] {
							l.lose("session %s has run %s that no request recorded", id, run)
						}
					}
				case deleted:
					if exists {
						l.lose("session %s, deleted by a successful request, is still there", id)
						continue
					}
					// Its id is free again: creating it anew shows no run
					// of the old one was left behind.
					status, _ := s.send(http.MethodPost, "/sessions?type=agent", fmt.Sprintf(`{"session_id":%q}`, id), false)
					again, _, err := s.runsOf(id)
					if status != http.StatusCreated || err != nil || len(again) != 0 {
						l.lose("session %s: re-created with status %d, %d runs left behind (%v)", id, status, len(again), err)
					}
				case unknown:
					if exists && len(runs) < len(e.runs) {
						l.lose("session %s of a failed delete kept %d of its %d runs", id, len(runs), len(e.runs))
					}
				}
			}
		})
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		work <- id
	}
	close(work)
	wg.Wait()

	for _, group := range l.failed {
		n := 0
		for _, id := range group {
			if present[id] {
				n++
			}
		}
		if n != 0 && n != len(group) {
			l.lose("failed bulk delete of %v left %d of %d sessions", group, n, len(group))
		}
	}
	for _, e := range l.sessions {
		switch e.state {
		case live:
			r.Live++
			r.Runs += len(e.runs)
		case deleted:
			r.Deleted++
		}
	}
	r.Uncertain = len(l.failed)
	r.Problems = l.problems
	r.Lost = len(l.problems)
}

// loopbackOnly refuses targets that are not on 127.0.0.1.
func loopbackOnly(targets []string) error {
	for _, t := range targets {
		if !strings.HasPrefix(t, "http://127.0.0.1:") {
			return fmt.Errorf("target %q: the soak only drives http://127.0.0.1:PORT", t)
		}
	}
	return nil
}
