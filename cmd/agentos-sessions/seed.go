package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
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

// seed fills the default table of the configured database with demo
// sessions and their runs. Ids are fixed (demo-000001, …), so seeding twice
// adds nothing: sessions that already exist are skipped with their runs.
func seed(ctx context.Context, cfg Config, logger *slog.Logger, progress io.Writer) error {
	dbs, err := cfg.Databases()
	if err != nil {
		return err
	}
	catalog, err := store.Open(ctx, dbs, logger)
	if err != nil {
		return err
	}
	defer catalog.Close()
	sessions, err := catalog.Resolve(dbs[0].ID, "")
	if err != nil {
		return err
	}

	rng := rand.New(rand.NewPCG(7, 7)) // the same demo data every time
	now := time.Now().Unix()
	bar := newProgressBar(progress, cfg.Seed.Sessions)
	var created, skipped int
	for i := range cfg.Seed.Sessions {
		if err := ctx.Err(); err != nil {
			return err
		}
		s, runs := demoSession(rng, i, cfg.Seed.Runs, now)
		if _, err := sessions.CreateSession(ctx, s); errors.Is(err, store.ErrConflict) {
			skipped++
			bar.step(i + 1)
			continue
		} else if err != nil {
			return fmt.Errorf("seed session %s: %w", s.ID, err)
		}
		for _, r := range runs {
			if _, err := sessions.CreateRun(ctx, r, store.Owner{}); err != nil {
				return fmt.Errorf("seed run %s of %s: %w", r.ID, s.ID, err)
			}
		}
		created++
		bar.step(i + 1)
	}
	bar.done()
	logger.Info("seeded", "database", dbs[0].ID, "sessions_created", created, "runs_created", created*cfg.Seed.Runs,
		"sessions_already_there", skipped)
	return nil
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

// progressBar redraws one line as sessions are seeded; below 100 sessions
// it stays quiet.
type progressBar struct {
	w            io.Writer
	total, every int
}

func newProgressBar(w io.Writer, total int) *progressBar {
	if total < 100 {
		return &progressBar{}
	}
	return &progressBar{w: w, total: total, every: max(1, total/100)}
}

func (p *progressBar) step(n int) {
	if p.w == nil || (n%p.every != 0 && n != p.total) {
		return
	}
	const width = 40
	filled := width * n / p.total
	fmt.Fprintf(p.w, "\rseeding [%s%s] %d/%d sessions", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), n, p.total)
}

func (p *progressBar) done() {
	if p.w != nil {
		fmt.Fprintln(p.w)
	}
}
