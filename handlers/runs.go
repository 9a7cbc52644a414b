package handlers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agentos-sessions/agentos-sessions/apierr"
	"github.com/agentos-sessions/agentos-sessions/gen"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// runStatuses are agno's RunStatus values, as agno stores them.
var runStatuses = []string{"PENDING", "RUNNING", "COMPLETED", "PAUSED", "CANCELLED", "ERROR", "REGENERATED"}

// RecordSessionRun stores a run in an existing session, as agno would
// have stored it, so that agno reads it back: with the component id agno
// needs to keep it in chat history (from the body, else the session's), an
// uppercase status, and the shapes agno deserialises; a missing run id
// gets a UUID.
func (h *Handlers) RecordSessionRun(ctx context.Context, req gen.RecordSessionRunRequestObject) (gen.RecordSessionRunResponseObject, error) {
	p := req.Params
	sessions, res, err := resolve[gen.RecordSessionRunResponseObject, gen.RecordSessionRun400JSONResponse, gen.RecordSessionRun404JSONResponse](h.dbs, p.DbId, p.Table)
	if sessions == nil {
		return res, err
	}
	userID, ok := userFilter(ctx, p.UserId)
	if !ok {
		return gen.RecordSessionRun404JSONResponse(sessionNotFound(req.SessionId)), nil
	}
	owner := store.Owner{UserID: userID}
	s, err := sessions.GetSession(ctx, req.SessionId, owner)
	if errors.Is(err, store.ErrNotFound) {
		return gen.RecordSessionRun404JSONResponse(sessionNotFound(req.SessionId)), nil
	}
	if err != nil {
		return nil, fmt.Errorf("record run: read session: %w", err)
	}
	r, problem := toStoreRun(req.SessionId, req.Body, s, time.Now().Unix())
	if problem != "" {
		return gen.RecordSessionRun422JSONResponse{Detail: problem, ErrorCode: apierr.CodeValidation}, nil
	}
	created, err := sessions.CreateRun(ctx, r, owner)
	switch {
	case errors.Is(err, store.ErrNotFound): // deleted since
		return gen.RecordSessionRun404JSONResponse(sessionNotFound(req.SessionId)), nil
	case errors.Is(err, store.ErrConflict):
		return gen.RecordSessionRun409JSONResponse{
			Detail:    fmt.Sprintf("A run with ID %s already exists", r.ID),
			ErrorCode: apierr.CodeConflict,
		}, nil
	case err != nil:
		return nil, fmt.Errorf("record run: %w", err)
	}
	shape := shapeInSession(s.Type, created.Data)
	if shape == droppedRun {
		shape = shapeAlone(created.Data)
	}
	var out gen.RecordSessionRun201JSONResponse
	return out, toAPIRun(&out, shape, created)
}

// toStoreRun checks a recorded run against what agno reads, and builds it.
// problem, when not empty, is the 422 detail naming what is wrong.
func toStoreRun(sessionID string, b *gen.CreateRunRequest, s store.Session, now int64) (r store.Run, problem string) {
	data := maps.Clone(derefMap(b.RunData))
	if data == nil {
		data = make(map[string]any)
	}
	r = store.Run{
		ID:          deref(b.RunId),
		SessionID:   sessionID,
		AgentID:     firstString(b.AgentId, data, "agent_id"),
		TeamID:      firstString(b.TeamId, data, "team_id"),
		WorkflowID:  firstString(b.WorkflowId, data, "workflow_id"),
		ParentRunID: firstString(b.ParentRunId, data, "parent_run_id"),
		Data:        data,
		CreatedAt:   now,
	}
	if r.ID == "" {
		r.ID, _ = data["run_id"].(string)
	}
	if r.ID == "" {
		r.ID = uuid.NewString()
	}
	// The component id: agno keeps a run in chat history (and, in a team
	// session, in its runs) only when it has one.
	if r.AgentID == nil && r.TeamID == nil && r.WorkflowID == nil {
		own := map[string]*string{"agent": s.AgentID, "team": s.TeamID, "workflow": s.WorkflowID}[s.Type]
		key := s.Type + "_id"
		if own == nil || *own == "" {
			return r, fmt.Sprintf("body.%s: a run of %s session '%s' needs its %s, and neither the body nor the session has one", key, article(s.Type), s.ID, key)
		}
		switch s.Type {
		case "team":
			r.TeamID = own
		case "workflow":
			r.WorkflowID = own
		default:
			r.AgentID = own
		}
	}
	status := firstString(b.Status, data, "status")
	if status != nil {
		upper := strings.ToUpper(*status)
		if !slices.Contains(runStatuses, upper) {
			return r, "body.status: value must be one of " + strings.Join(runStatuses, ", ") + " (any case)"
		}
		r.Status = &upper
	}
	if problem := checkRunShapes(data, r.WorkflowID != nil && r.AgentID == nil && r.TeamID == nil); problem != "" {
		return r, problem
	}
	return r, ""
}

// checkRunShapes checks the keys agno deserialises into its run classes:
// messages, tools and events are lists of objects (a message with a
// string role, an event with a string event), metrics an object, an agent
// or team run's input an object, media lists of objects.
func checkRunShapes(data map[string]any, workflow bool) string {
	objects := func(key string, need string) string {
		v, ok := data[key]
		if !ok || v == nil {
			return ""
		}
		list, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("body.run_data.%s: must be a list of objects", key)
		}
		for i, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				return fmt.Sprintf("body.run_data.%s.%d: must be an object", key, i)
			}
			if need != "" {
				if _, ok := m[need].(string); !ok {
					return fmt.Sprintf("body.run_data.%s.%d.%s: must be a string", key, i, need)
				}
			}
		}
		return ""
	}
	for _, c := range []struct{ key, need string }{
		{"messages", "role"}, {"tools", ""}, {"events", "event"},
		{"images", ""}, {"videos", ""}, {"audio", ""}, {"files", ""}, {"reasoning_steps", ""}, {"references", ""},
	} {
		if p := objects(c.key, c.need); p != "" {
			return p
		}
	}
	if v, ok := data["metrics"]; ok && v != nil {
		if _, ok := v.(map[string]any); !ok {
			return "body.run_data.metrics: must be an object"
		}
	}
	if v, ok := data["input"]; ok && v != nil && !workflow {
		input, ok := v.(map[string]any)
		if !ok {
			return `body.run_data.input: an agent or team run's input must be an object, such as {"input_content": "…"}`
		}
		for _, media := range []string{"images", "videos", "audios", "files"} {
			if m, ok := input[media]; ok && m != nil {
				if _, ok := m.([]any); !ok {
					return fmt.Sprintf("body.run_data.input.%s: must be a list of objects", media)
				}
			}
		}
	}
	return ""
}

// firstString is the body's field, else run_data's key when it is a
// string.
func firstString(field *string, data map[string]any, key string) *string {
	if field != nil {
		return field
	}
	if s, ok := data[key].(string); ok {
		return &s
	}
	return nil
}

func article(sessionType string) string {
	if sessionType == "agent" {
		return "an agent"
	}
	return "a " + sessionType
}
