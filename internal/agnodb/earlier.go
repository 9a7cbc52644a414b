package agnodb

import (
	"database/sql"
	"testing"
)

// EarlierMigrationsTable is where this server's releases before agno's
// layout recorded their migrations.
const EarlierMigrationsTable = "agentos_schema_migrations"

// CreateEarlierLayout creates the tables and migration records that this
// server's releases before agno's layout left (runs keyed by
// (session_id, run_id), no run_type or run_index, no runs column on the
// sessions table), written out here from those releases' migrations 1
// and 2. q qualifies a table name: "schema"."name" on PostgreSQL, "name"
// on SQLite. It is not agno's: it is what `agentos-sessions migrate`
// converts into agno's.
func CreateEarlierLayout(t testing.TB, db *sql.DB, d Dialect, q func(string) string) {
	t.Helper()
	json := "JSONB"
	if d == SQLite {
		json = "TEXT"
	}
	for _, stmt := range []string{
		`CREATE TABLE ` + q(DefaultSessions) + ` (session_id TEXT NOT NULL PRIMARY KEY, session_type TEXT NOT NULL,
		 agent_id TEXT, team_id TEXT, workflow_id TEXT, user_id TEXT, session_data ` + json + `, agent_data ` + json + `,
		 team_data ` + json + `, workflow_data ` + json + `, metadata ` + json + `, summary ` + json + `,
		 created_at BIGINT NOT NULL, updated_at BIGINT)`,
		`CREATE INDEX "agno_sessions_session_type_created_at_idx" ON ` + q(DefaultSessions) + ` (session_type, created_at, session_id)`,
		`CREATE TABLE ` + q(DefaultRuns) + ` (run_id TEXT NOT NULL, session_id TEXT NOT NULL REFERENCES ` + q(DefaultSessions) + ` (session_id) ON DELETE CASCADE,
		 agent_id TEXT, team_id TEXT, workflow_id TEXT, user_id TEXT, parent_run_id TEXT, status TEXT, run_data ` + json + `,
		 created_at BIGINT NOT NULL, updated_at BIGINT, PRIMARY KEY (session_id, run_id))`,
		`CREATE TABLE ` + q(EarlierMigrationsTable) + ` (sessions_table TEXT NOT NULL, version INTEGER NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (sessions_table, version))`,
		`INSERT INTO ` + q(EarlierMigrationsTable) + ` VALUES ('agno_sessions', 1, 1700000000), ('agno_sessions', 2, 1700000000)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("agnodb: earlier layout: %s: %v", stmt, err)
		}
	}
}

// SeedEarlier fills the earlier layout the way those releases wrote it:
// runs without run_type or run_index, run_data NULL or a caller's object,
// lowercase statuses, component ids on the session only. Sessions a
// (agent, u1, named "Agent chat"), t (team) and w (workflow); runs a-1 …
// a-3 (a-1 first by created_at), t-1 and w-1.
func SeedEarlier(t testing.TB, db *sql.DB, q func(string) string) {
	t.Helper()
	for _, stmt := range []string{
		`INSERT INTO ` + q(DefaultSessions) + ` (session_id, session_type, agent_id, team_id, workflow_id, user_id, session_data, created_at, updated_at) VALUES
		 ('a', 'agent', 'helper', NULL, NULL, 'u1', '{"session_name": "Agent chat"}', 100, 100),
		 ('t', 'team', NULL, 'planners', NULL, NULL, '{}', 200, NULL),
		 ('w', 'workflow', NULL, NULL, 'blog', 'u2', NULL, 300, 300)`,
		`INSERT INTO ` + q(DefaultRuns) + ` (run_id, session_id, agent_id, user_id, status, run_data, created_at) VALUES
		 ('a-2', 'a', NULL, 'someone', 'completed', '{"run_input": "Second", "content": "B"}', 20),
		 ('a-1', 'a', 'other-agent', NULL, 'error', NULL, 10),
		 ('a-3', 'a', NULL, NULL, NULL, '{"content": "C"}', 20),
		 ('t-1', 't', NULL, NULL, 'running', '{"content": "T"}', 5),
		 ('w-1', 'w', NULL, NULL, 'COMPLETED', '{"input": "Write", "content": "W"}', 7)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("agnodb: seed the earlier layout: %v", err)
		}
	}
}
