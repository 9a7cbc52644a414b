package handlers

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentos-sessions/agentos-sessions/apierr"
	"github.com/agentos-sessions/agentos-sessions/gen"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// DeleteSessions deletes every listed (session_id, session_type) pair and
// all its runs in one transaction.
func (h *Handlers) DeleteSessions(ctx context.Context, req gen.DeleteSessionsRequestObject) (gen.DeleteSessionsResponseObject, error) {
	body, params := req.Body, req.Params
	if len(body.SessionIds) != len(body.SessionTypes) {
		return gen.DeleteSessions400JSONResponse{
			Detail:    "Session IDs and session types must have the same length",
			ErrorCode: apierr.CodeBadRequest,
		}, nil
	}
	sessions, res, err := resolve[gen.DeleteSessionsResponseObject, gen.DeleteSessions400JSONResponse, gen.DeleteSessions404JSONResponse](h.dbs, params.DbId, params.Table)
	if sessions == nil {
		return res, err
	}
	if params.DeleteMedia != nil && *params.DeleteMedia {
		return gen.DeleteSessions503JSONResponse(noMediaStorage), nil
	}

	wantReport := PreferencesFrom(ctx).ReturnRepresentation
	// Only a report needs each pair once; the store deletes a repeated
	// pair once either way.
	keys := toStoreKeys(body.SessionIds, body.SessionTypes, wantReport)
	var deleted store.DeleteResult
	// An isolated caller naming another user deletes nothing.
	if userID, ok := userFilter(ctx, params.UserId); ok {
		deleted, err = sessions.DeleteSessions(ctx, keys, store.DeleteOptions{UserID: userID, Report: wantReport})
		if err != nil {
			return nil, err
		}
	}
	if !wantReport {
		return gen.DeleteSessions204Response{}, nil
	}
	applied := "return=representation"
	return gen.DeleteSessions200JSONResponse{
		Body:    toDeleteReport(keys, deleted.Deleted),
		Headers: gen.DeleteSessions200ResponseHeaders{PreferenceApplied: &applied},
	}, nil
}

// toStoreKeys pairs ids with types. With dedupe it drops repeated pairs,
// keeping the order in which each pair first appears.
func toStoreKeys(ids []string, types []gen.SessionType, dedupe bool) []store.SessionKey {
	keys := make([]store.SessionKey, 0, len(ids))
	var seen map[store.SessionKey]struct{}
	if dedupe {
		seen = make(map[store.SessionKey]struct{}, len(ids))
	}
	for i, id := range ids {
		k := store.SessionKey{ID: id, Type: string(types[i])}
		if dedupe {
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
		}
		keys = append(keys, k)
	}
	return keys
}

// toDeleteReport sorts the requested keys, in request order, into those the
// store deleted and those it did not find.
func toDeleteReport(keys []store.SessionKey, deleted []store.DeletedSession) gen.DeleteSessionsReport {
	runs := make(map[store.SessionKey]int64, len(deleted))
	for _, d := range deleted {
		runs[store.SessionKey{ID: d.ID, Type: d.Type}] = d.RunsDeleted
	}
	report := gen.DeleteSessionsReport{
		Deleted:  make([]gen.DeletedSession, 0, len(deleted)),
		NotFound: make([]gen.SessionRef, 0, len(keys)-len(deleted)),
	}
	for _, k := range keys {
		if n, ok := runs[k]; ok {
			report.Deleted = append(report.Deleted, gen.DeletedSession{SessionId: k.ID, SessionType: gen.SessionType(k.Type), RunsDeleted: n})
			continue
		}
		report.NotFound = append(report.NotFound, gen.SessionRef{SessionId: k.ID, SessionType: gen.SessionType(k.Type)})
	}
	return report
}

// noMediaStorage answers delete_media=true (agno 3.0's parameter), as
// AgentOS does without media storage: this server has none, so nothing is
// deleted.
var noMediaStorage = gen.ServiceUnavailableResponse{Detail: "Media storage is not configured on AgentOS", ErrorCode: apierr.CodeServiceUnavailable}

// resolve finds the session table a request names by its db_id and table.
// When the request names none that is configured, it returns a nil table
// and the operation's response R: B (its 400) or N (its 404), worded as
// AgentOS words them. Other errors are unexpected.
func resolve[R any, B, N ~apierr.Body](dbs Resolver, dbID, table *string) (store.Sessions, R, error) {
	var zero R
	sessions, err := dbs.Resolve(deref(dbID), deref(table))
	switch {
	case err == nil:
		return sessions, zero, nil
	case errors.Is(err, store.ErrTableNeedsDatabase):
		return nil, any(B{Detail: "The db_id query parameter is required when passing a table", ErrorCode: apierr.CodeBadRequest}).(R), nil
	case errors.Is(err, store.ErrDatabaseAmbiguous):
		return nil, any(B{Detail: "The db_id query parameter is required when using multiple databases", ErrorCode: apierr.CodeBadRequest}).(R), nil
	case errors.Is(err, store.ErrDatabaseNotFound):
		return nil, any(N{Detail: fmt.Sprintf("No database found with id '%s'", deref(dbID)), ErrorCode: apierr.CodeNotFound}).(R), nil
	case errors.Is(err, store.ErrTableNotFound):
		detail := fmt.Sprintf("No database with id '%s' has table '%s'", deref(dbID), deref(table))
		return nil, any(N{Detail: detail, ErrorCode: apierr.CodeNotFound}).(R), nil
	}
	return nil, zero, fmt.Errorf("resolve database: %w", err)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
