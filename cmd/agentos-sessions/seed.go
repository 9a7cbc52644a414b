package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/agentos-sessions/agentos-sessions/store"
)

// SeedConfig is what the seed command creates.
type SeedConfig struct {
	Sessions int // demo sessions, of the three types in turn
	Runs     int // runs per session
}

func addSeedFlags(fs *flag.FlagSet, s *SeedConfig, getenv func(string) string) error {
	sessions, err := envInt(getenv, "AGENTOS_SEED_SESSIONS", 30)
	if err != nil {
		return err
	}
	runs, err := envInt(getenv, "AGENTOS_SEED_RUNS", 3)
	if err != nil {
		return err
	}
	fs.IntVar(&s.Sessions, "sessions", sessions, "demo sessions to create, agent, team and workflow in turn (env AGENTOS_SEED_SESSIONS)")
	fs.IntVar(&s.Runs, "runs", runs, "runs to record in each demo session (env AGENTOS_SEED_RUNS)")
	return nil
}

// demoComponents are the agents, teams and workflows demo sessions belong
// to, by session type.
var demoComponents = map[string][]string{
	"agent":    {"research-agent", "support-agent", "code-reviewer"},
	"team":     {"travel-planners", "triage-team"},
	"workflow": {"blog-post-generator", "invoice-processing"},
}

var (
	demoTypes  = []string{"agent", "team", "workflow"}
	demoUsers  = []string{"u-alice", "u-bob", "u-chen", "u-dana", ""}
	demoTopics = []string{
		"Trip planning to Kyoto", "Quarterly revenue summary", "Refund for order 1042",
		"Review of the payments PR", "Blog post on vector search", "Onboarding checklist",
		"Invoice INV-2291 extraction", "Weekly standup notes", "Flaky test triage",
		"Competitor pricing research",
	}
	demoQuestions = []string{
		"Where should we go first?", "Can you summarise the numbers?", "What is the status of my refund?",
		"Is this change safe to merge?", "Draft an outline, please.", "What is left to do?",
	}
)

// seedBatch is how many demo sessions one InsertSessions call writes, in
// one transaction.
const seedBatch = 1000

// seedWriters is how many batches are written at once on PostgreSQL, where
// one connection's batch is parsed while another's is indexed; SQLite has
// a single writer.
const seedWriters = 2

// demoBatch is a batch of demo sessions and their runs.
type demoBatch struct {
	sessions []store.Session
	runs     []store.Run
}

// seed fills the default table of the configured database with demo
// sessions and their runs, a batch at a time, each batch in a few
// set-based statements (store.Catalog.InsertSessions). Ids are fixed
// (demo-000001, …), so seeding twice adds nothing: sessions that already
// exist are skipped with their runs. Progress is drawn only when progress
// is a terminal.
func seed(ctx context.Context, cfg Config, logger *slog.Logger, progress io.Writer) error {
	dbs, err := cfg.Databases()
	if err != nil {
		return err
	}
	catalog, err := store.Open(ctx, dbs, logger)
	if err != nil {
		return err
	}
	defer func() { _ = catalog.Close() }()
	db := dbs[0].ID
	writers := seedWriters
	if dialect, _, _ := store.ParseURL(dbs[0].URL); dialect == store.DialectSQLite {
		writers = 1
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan demoBatch)
	errs := make(chan error, writers)
	bar := newProgressBar(progress, cfg.Seed.Sessions)
	var (
		mu      sync.Mutex
		created store.Inserted
		wg      sync.WaitGroup
	)
	for range writers {
		wg.Go(func() {
			for b := range batches {
				got, err := writeBatch(ctx, catalog, db, b)
				if err != nil {
					errs <- err // before cancel, so that it is the first error read
					cancel()
					return
				}
				mu.Lock()
				created.Sessions += got.Sessions
				created.Runs += got.Runs
				bar.add(len(b.sessions))
				mu.Unlock()
			}
		})
	}
	// The batches are made in order, by one generator: the same demo data
	// every time.
	rng := rand.New(rand.NewPCG(7, 7))
	now := time.Now().Unix()
	for first := 0; first < cfg.Seed.Sessions && ctx.Err() == nil; first += seedBatch {
		n := min(seedBatch, cfg.Seed.Sessions-first)
		b := demoBatch{make([]store.Session, 0, n), make([]store.Run, 0, n*cfg.Seed.Runs)}
		for i := first; i < first+n; i++ {
			s, r := demoSession(rng, i, cfg.Seed.Runs, now)
			b.sessions, b.runs = append(b.sessions, s), append(b.runs, r...)
		}
		select {
		case batches <- b:
		case <-ctx.Done():
		}
	}
	close(batches)
	wg.Wait()
	bar.finish()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	logger.Info("seeded", "database", db, "sessions_created", created.Sessions, "runs_created", created.Runs,
		"sessions_already_there", int64(cfg.Seed.Sessions)-created.Sessions)
	return nil
}

// writeBatch writes one batch: set-based where the layout has a runs
// table, else session by session and run by run.
func writeBatch(ctx context.Context, catalog *store.Catalog, db string, b demoBatch) (store.Inserted, error) {
	got, err := catalog.InsertSessions(ctx, db, "", b.sessions, b.runs)
	if errors.Is(err, store.ErrNoRunsTable) {
		// agno 2.x keeps runs in the sessions table, and agno 3.0 makes its
		// runs table on the first run: CreateRun does both.
		got, err = insertOneByOne(ctx, catalog, db, b.sessions, b.runs)
	}
	if err != nil {
		return got, fmt.Errorf("seed sessions %s to %s: %w", b.sessions[0].ID, b.sessions[len(b.sessions)-1].ID, err)
	}
	return got, nil
}

// insertOneByOne writes sessions and their runs through CreateSession and
// CreateRun, for the layouts InsertSessions does not write runs into. A
// session that exists is skipped with its runs.
func insertOneByOne(ctx context.Context, catalog *store.Catalog, db string, sessions []store.Session, runs []store.Run) (store.Inserted, error) {
	table, err := catalog.Resolve(db, "")
	if err != nil {
		return store.Inserted{}, err
	}
	var n store.Inserted
	created := make(map[string]bool, len(sessions))
	for _, s := range sessions {
		if _, err := table.CreateSession(ctx, s); errors.Is(err, store.ErrConflict) {
			continue
		} else if err != nil {
			return n, err
		}
		created[s.ID] = true
		n.Sessions++
	}
	for _, r := range runs {
		if !created[r.SessionID] {
			continue
		}
		if _, err := table.CreateRun(ctx, r, store.Owner{}); err != nil {
			return n, fmt.Errorf("run %s: %w", r.ID, err)
		}
		n.Runs++
	}
	return n, nil
}

// demoSession makes the i-th demo session and its runs.
func demoSession(rng *rand.Rand, i, runs int, now int64) (store.Session, []store.Run) {
	typ := demoTypes[i%len(demoTypes)]
	component := demoComponents[typ][rng.IntN(len(demoComponents[typ]))]
	topic := demoTopics[rng.IntN(len(demoTopics))]
	created := now - int64(rng.IntN(30*24*3600)) - int64(runs+1)*60
	s := store.Session{
		ID:   fmt.Sprintf("demo-%06d", i+1),
		Type: typ,
		SessionData: map[string]any{
			"session_name":  topic,
			"session_state": map[string]any{"step": runs, "topic": strings.ToLower(topic)},
		},
		Metadata:  map[string]any{"source": "agentos-sessions seed"},
		CreatedAt: created,
	}
	if user := demoUsers[rng.IntN(len(demoUsers))]; user != "" {
		s.UserID = &user
	}
	model := map[string]any{"id": "gpt-4o-mini", "provider": "OpenAI"}
	switch typ {
	case "agent":
		s.AgentID = &component
		s.AgentData = map[string]any{"agent_id": component, "name": component, "model": model}
	case "team":
		s.TeamID = &component
		s.TeamData = map[string]any{"team_id": component, "name": component, "model": model}
	default:
		s.WorkflowID = &component
		s.WorkflowData = map[string]any{"workflow_id": component, "name": component}
	}
	if runs > 0 {
		updated := created + int64(runs)*60
		s.UpdatedAt = &updated
		s.Summary = map[string]any{"summary": "Talked about " + strings.ToLower(topic) + ".", "topics": []any{topic}}
	}

	out := make([]store.Run, 0, runs)
	for j := range runs {
		status := "COMPLETED"
		if rng.IntN(10) == 0 {
			status = "ERROR"
		}
		in, outTokens := 200+rng.IntN(2000), 50+rng.IntN(800)
		question := demoQuestions[rng.IntN(len(demoQuestions))]
		r := store.Run{
			ID:        fmt.Sprintf("%s-run-%03d", s.ID, j+1),
			SessionID: s.ID,
			UserID:    s.UserID,
			Status:    &status,
			CreatedAt: created + int64(j+1)*60,
			Data: map[string]any{
				"run_input": question,
				"content":   fmt.Sprintf("Answer %d about %s.", j+1, strings.ToLower(topic)),
				"messages": []any{
					map[string]any{"role": "user", "content": question},
					map[string]any{"role": "assistant", "content": fmt.Sprintf("Answer %d about %s.", j+1, strings.ToLower(topic))},
				},
				"metrics": map[string]any{
					"input_tokens": in, "output_tokens": outTokens, "total_tokens": in + outTokens,
					"duration": float64(rng.IntN(9000)+500) / 1000,
				},
			},
		}
		switch typ {
		case "agent":
			r.AgentID = s.AgentID
		case "team":
			r.TeamID = s.TeamID
		default:
			r.WorkflowID = s.WorkflowID
		}
		out = append(out, r)
	}
	return s, out
}

// progressBar redraws one line as sessions are seeded, on a terminal
// only: in a log, carriage returns would pile up. Below 100 sessions it
// stays quiet.
type progressBar struct {
	w           io.Writer
	done, total int
}

func newProgressBar(w io.Writer, total int) *progressBar {
	if total < 100 || !isTerminal(w) {
		return &progressBar{}
	}
	return &progressBar{w: w, total: total}
}

// isTerminal reports whether w is a character device: a terminal (or
// /dev/null, where drawing costs nothing), not a file or a pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// add counts n more sessions seeded and redraws the line.
func (p *progressBar) add(n int) {
	if p.w == nil {
		return
	}
	p.done += n
	const width = 40
	filled := width * p.done / p.total
	_, _ = fmt.Fprintf(p.w, "\rseeding [%s%s] %d/%d sessions", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), p.done, p.total)
}

func (p *progressBar) finish() {
	if p.w != nil {
		_, _ = fmt.Fprintln(p.w)
	}
}
