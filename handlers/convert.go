package handlers

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/oapi-codegen/nullable"

	"github.com/agentos-sessions/agentos-sessions/gen"
	"github.com/agentos-sessions/agentos-sessions/store"
)

// Keys of session_data that AgentOS gives a meaning of their own.
const (
	keySessionName    = "session_name"
	keySessionState   = "session_state"
	keySessionMetrics = "session_metrics"
)

// toAPISession is a row of the session list.
func toAPISession(s store.Session) gen.SessionSchema {
	typ := gen.SessionType(s.Type)
	return gen.SessionSchema{
		SessionId:    s.ID,
		SessionName:  sessionName(s),
		SessionState: objectAt(s.SessionData, keySessionState),
		SessionType:  &typ,
		UserId:       s.UserID,
		AgentId:      s.AgentID,
		TeamId:       s.TeamID,
		WorkflowId:   s.WorkflowID,
		CreatedAt:    isoTime(&s.CreatedAt),
		UpdatedAt:    isoTime(s.UpdatedAt),
	}
}

// sessionDetail is one of the three shapes the document gives a session;
// every operation that returns one has its own union type with these methods.
type sessionDetail interface {
	FromAgentSessionDetailSchema(gen.AgentSessionDetailSchema) error
	FromTeamSessionDetailSchema(gen.TeamSessionDetailSchema) error
	FromWorkflowSessionDetailSchema(gen.WorkflowSessionDetailSchema) error
}

// toAPIDetail fills dst with the shape of the session's own type.
func toAPIDetail(dst sessionDetail, s store.Session) error {
	typ := gen.SessionType(s.Type)
	metrics := objectAt(s.SessionData, keySessionMetrics)
	switch typ {
	case gen.Team:
		return dst.FromTeamSessionDetailSchema(gen.TeamSessionDetailSchema{
			SessionId:      s.ID,
			SessionName:    sessionName(s),
			SessionType:    &typ,
			UserId:         s.UserID,
			TeamId:         s.TeamID,
			SessionSummary: objectOrNil(s.Summary),
			SessionState:   objectAt(s.SessionData, keySessionState),
			Metrics:        metrics,
			TotalTokens:    totalTokens(metrics),
			TeamData:       objectOrNil(s.TeamData),
			Metadata:       objectOrNil(s.Metadata),
			CreatedAt:      isoTime(&s.CreatedAt),
			UpdatedAt:      isoTime(s.UpdatedAt),
		})
	case gen.Workflow:
		created := int(s.CreatedAt)
		return dst.FromWorkflowSessionDetailSchema(gen.WorkflowSessionDetailSchema{
			SessionId:    s.ID,
			SessionName:  sessionName(s),
			SessionType:  &typ,
			UserId:       s.UserID,
			WorkflowId:   s.WorkflowID,
			WorkflowName: stringAt(s.WorkflowData, "name"),
			SessionData:  objectOrNil(s.SessionData),
			SessionState: objectAt(s.SessionData, keySessionState),
			WorkflowData: objectOrNil(s.WorkflowData),
			Metadata:     objectOrNil(s.Metadata),
			CreatedAt:    &created,
			UpdatedAt:    epochInt(s.UpdatedAt),
		})
	default:
		return dst.FromAgentSessionDetailSchema(gen.AgentSessionDetailSchema{
			AgentSessionId: s.ID,
			SessionId:      s.ID,
			SessionName:    sessionName(s),
			SessionType:    &typ,
			UserId:         s.UserID,
			AgentId:        s.AgentID,
			SessionSummary: objectOrNil(s.Summary),
			SessionState:   objectAt(s.SessionData, keySessionState),
			Metrics:        metrics,
			TotalTokens:    totalTokens(metrics),
			AgentData:      objectOrNil(s.AgentData),
			Metadata:       objectOrNil(s.Metadata),
			CreatedAt:      isoTime(&s.CreatedAt),
			UpdatedAt:      isoTime(s.UpdatedAt),
		})
	}
}

// runDetail is one of the three shapes the document gives a run.
type runDetail interface {
	FromRunSchema(gen.RunSchema) error
	FromTeamRunSchema(gen.TeamRunSchema) error
	FromWorkflowRunSchema(gen.WorkflowRunSchema) error
}

// toAPIRun fills dst with the run shape of its session's type. The run's
// columns are authoritative; the well-known keys of run_data (content,
// messages, metrics, events, …) fill the schema's other fields when they
// have the documented JSON type, and run_data is also served whole.
func toAPIRun(dst runDetail, sessionType string, r store.Run) error {
	switch gen.SessionType(sessionType) {
	case gen.Team:
		out := fromRunData[gen.TeamRunSchema](r.Data)
		out.RunId, out.ParentRunId, out.TeamId, out.Status = r.ID, r.ParentRunID, r.TeamID, r.Status
		out.RunInput, out.Content, out.RunData = runInput(r.Data), content[gen.TeamRunSchema_Content](r.Data), objectOrNil(r.Data)
		out.CreatedAt = isoTime(&r.CreatedAt)
		return dst.FromTeamRunSchema(out)
	case gen.Workflow:
		out := fromRunData[gen.WorkflowRunSchema](r.Data)
		created := int(r.CreatedAt)
		out.RunId, out.WorkflowId, out.UserId, out.Status = r.ID, r.WorkflowID, r.UserID, r.Status
		out.RunInput, out.Content, out.RunData = runInput(r.Data), content[gen.WorkflowRunSchema_Content](r.Data), objectOrNil(r.Data)
		out.CreatedAt = &created
		return dst.FromWorkflowRunSchema(out)
	default:
		out := fromRunData[gen.RunSchema](r.Data)
		out.RunId, out.ParentRunId, out.AgentId, out.UserId, out.Status = r.ID, r.ParentRunID, r.AgentID, r.UserID, r.Status
		out.RunInput, out.Content, out.RunData = runInput(r.Data), content[gen.RunSchema_Content](r.Data), objectOrNil(r.Data)
		out.CreatedAt = isoTime(&r.CreatedAt)
		return dst.FromRunSchema(out)
	}
}

// runDataOwnKeys are the schema fields that come from the run's columns or
// need a check of their own, never straight from run_data.
var runDataOwnKeys = []string{"run_id", "parent_run_id", "agent_id", "team_id", "workflow_id", "user_id",
	"status", "created_at", "run_data", "run_input", "content"}

// fromRunData decodes run_data's well-known keys into a run schema. A key
// whose value has another JSON type than the schema's is left out, rather
// than served against the document or half decoded.
func fromRunData[T any](data map[string]any) T {
	rest := make(map[string]any, len(data))
	for k, v := range data {
		rest[k] = v
	}
	for _, k := range runDataOwnKeys {
		delete(rest, k)
	}
	for {
		var out T
		raw, err := json.Marshal(rest)
		if err != nil {
			return out
		}
		err = json.Unmarshal(raw, &out)
		var typeErr *json.UnmarshalTypeError
		if err == nil || !errors.As(err, &typeErr) {
			return out
		}
		// Each pass drops the mistyped key, so the loop ends.
		top, _, _ := strings.Cut(typeErr.Field, ".")
		if _, ok := rest[top]; !ok {
			var zero T
			return zero
		}
		delete(rest, top)
	}
}

// content is run_data's "content" when it is a string or an object, the
// two types the document allows.
func content[T any, PT interface {
	*T
	UnmarshalJSON([]byte) error
}](data map[string]any) *T {
	switch v := data["content"].(type) {
	case string, map[string]any:
		raw, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		out := new(T)
		if PT(out).UnmarshalJSON(raw) != nil {
			return nil
		}
		return out
	}
	return nil
}

// runInput is the run's input text: run_data's "run_input", or AgentOS's
// "input": {"input_content": …}.
func runInput(data map[string]any) *string {
	if s := stringAt(data, "run_input"); s != nil {
		return s
	}
	if input, ok := data["input"].(map[string]any); ok {
		return stringAt(input, "input_content")
	}
	return nil
}

func sessionName(s store.Session) string {
	if name := stringAt(s.SessionData, keySessionName); name != nil {
		return *name
	}
	return "" // the schemas require a name; an unnamed session has an empty one
}

func totalTokens(metrics *map[string]any) *int {
	if metrics == nil {
		return nil
	}
	switch n := (*metrics)["total_tokens"].(type) {
	case float64:
		v := int(n)
		return &v
	case json.Number:
		if v, err := n.Int64(); err == nil {
			i := int(v)
			return &i
		}
	}
	return nil
}

func stringAt(m map[string]any, key string) *string {
	if s, ok := m[key].(string); ok {
		return &s
	}
	return nil
}

func objectAt(m map[string]any, key string) *map[string]any {
	if o, ok := m[key].(map[string]any); ok {
		return &o
	}
	return nil
}

func objectOrNil(m map[string]any) *map[string]any {
	if m == nil {
		return nil
	}
	return &m
}

// isoTime renders epoch seconds as the document's date-time, in UTC.
func isoTime(epoch *int64) *time.Time {
	if epoch == nil {
		return nil
	}
	t := time.Unix(*epoch, 0).UTC()
	return &t
}

func epochInt(epoch *int64) *int {
	if epoch == nil {
		return nil
	}
	v := int(*epoch)
	return &v
}

// toOptional reads one field of a partial update: absent, null or a value.
func toOptional[T any](n nullable.Nullable[T]) store.Optional[T] {
	if !n.IsSpecified() {
		return store.Optional[T]{}
	}
	if n.IsNull() {
		return store.Optional[T]{Set: true}
	}
	v := n.MustGet()
	return store.Optional[T]{Set: true, Value: &v}
}
