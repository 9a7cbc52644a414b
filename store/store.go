// Package store owns persistence: the configured databases and their
// session and run tables in agno's layouts (agno 2.x's runs inline in the
// sessions table, agno 3.0's runs table, or both), found by probing the
// catalog and created as agno 3.0 creates them when missing, and the
// queries that read, write and delete sessions there, with agno writing to
// the same tables. It knows nothing of HTTP.
package store

import (
	"context"
	"errors"
)

// Sentinel errors returned by Catalog.Resolve. Handlers turn them into
// client messages; the store never words them for a user.
var (
	// ErrDatabaseNotFound: no configured database has the requested id.
	ErrDatabaseNotFound = errors.New("database not found")
	// ErrTableNotFound: the database has no configured session table of that name.
	ErrTableNotFound = errors.New("table not found")
	// ErrTableNeedsDatabase: a table was named without a database id.
	ErrTableNeedsDatabase = errors.New("table given without database id")
	// ErrDatabaseAmbiguous: no database id was given and more than one database is configured.
	ErrDatabaseAmbiguous = errors.New("database id required with several databases")
)

// Sentinel errors returned by the Sessions methods.
var (
	// ErrNotFound: no session (or run) matches, or it belongs to another user.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a session or run with that id already exists.
	ErrConflict = errors.New("already exists")
	// ErrNoRunsTable: the table pair keeps no runs table to record a run
	// into (agno 2.x's layout, or agno 3.0's before its first run).
	ErrNoRunsTable = errors.New("no runs table")
)

// SessionKey names one session by its id and its type (agent, team, workflow).
type SessionKey struct {
	ID   string
	Type string
}

// DeletedSession is one session removed by DeleteSessions.
type DeletedSession struct {
	ID   string
	Type string
	// RunsDeleted is the number of runs removed with the session.
	RunsDeleted int64
}

// DeleteOptions narrows and shapes a bulk delete.
type DeleteOptions struct {
	// UserID, when non-nil, restricts the delete to sessions whose user_id
	// equals it; NULL user ids never match.
	UserID *string
	// Report asks for the deleted sessions themselves, each with the number
	// of runs it had. Without it the delete only counts them, and no row
	// comes back from the database.
	Report bool
}

// DeleteResult is what DeleteSessions removed.
type DeleteResult struct {
	// Sessions is the number of sessions deleted.
	Sessions int64
	// Deleted lists them, in no particular order, when DeleteOptions.Report
	// was set; it is nil otherwise.
	Deleted []DeletedSession
}

// Session is one row of a session table. JSON columns are decoded, in
// whatever encoding agno stored them; a nil map is absent (SQL NULL, JSON
// null, or not an object). The session's name and state live inside
// SessionData ("session_name", "session_state"), as AgentOS keeps them.
type Session struct {
	ID           string
	Type         string
	AgentID      *string
	TeamID       *string
	WorkflowID   *string
	UserID       *string
	SessionData  map[string]any
	AgentData    map[string]any
	TeamData     map[string]any
	WorkflowData map[string]any
	Metadata     map[string]any
	Summary      map[string]any
	CreatedAt    int64 // epoch seconds
	UpdatedAt    *int64
	// Name is the name AgentOS shows for the session: session_data's
	// session_name, or one made from its runs when there is none (see
	// sessionName). It is read, never written.
	Name string
}

// Run is one run of a session: a row of the runs table, or an entry of
// agno 2.x's runs column (Inline), whose column fields are then read from
// the entry. Data is the run itself (run_data, or the entry).
type Run struct {
	ID          string
	SessionID   string
	Type        *string // run_type: agent, team or workflow; nil inline
	AgentID     *string
	TeamID      *string
	WorkflowID  *string
	UserID      *string
	ParentRunID *string
	Status      *string
	Index       *int64 // run_index; nil inline, and on agno's legacy rows
	Data        map[string]any
	// Raw is Data's JSON text as the database returned it, for a runs-table
	// row whose run_data is an object (once decoded, if agno stored it as
	// a JSON string); nil otherwise. Readers may serve it in place of
	// encoding Data again. It is no part of the run's value (json "-").
	Raw       []byte `json:"-"`
	CreatedAt int64  // epoch seconds; 0 when an inline entry has none
	UpdatedAt *int64
	Inline    bool
}

// Owner narrows reads and writes of one session: Type, when non-nil, must
// equal the stored session_type; UserID, when non-nil, must equal the stored
// user_id (NULL never matches). A session that fails either is not found.
type Owner struct {
	Type   *string
	UserID *string
}

// ListFilter selects and orders a page of sessions. Nil filters are off.
type ListFilter struct {
	Type *string
	// ComponentID matches agent_id, team_id or workflow_id.
	ComponentID *string
	UserID      *string
	// NameContains is a case-insensitive substring of session_data's
	// session_name; '%', '_' and '\' in it match only themselves. (SQLite
	// folds case for ASCII letters only.)
	NameContains *string
	// SortBy is "created_at" or "updated_at" (which sorts by
	// COALESCE(updated_at, created_at)); ties are broken by session_id in
	// the same direction, so pages are stable.
	SortBy string
	// Descending sorts newest first.
	Descending bool
	Limit      int // rows per page, > 0
	Page       int // 1-based
}

// RunFilter narrows ListRuns and StreamRuns: CreatedAfter and
// CreatedBefore are inclusive epoch seconds, nil when off. Listed keeps
// only the runs GET /sessions/{id}/runs lists: in a team session, those
// with an agent_id or a team_id (AgentOS drops the others).
type RunFilter struct {
	CreatedAfter  *int64
	CreatedBefore *int64
	Listed        bool
}

// RunPage is one page of a session's runs: Limit runs, from the
// (Page-1)*Limit-th on. A zero Limit means every run.
type RunPage struct {
	Limit, Page int
}

// RunStream receives a session's runs as StreamRuns reads them.
type RunStream struct {
	// Start is called once, before any run, with the session and how many
	// runs match the filter, all pages together.
	Start func(s Session, total int64) error
	// Run is called with each run of the page, in order.
	Run func(r Run) error
}

// Optional is a field of a partial update: Set reports whether the request
// carried it at all; a Set field with a nil Value clears the stored value.
type Optional[T any] struct {
	Set   bool
	Value *T
}

// SessionPatch is a partial update of a session. Fields that are not Set
// are left alone. Name and State are stored in session_data.
type SessionPatch struct {
	Name     Optional[string]
	State    Optional[map[string]any]
	Metadata Optional[map[string]any]
	Summary  Optional[map[string]any]
}

// Sessions is one session table and its runs table in one database.
type Sessions interface {
	// ListSessions returns one page of the sessions that match f, and how
	// many match in all. A listed session has no AgentData or TeamData:
	// a list renders neither, so neither is read.
	ListSessions(ctx context.Context, f ListFilter) ([]Session, int64, error)
	// CreateSession inserts s (ID and CreatedAt already set) and returns the
	// stored row. It returns ErrConflict when the id is taken, leaving the
	// existing row untouched.
	CreateSession(ctx context.Context, s Session) (Session, error)
	// GetSession returns the session with that id. It returns ErrNotFound
	// when there is none or it fails owner.
	GetSession(ctx context.Context, id string, owner Owner) (Session, error)
	// UpdateSession applies p to the session in one transaction and returns
	// the stored row. Any Set field sets updated_at to now; an empty patch
	// changes nothing, updated_at included. It never touches runs. It
	// returns ErrNotFound as GetSession does.
	UpdateSession(ctx context.Context, id string, owner Owner, p SessionPatch) (Session, error)
	// DeleteSession deletes the session and, by the cascade, its runs. It
	// returns ErrNotFound as GetSession does.
	DeleteSession(ctx context.Context, id string, owner Owner) error
	// ListRuns returns the session's runs that match f, in agno's order
	// (see runSQL), and the session they belong to. It returns ErrNotFound
	// when the session is not found, as GetSession does; a session without
	// runs has an empty list.
	ListRuns(ctx context.Context, sessionID string, owner Owner, f RunFilter) (Session, []Run, error)
	// StreamRuns reads the page p of the session's runs that match f, in
	// the order ListRuns gives them, in one read-only snapshot, and hands
	// them to out one at a time as they are read, so that a session's runs
	// are never all held at once (but for those of agno 2.x's runs column,
	// which is one value). It returns ErrNotFound, before calling out, when
	// the session is not found, as GetSession does; an error from out
	// stops it and is returned.
	StreamRuns(ctx context.Context, sessionID string, owner Owner, f RunFilter, p RunPage, out RunStream) error
	// GetRun returns one run of the session and the session. It returns
	// ErrNotFound when either is not found.
	GetRun(ctx context.Context, sessionID, runID string, owner Owner) (Session, Run, error)
	// CreateRun inserts r (ID, SessionID and CreatedAt already set) into
	// the session's runs and returns the stored run. It returns ErrNotFound
	// when the session is not found, ErrConflict when the run id is taken,
	// and ErrNoRunsTable when the layout has no runs table to record into.
	CreateRun(ctx context.Context, r Run, owner Owner) (Run, error)

	// DeleteSessions deletes, in one transaction, every session whose
	// (id, type) pair is in keys, together with all its runs, and says what
	// it removed. Keys that match no row are not an error. Any error means
	// nothing was deleted.
	DeleteSessions(ctx context.Context, keys []SessionKey, opts DeleteOptions) (DeleteResult, error)
}
