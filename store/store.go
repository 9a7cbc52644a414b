// Package store owns persistence: the configured databases, their session
// and run tables, the versioned migrations that create them, and the
// queries that read and delete sessions. It knows nothing of HTTP.
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

// SessionKey names one session by its id and its type (agent, team, workflow).
type SessionKey struct {
	ID   string
	Type string
}

// DeletedSession is one session removed by DeleteSessions.
type DeletedSession struct {
	ID   string
	Type string
	// RunsDeleted is the number of runs removed with the session; it is only
	// counted when DeleteOptions.CountRuns is set, and is 0 otherwise.
	RunsDeleted int64
}

// DeleteOptions narrows and shapes a bulk delete.
type DeleteOptions struct {
	// UserID, when non-nil, restricts the delete to sessions whose user_id
	// equals it; NULL user ids never match.
	UserID *string
	// CountRuns asks for the number of runs each deleted session had.
	CountRuns bool
}

// Sessions is one session table and its runs table in one database.
type Sessions interface {
	// DeleteSessions deletes, in one transaction, every session whose
	// (id, type) pair is in keys, together with all its runs, and reports
	// the sessions it removed (in no particular order). Keys that match no
	// row are not an error. Any error means nothing was deleted.
	DeleteSessions(ctx context.Context, keys []SessionKey, opts DeleteOptions) ([]DeletedSession, error)
}
