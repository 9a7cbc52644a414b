-- Version 2: indexes for listing sessions.
--
-- Rendered like version 1 (see 0001_create_sessions_and_runs.sql).
--
-- A page of sessions is an equality filter (session_type, user_id, or one
-- of the component ids) followed by ORDER BY <sort key>, session_id, in
-- either direction. With the filter column first and the sort key and
-- session_id after it, the page is read straight off the index, forwards or
-- backwards, and the scan stops at LIMIT + OFFSET rows instead of sorting
-- every matching session.

CREATE INDEX IF NOT EXISTS {{.Index "session_type_created_at"}} ON {{.Sessions}} (session_type, created_at, session_id);

CREATE INDEX IF NOT EXISTS {{.Index "user_id_created_at"}} ON {{.Sessions}} (user_id, created_at, session_id);

CREATE INDEX IF NOT EXISTS {{.Index "created_at_session_id"}} ON {{.Sessions}} (created_at, session_id);

-- Sorting by "updated_at" orders by this very expression, spelled the same
-- way, so both databases match the query to the index.
CREATE INDEX IF NOT EXISTS {{.Index "updated_or_created_at"}} ON {{.Sessions}} ((COALESCE(updated_at, created_at)), session_id);

-- A type filter selects a large share of the table, so it gets both sorts;
-- a user's sessions are few enough to sort.
CREATE INDEX IF NOT EXISTS {{.Index "session_type_updated_or_created_at"}} ON {{.Sessions}} (session_type, (COALESCE(updated_at, created_at)), session_id);

-- component_id matches any of the three; each OR branch probes its own index.
CREATE INDEX IF NOT EXISTS {{.Index "agent_id"}} ON {{.Sessions}} (agent_id);

CREATE INDEX IF NOT EXISTS {{.Index "team_id"}} ON {{.Sessions}} (team_id);

CREATE INDEX IF NOT EXISTS {{.Index "workflow_id"}} ON {{.Sessions}} (workflow_id);

-- Version 1's single-column indexes are prefixes of the ones above, which
-- serve every query they served; keeping them would only slow down writes.
DROP INDEX IF EXISTS {{.Index "session_type"}};

DROP INDEX IF EXISTS {{.Index "user_id"}};

DROP INDEX IF EXISTS {{.Index "created_at"}};
