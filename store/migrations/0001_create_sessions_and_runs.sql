-- Version 1: a session table and its runs table.
--
-- Rendered with text/template once per configured table pair and dialect:
--   .Sessions, .Runs  quoted table names from configuration
--   .JSON             JSONB on PostgreSQL, TEXT holding JSON on SQLite
--   .Index "suffix"   quoted name of the session table's index on suffix
-- Statements are separated by a semicolon at the end of a line.

CREATE TABLE IF NOT EXISTS {{.Sessions}} (
    session_id    TEXT NOT NULL PRIMARY KEY,
    session_type  TEXT NOT NULL,
    agent_id      TEXT,
    team_id       TEXT,
    workflow_id   TEXT,
    user_id       TEXT,
    session_data  {{.JSON}},
    agent_data    {{.JSON}},
    team_data     {{.JSON}},
    workflow_data {{.JSON}},
    metadata      {{.JSON}},
    summary       {{.JSON}},
    created_at    BIGINT NOT NULL, -- epoch seconds
    updated_at    BIGINT
);

CREATE INDEX IF NOT EXISTS {{.Index "session_type"}} ON {{.Sessions}} (session_type);

CREATE INDEX IF NOT EXISTS {{.Index "user_id"}} ON {{.Sessions}} (user_id);

CREATE INDEX IF NOT EXISTS {{.Index "created_at"}} ON {{.Sessions}} (created_at);

-- The primary key leads with session_id, so the cascade from a deleted
-- session finds its runs through this index instead of scanning the table.
CREATE TABLE IF NOT EXISTS {{.Runs}} (
    run_id        TEXT NOT NULL,
    session_id    TEXT NOT NULL REFERENCES {{.Sessions}} (session_id) ON DELETE CASCADE,
    agent_id      TEXT,
    team_id       TEXT,
    workflow_id   TEXT,
    user_id       TEXT,
    parent_run_id TEXT,
    status        TEXT,
    run_data      {{.JSON}},
    created_at    BIGINT NOT NULL, -- epoch seconds
    updated_at    BIGINT,
    PRIMARY KEY (session_id, run_id)
);
