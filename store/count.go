package store

import "context"

// DeleteCounter is told what the deletes of a counted table removed.
type DeleteCounter interface {
	// SessionsDeleted is called after a delete that removed n sessions.
	SessionsDeleted(n int64)
	// RunsDeleted is called after a delete that counted the n runs it
	// removed with its sessions.
	RunsDeleted(n int64)
}

// CountDeletes returns s with every successful delete reported to c:
// sessions always, runs when the delete reported them (DeleteOptions.Report),
// since asking every bulk delete for a report would make each pay for rows
// the client did not request.
func CountDeletes(s Sessions, c DeleteCounter) Sessions {
	return countedSessions{s: s, c: c}
}

// countedSessions implements every method of Sessions by name, embedding
// nothing: a method added to the interface fails to build here until it is
// decided whether it deletes.
type countedSessions struct {
	s Sessions
	c DeleteCounter
}

var _ Sessions = countedSessions{}

func (t countedSessions) ListSessions(ctx context.Context, f ListFilter) ([]Session, int64, error) {
	return t.s.ListSessions(ctx, f)
}

func (t countedSessions) CreateSession(ctx context.Context, s Session) (Session, error) {
	return t.s.CreateSession(ctx, s)
}

func (t countedSessions) GetSession(ctx context.Context, id string, owner Owner) (Session, error) {
	return t.s.GetSession(ctx, id, owner)
}

func (t countedSessions) UpdateSession(ctx context.Context, id string, owner Owner, p SessionPatch) (Session, error) {
	return t.s.UpdateSession(ctx, id, owner, p)
}

func (t countedSessions) ListRuns(ctx context.Context, sessionID string, owner Owner, f RunFilter) (Session, []Run, error) {
	return t.s.ListRuns(ctx, sessionID, owner, f)
}

func (t countedSessions) StreamRuns(ctx context.Context, sessionID string, owner Owner, f RunFilter, p RunPage, out RunStream) error {
	return t.s.StreamRuns(ctx, sessionID, owner, f, p, out)
}

func (t countedSessions) GetRun(ctx context.Context, sessionID, runID string, owner Owner) (Session, Run, error) {
	return t.s.GetRun(ctx, sessionID, runID, owner)
}

func (t countedSessions) CreateRun(ctx context.Context, r Run, owner Owner) (Run, error) {
	return t.s.CreateRun(ctx, r, owner)
}

func (t countedSessions) DeleteSession(ctx context.Context, id string, owner Owner) error {
	if err := t.s.DeleteSession(ctx, id, owner); err != nil {
		return err
	}
	t.c.SessionsDeleted(1)
	return nil
}

func (t countedSessions) DeleteSessions(ctx context.Context, keys []SessionKey, opts DeleteOptions) (DeleteResult, error) {
	res, err := t.s.DeleteSessions(ctx, keys, opts)
	if err != nil {
		return res, err
	}
	t.c.SessionsDeleted(res.Sessions)
	if opts.Report {
		var runs int64
		for _, d := range res.Deleted {
			runs += d.RunsDeleted
		}
		t.c.RunsDeleted(runs)
	}
	return res, nil
}
