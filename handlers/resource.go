package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/agentos-sessions/agentos-sessions/apierr"
	"github.com/agentos-sessions/agentos-sessions/gen"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// GetSessions lists one page of sessions.
func (h *Handlers) GetSessions(ctx context.Context, req gen.GetSessionsRequestObject) (gen.GetSessionsResponseObject, error) {
	p := req.Params
	sessions, res, err := resolve[gen.GetSessionsResponseObject, gen.GetSessions400JSONResponse, gen.GetSessions404JSONResponse](h.dbs, p.DbId, p.Table)
	if sessions == nil {
		return res, err
	}
	f := toListFilter(p)
	userID, ok := userFilter(ctx, p.UserId)
	f.UserID = userID
	start := time.Now()
	var rows []store.Session
	var total int64
	if ok {
		rows, total, err = sessions.ListSessions(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
	}
	searchMs := float32(time.Since(start).Microseconds()) / 1000

	data := make([]gen.SessionSchema, 0, len(rows))
	for _, s := range rows {
		data = append(data, toAPISession(s))
	}
	totalCount := int(total)
	totalPages := (totalCount + f.Limit - 1) / f.Limit
	return gen.GetSessions200JSONResponse{
		Data: data,
		Meta: gen.PaginationInfo{Page: &f.Page, Limit: &f.Limit, TotalPages: &totalPages, TotalCount: &totalCount, SearchTimeMs: &searchMs},
	}, nil
}

// Defaults of the list query, as openapi.yaml states them (the gate leaves
// an absent parameter absent). TestQueryDefaults keeps them the document's.
const (
	defaultLimit = 20
	defaultPage  = 1
)

func toListFilter(p gen.GetSessionsParams) store.ListFilter {
	f := store.ListFilter{
		Type:         (*string)(p.Type),
		ComponentID:  p.ComponentId,
		UserID:       p.UserId,
		NameContains: p.SessionName,
		SortBy:       string(gen.CreatedAt),
		Descending:   p.SortOrder == nil || *p.SortOrder == gen.Desc,
		Limit:        defaultLimit,
		Page:         defaultPage,
	}
	if f.NameContains != nil && *f.NameContains == "" {
		f.NameContains = nil // every name contains the empty string
	}
	if p.SortBy != nil {
		f.SortBy = string(*p.SortBy)
	}
	if p.Limit != nil {
		f.Limit = *p.Limit
	}
	if p.Page != nil {
		f.Page = *p.Page
	}
	return f
}

// CreateSession stores a new session; a missing id gets a UUID.
func (h *Handlers) CreateSession(ctx context.Context, req gen.CreateSessionRequestObject) (gen.CreateSessionResponseObject, error) {
	p := req.Params
	sessions, res, err := resolve[gen.CreateSessionResponseObject, gen.CreateSession400JSONResponse, gen.CreateSession404JSONResponse](h.dbs, p.DbId, p.Table)
	if sessions == nil {
		return res, err
	}
	s := toStoreSession(req.Body, p.Type, time.Now().Unix())
	if c := CallerFrom(ctx); c.Isolated {
		// As AgentOS does: an isolated caller's session is its own, whatever
		// the body says.
		s.UserID = &c.Subject
	}
	created, err := sessions.CreateSession(ctx, s)
	if errors.Is(err, store.ErrConflict) {
		detail := fmt.Sprintf("Session with id '%s' already exists. Use PATCH /sessions/%s to update it.", s.ID, s.ID)
		if c := CallerFrom(ctx); c.Isolated {
			// Another user's session: agno 3.0's wording, which does not
			// tell that the id belongs to someone else.
			if _, err := sessions.GetSession(ctx, s.ID, store.Owner{UserID: &c.Subject}); errors.Is(err, store.ErrNotFound) {
				detail = "Could not create a session with the supplied session_id. Omit session_id to have one generated, or choose a different one."
			} else if err != nil {
				return nil, fmt.Errorf("create session: %w", err)
			}
		}
		return gen.CreateSession409JSONResponse{Detail: detail, ErrorCode: apierr.CodeConflict}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	var out gen.CreateSession201JSONResponse
	return out, toAPIDetail(&out, created, nil) // a new session has no runs
}

func toStoreSession(body *gen.CreateSessionRequest, typ *gen.SessionType, now int64) store.Session {
	if body == nil {
		body = &gen.CreateSessionRequest{}
	}
	s := store.Session{
		ID:          deref(body.SessionId),
		Type:        string(gen.Agent),
		UserID:      body.UserId,
		AgentID:     body.AgentId,
		TeamID:      body.TeamId,
		WorkflowID:  body.WorkflowId,
		SessionData: map[string]any{},
		Metadata:    derefMap(body.Metadata),
		CreatedAt:   now,
		UpdatedAt:   &now,
	}
	if typ != nil {
		s.Type = string(*typ)
	}
	if s.ID == "" {
		s.ID = uuid.NewString()
	}
	if body.SessionName != nil {
		s.SessionData[keySessionName] = *body.SessionName
	}
	if body.SessionState != nil {
		s.SessionData[keySessionState] = *body.SessionState
	}
	return s
}

// GetSessionById returns one session in the shape of its type.
func (h *Handlers) GetSessionById(ctx context.Context, req gen.GetSessionByIdRequestObject) (gen.GetSessionByIdResponseObject, error) {
	p := req.Params
	sessions, res, err := resolve[gen.GetSessionByIdResponseObject, gen.GetSessionById400JSONResponse, gen.GetSessionById404JSONResponse](h.dbs, p.DbId, p.Table)
	if sessions == nil {
		return res, err
	}
	userID, ok := userFilter(ctx, p.UserId)
	if !ok {
		return gen.GetSessionById404JSONResponse(sessionNotFound(req.SessionId)), nil
	}
	// The session, then its chat history as its runs are read, in one
	// snapshot.
	return streamedDetail{
		runsReader: runsReader{ctx: ctx, sessions: sessions, id: req.SessionId, owner: store.Owner{Type: (*string)(p.Type), UserID: userID}},
		notFound:   gen.GetSessionById404JSONResponse(sessionNotFound(req.SessionId)),
	}, nil
}

// DeleteSession deletes one session and its runs.
func (h *Handlers) DeleteSession(ctx context.Context, req gen.DeleteSessionRequestObject) (gen.DeleteSessionResponseObject, error) {
	p := req.Params
	sessions, res, err := resolve[gen.DeleteSessionResponseObject, gen.DeleteSession400JSONResponse, gen.DeleteSession404JSONResponse](h.dbs, p.DbId, p.Table)
	if sessions == nil {
		return res, err
	}
	if p.DeleteMedia != nil && *p.DeleteMedia {
		return gen.DeleteSession503JSONResponse(noMediaStorage), nil
	}
	userID, ok := userFilter(ctx, p.UserId)
	if !ok {
		return gen.DeleteSession404JSONResponse(sessionNotFound(req.SessionId)), nil
	}
	err = sessions.DeleteSession(ctx, req.SessionId, store.Owner{UserID: userID})
	if errors.Is(err, store.ErrNotFound) {
		return gen.DeleteSession404JSONResponse(sessionNotFound(req.SessionId)), nil
	}
	if err != nil {
		return nil, fmt.Errorf("delete session: %w", err)
	}
	return gen.DeleteSession204Response{}, nil
}

// UpdateSession replaces the fields present in the body, clears those that
// are null and leaves the rest alone.
func (h *Handlers) UpdateSession(ctx context.Context, req gen.UpdateSessionRequestObject) (gen.UpdateSessionResponseObject, error) {
	p := req.Params
	sessions, res, err := resolve[gen.UpdateSessionResponseObject, gen.UpdateSession400JSONResponse, gen.UpdateSession404JSONResponse](h.dbs, p.DbId, p.Table)
	if sessions == nil {
		return res, err
	}
	patch := store.SessionPatch{
		Name:     toOptional(req.Body.SessionName),
		State:    toOptional(req.Body.SessionState),
		Metadata: toOptional(req.Body.Metadata),
		Summary:  toOptional(req.Body.Summary),
	}
	userID, ok := userFilter(ctx, p.UserId)
	if !ok {
		return gen.UpdateSession404JSONResponse(sessionNotFound(req.SessionId)), nil
	}
	s, err := sessions.UpdateSession(ctx, req.SessionId, store.Owner{UserID: userID}, patch)
	if errors.Is(err, store.ErrNotFound) {
		return gen.UpdateSession404JSONResponse(sessionNotFound(req.SessionId)), nil
	}
	if err != nil {
		return nil, fmt.Errorf("update session: %w", err)
	}
	runs, err := h.chatRuns(ctx, sessions, s)
	if err != nil {
		return nil, fmt.Errorf("update session: %w", err)
	}
	var out gen.UpdateSession200JSONResponse
	return out, toAPIDetail(&out, s, runs)
}

// RenameSession sets a session's name.
func (h *Handlers) RenameSession(ctx context.Context, req gen.RenameSessionRequestObject) (gen.RenameSessionResponseObject, error) {
	p := req.Params
	// Checked here, not by a minLength in the document, which would break
	// clients generated from AgentOS's.
	if strings.TrimSpace(req.Body.SessionName) == "" {
		return gen.RenameSession400JSONResponse(badRequest("Invalid session name")), nil
	}
	sessions, res, err := resolve[gen.RenameSessionResponseObject, gen.RenameSession400JSONResponse, gen.RenameSession404JSONResponse](h.dbs, p.DbId, p.Table)
	if sessions == nil {
		return res, err
	}
	userID, ok := userFilter(ctx, p.UserId)
	if !ok {
		return gen.RenameSession404JSONResponse(sessionNotFound(req.SessionId)), nil
	}
	name := req.Body.SessionName
	s, err := sessions.UpdateSession(ctx, req.SessionId, store.Owner{UserID: userID},
		store.SessionPatch{Name: store.Optional[string]{Set: true, Value: &name}})
	if errors.Is(err, store.ErrNotFound) {
		return gen.RenameSession404JSONResponse(sessionNotFound(req.SessionId)), nil
	}
	if err != nil {
		return nil, fmt.Errorf("rename session: %w", err)
	}
	runs, err := h.chatRuns(ctx, sessions, s)
	if err != nil {
		return nil, fmt.Errorf("rename session: %w", err)
	}
	var out gen.RenameSession200JSONResponse
	return out, toAPIDetail(&out, s, runs)
}

// GetSessionRuns lists a session's runs, oldest first.
func (h *Handlers) GetSessionRuns(ctx context.Context, req gen.GetSessionRunsRequestObject) (gen.GetSessionRunsResponseObject, error) {
	p := req.Params
	sessions, res, err := resolve[gen.GetSessionRunsResponseObject, gen.GetSessionRuns400JSONResponse, gen.GetSessionRuns404JSONResponse](h.dbs, p.DbId, p.Table)
	if sessions == nil {
		return res, err
	}
	userID, ok := userFilter(ctx, p.UserId)
	if !ok {
		return gen.GetSessionRuns404JSONResponse(notFound(fmt.Sprintf("Session with ID %s not found", req.SessionId))), nil
	}
	page := store.RunPage{}
	if p.Limit != nil || p.Page != nil {
		page = store.RunPage{Limit: defaultLimit, Page: defaultPage}
		if p.Limit != nil {
			page.Limit = *p.Limit
		}
		if p.Page != nil {
			page.Page = *p.Page
		}
	}
	return streamedRuns{
		runsReader: runsReader{ctx: ctx, sessions: sessions, id: req.SessionId, owner: store.Owner{Type: (*string)(p.Type), UserID: userID},
			filter: store.RunFilter{CreatedAfter: toInt64(p.CreatedAfter), CreatedBefore: toInt64(p.CreatedBefore), Listed: true}, page: page},
		notFound: gen.GetSessionRuns404JSONResponse(notFound(fmt.Sprintf("Session with ID %s not found", req.SessionId))),
	}, nil
}

// GetSessionRun returns one run of a session.
func (h *Handlers) GetSessionRun(ctx context.Context, req gen.GetSessionRunRequestObject) (gen.GetSessionRunResponseObject, error) {
	p := req.Params
	sessions, res, err := resolve[gen.GetSessionRunResponseObject, gen.GetSessionRun400JSONResponse, gen.GetSessionRun404JSONResponse](h.dbs, p.DbId, p.Table)
	if sessions == nil {
		return res, err
	}
	runNotFound := gen.GetSessionRun404JSONResponse(notFound(fmt.Sprintf("Run with ID %s not found in session %s", req.RunId, req.SessionId)))
	userID, ok := userFilter(ctx, p.UserId)
	if !ok {
		return runNotFound, nil
	}
	_, r, err := sessions.GetRun(ctx, req.SessionId, req.RunId, store.Owner{Type: (*string)(p.Type), UserID: userID})
	if errors.Is(err, store.ErrNotFound) {
		return runNotFound, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get run: %w", err)
	}
	var out gen.GetSessionRun200JSONResponse
	return out, toAPIRun(&out, shapeAlone(runData(r)), r)
}

func badRequest(detail string) gen.BadRequestResponse {
	return gen.BadRequestResponse{Detail: detail, ErrorCode: apierr.CodeBadRequest}
}

func notFound(detail string) gen.NotFoundResponse {
	return gen.NotFoundResponse{Detail: detail, ErrorCode: apierr.CodeNotFound}
}

func sessionNotFound(id string) gen.NotFoundResponse {
	return notFound(fmt.Sprintf("Session with id '%s' not found", id))
}

func derefMap(m *map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return *m
}

func toInt64(n *int) *int64 {
	if n == nil {
		return nil
	}
	v := int64(*n)
	return &v
}

// chatRuns reads the runs a session detail's chat history is built from:
// none for a workflow session, which has no chat history.
func (h *Handlers) chatRuns(ctx context.Context, sessions store.Sessions, s store.Session) ([]store.Run, error) {
	if s.Type == string(gen.Workflow) {
		return nil, nil
	}
	_, runs, err := sessions.ListRuns(ctx, s.ID, store.Owner{}, store.RunFilter{})
	if errors.Is(err, store.ErrNotFound) { // deleted since: no runs either
		return nil, nil
	}
	return runs, err
}
