package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/agentos-sessions/agentos-sessions/gen"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// Responses that read a session's runs while they write them, so that a
// session with thousands of large runs is never held in memory whole: the
// runs of GET /sessions/{id}/runs, and the chat history of GET
// /sessions/{id}. The store reads them in one snapshot inside the
// response's Visit method, which the generated strict handler calls with
// the response writer. An error before the first byte is answered as
// usual (404, or the operation's 500); after it, the connection is
// aborted (http.ErrAbortHandler), so a client never takes a truncated
// body for a whole one.

// runsReader is what a streamed response reads: one session's runs.
type runsReader struct {
	ctx      context.Context
	sessions store.Sessions
	id       string
	owner    store.Owner
	filter   store.RunFilter
	page     store.RunPage
}

// jsonStream writes the items of a JSON array, or of a JSON object's last
// member, as they come.
type jsonStream struct {
	w       http.ResponseWriter
	started bool // the status line and the first byte are out
	items   int
}

func (s *jsonStream) start(status int, header map[string]string, opening []byte) error {
	h := s.w.Header()
	h.Set("Content-Type", "application/json")
	for k, v := range header {
		h.Set(k, v)
	}
	s.w.WriteHeader(status)
	s.started = true
	_, err := s.w.Write(opening)
	return err
}

func (s *jsonStream) item(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.itemJSON(raw)
}

// itemJSON writes an item already encoded.
func (s *jsonStream) itemJSON(raw []byte) error {
	if s.items > 0 {
		if _, err := s.w.Write([]byte{','}); err != nil {
			return err
		}
	}
	s.items++
	_, err := s.w.Write(raw)
	return err
}

// finish ends the response: after an error once bytes are out, by
// aborting the connection.
func (s *jsonStream) finish(err error, closing string) error {
	if err != nil {
		if s.started {
			panic(http.ErrAbortHandler)
		}
		return err
	}
	_, err = s.w.Write([]byte(closing))
	return err
}

// streamedRuns answers GET /sessions/{id}/runs: X-Total-Count, then the
// runs of the page, each in the shape of its kind.
type streamedRuns struct {
	runsReader
	notFound gen.GetSessionRuns404JSONResponse
}

// VisitGetSessionRunsResponse implements gen.GetSessionRunsResponseObject.
func (r streamedRuns) VisitGetSessionRunsResponse(w http.ResponseWriter) error {
	out := &jsonStream{w: w}
	var sessionType string
	err := r.sessions.StreamRuns(r.ctx, r.id, r.owner, r.filter, r.page, store.RunStream{
		Start: func(s store.Session, total int64) error {
			sessionType = s.Type
			return out.start(http.StatusOK, map[string]string{"X-Total-Count": strconv.FormatInt(total, 10)}, []byte("["))
		},
		Run: func(run store.Run) error {
			shape := shapeInSession(sessionType, run.Data)
			if shape == droppedRun {
				return nil // the store keeps only listed runs; this never happens
			}
			raw, err := renderRun(shape, run)
			if err != nil {
				return err
			}
			return out.itemJSON(raw)
		},
	})
	if errors.Is(err, store.ErrNotFound) && !out.started {
		return r.notFound.VisitGetSessionRunsResponse(w)
	}
	if err != nil {
		err = fmt.Errorf("list runs: %w", err)
	}
	return out.finish(err, "]\n")
}

// errNoHistory stops reading runs once a workflow session's detail, which
// has no chat history, is written.
var errNoHistory = errors.New("no chat history")

// streamedDetail answers GET /sessions/{id}: the session in its type's
// shape, its chat history (agent and team sessions) written message by
// message as the runs are read.
type streamedDetail struct {
	runsReader
	notFound gen.GetSessionById404JSONResponse
}

// VisitGetSessionByIdResponse implements gen.GetSessionByIdResponseObject.
func (d streamedDetail) VisitGetSessionByIdResponse(w http.ResponseWriter) error {
	out := &jsonStream{w: w}
	err := d.sessions.StreamRuns(d.ctx, d.id, d.owner, store.RunFilter{}, store.RunPage{}, store.RunStream{
		Start: func(s store.Session, _ int64) error {
			var detail gen.GetSessionById200JSONResponse
			if err := toAPIDetail(&detail, s, nil); err != nil {
				return err
			}
			raw, err := json.Marshal(detail)
			if err != nil {
				return err
			}
			if s.Type == string(gen.Workflow) {
				if err := out.start(http.StatusOK, nil, raw); err != nil {
					return err
				}
				return errNoHistory
			}
			// The object without its chat history, which follows as its
			// last member.
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(raw, &fields); err != nil {
				return err
			}
			delete(fields, "chat_history")
			head, err := json.Marshal(fields)
			if err != nil {
				return err
			}
			return out.start(http.StatusOK, nil, append(head[:len(head)-1], []byte(`,"chat_history":[`)...))
		},
		Run: func(run store.Run) error {
			for _, m := range historyMessages(run) {
				if err := out.item(m); err != nil {
					return err
				}
			}
			return nil
		},
	})
	switch {
	case errors.Is(err, errNoHistory):
		return out.finish(nil, "\n")
	case errors.Is(err, store.ErrNotFound) && !out.started:
		return d.notFound.VisitGetSessionByIdResponse(w)
	case err != nil:
		err = fmt.Errorf("get session: %w", err)
	}
	return out.finish(err, "]}\n")
}
