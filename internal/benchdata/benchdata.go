// Package benchdata seeds the data sets the benchmarks delete: n sessions
// with a common id prefix, each with the same number of runs, inserted by a
// few set-based statements so that seeding 100,000 sessions stays cheap
// next to the delete being measured. Both the Go benchmarks and the
// agentos-bench program use it, so they measure the same rows.
package benchdata

import (
	"context"
	"fmt"
	"strconv"
)

// Exec runs one statement with bind parameters ($n on PostgreSQL, ?n on
// SQLite).
type Exec func(ctx context.Context, query string, args ...any) error

// IDs returns the ids Seed gives n sessions with prefix, in order.
func IDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + strconv.Itoa(i)
	}
	return ids
}

// Seed inserts n agent sessions with ids IDs(prefix, n) into sessions and
// runsPer runs of each into runs, in dialect ("postgres" or "sqlite"), in
// agno 3.0's layout: each run a row with its run_type, run_index and the
// run dict agno writes (its ids, status and creation time).
// Table names are trusted: they come from the caller, never a request.
func Seed(ctx context.Context, exec Exec, dialect, sessions, runs, prefix string, n, runsPer int) error {
	return SeedText(ctx, exec, dialect, sessions, runs, prefix, n, runsPer, "")
}

// AgnoText is the length of the text SeedText's runs take their content
// from: a run dict then holds about 2 kB, as agno's do (its content, its
// input, its metrics, and system, user and assistant messages).
const AgnoText = 4096

// SeedText is Seed, with run dicts of agno's size when text, at least
// AgnoText characters long, is not empty: each run takes its content
// (320 characters) and its answer (1,440) from text at offsets of its
// own, so that no two dicts are alike and none is one repeated pattern,
// which the database would compress to nothing.
func SeedText(ctx context.Context, exec Exec, dialect, sessions, runs, prefix string, n, runsPer int, text string) error {
	if n == 0 {
		return nil
	}
	if text != "" && len(text) < AgnoText {
		return fmt.Errorf("seed: text of %d characters, want %d", len(text), AgnoText)
	}
	var sessionsSQL, runsSQL string
	// The keys of an agno-sized run dict, $4/?4 the text; nothing without
	// one.
	pgAgno, sqliteAgno := "", ", '{}'"
	if text != "" {
		pgAgno = ` || jsonb_build_object('content_type', 'str', 'content', substr($4, 1 + (g * 7 + r * 13) % 2048, 320),
  'input', jsonb_build_object('input_content', 'question ' || g || ' ' || r),
  'metrics', jsonb_build_object('input_tokens', 120, 'output_tokens', 80, 'total_tokens', 200, 'duration', 1.5),
  'messages', jsonb_build_array(
    jsonb_build_object('role', 'system', 'content', 'You are a helpful assistant.'),
    jsonb_build_object('role', 'user', 'content', 'question ' || g || ' ' || r),
    jsonb_build_object('role', 'assistant', 'content', substr($4, 1 + (g * 11 + r * 5) % 2048, 1440))))`
		sqliteAgno = `, json_object('content_type', 'str', 'content', substr(?4, 1 + (i * 7 + j * 13) % 2048, 320),
  'input', json_object('input_content', 'question ' || i || ' ' || j),
  'metrics', json_object('input_tokens', 120, 'output_tokens', 80, 'total_tokens', 200, 'duration', 1.5),
  'messages', json_array(
    json_object('role', 'system', 'content', 'You are a helpful assistant.'),
    json_object('role', 'user', 'content', 'question ' || i || ' ' || j),
    json_object('role', 'assistant', 'content', substr(?4, 1 + (i * 11 + j * 5) % 2048, 1440))))`
	}
	switch dialect {
	case "postgres":
		sessionsSQL = `INSERT INTO ` + sessions + ` (session_id, session_type, agent_id, user_id, session_data, created_at, updated_at)
SELECT $1::text || g, 'agent', 'bench', 'bench', '{}', 1700000000, 1700000000 FROM generate_series(0, $2::int - 1) AS g`
		runsSQL = `INSERT INTO ` + runs + ` (run_id, session_id, run_type, agent_id, run_index, run_data, created_at)
SELECT $1::text || g || '-r' || r, $1::text || g, 'agent', 'bench', r,
  jsonb_build_object('run_id', $1::text || g || '-r' || r, 'session_id', $1::text || g, 'agent_id', 'bench', 'status', 'COMPLETED', 'created_at', 1700000000)` + pgAgno + `,
  1700000000
FROM generate_series(0, $2::int - 1) AS g, generate_series(0, $3::int - 1) AS r`
	case "sqlite":
		sessionsSQL = `WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < ?2)
INSERT INTO ` + sessions + ` (session_id, session_type, agent_id, user_id, session_data, created_at, updated_at)
SELECT ?1 || i, 'agent', 'bench', 'bench', '{}', 1700000000, 1700000000 FROM g`
		runsSQL = `WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i + 1 < ?2),
r(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM r WHERE j + 1 < ?3)
INSERT INTO ` + runs + ` (run_id, session_id, run_type, agent_id, run_index, run_data, created_at)
SELECT ?1 || i || '-r' || j, ?1 || i, 'agent', 'bench', j,
  json_patch(json_object('run_id', ?1 || i || '-r' || j, 'session_id', ?1 || i, 'agent_id', 'bench', 'status', 'COMPLETED', 'created_at', 1700000000)` + sqliteAgno + `),
  1700000000 FROM g, r`
	default:
		return fmt.Errorf("seed: unknown dialect %q", dialect)
	}
	if err := exec(ctx, sessionsSQL, prefix, n); err != nil {
		return fmt.Errorf("seed sessions: %w", err)
	}
	if runsPer == 0 {
		return nil
	}
	args := []any{prefix, n, runsPer}
	if text != "" {
		args = append(args, text)
	}
	if err := exec(ctx, runsSQL, args...); err != nil {
		return fmt.Errorf("seed runs: %w", err)
	}
	return nil
}
