package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
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

// toAPISession is a row of the session list, as AgentOS renders the raw
// row (SessionSchema.from_dict): metrics and total_tokens from
// session_data.session_metrics, the summary column as it is stored.
func toAPISession(s store.Session) gen.SessionSchema {
	typ := gen.SessionType(s.Type)
	metrics := objectAt(s.SessionData, keySessionMetrics)
	return gen.SessionSchema{
		SessionId:      s.ID,
		SessionName:    s.Name,
		SessionState:   objectAt(s.SessionData, keySessionState),
		SessionType:    &typ,
		UserId:         s.UserID,
		AgentId:        s.AgentID,
		TeamId:         s.TeamID,
		WorkflowId:     s.WorkflowID,
		SessionSummary: objectOrNil(s.Summary),
		Metrics:        metrics,
		TotalTokens:    totalTokens(metrics),
		Metadata:       objectOrNil(s.Metadata),
		CreatedAt:      isoTime(&s.CreatedAt),
		UpdatedAt:      isoTime(s.UpdatedAt),
	}
}

// toAPIDetail fills dst, the union type of an operation that returns a
// session, with the shape of the session's own type, as AgentOS renders a
// deserialised session (the *SessionDetailSchema from_session methods):
// chat_history from runs, the summary through agno's SessionSummary,
// updated_at falling back to created_at. Where agno fails (session_metrics
// null, a summary with unknown keys or none) it renders what there is
// instead.
//
// Every shape carries session_type, the unions' discriminator, naming the
// shape it is. The shape is handed to dst encoded as it is: the generated
// From* methods would merge session_type into it by decoding and encoding
// the whole detail again, at four times the cost for a long chat history,
// with its keys re-sorted.
func toAPIDetail(dst json.Unmarshaler, s store.Session, runs []store.Run) error {
	data, err := json.Marshal(detailShape(s, runs))
	if err != nil {
		return fmt.Errorf("encode session detail: %w", err)
	}
	return dst.UnmarshalJSON(data)
}

// detailShape is the session as the schema of its type renders it.
func detailShape(s store.Session, runs []store.Run) any {
	updated := s.UpdatedAt
	if updated == nil {
		updated = &s.CreatedAt
	}
	switch typ := gen.SessionType(s.Type); typ {
	case gen.Team:
		metrics := detailMetrics(s.SessionData)
		return gen.TeamSessionDetailSchema{
			SessionId:      s.ID,
			SessionName:    s.Name,
			SessionType:    &typ,
			UserId:         s.UserID,
			TeamId:         s.TeamID,
			SessionSummary: sessionSummary(s.Summary),
			SessionState:   objectAt(s.SessionData, keySessionState),
			Metrics:        metrics,
			TotalTokens:    totalTokens(metrics),
			TeamData:       objectOrNil(s.TeamData),
			Metadata:       objectOrNil(s.Metadata),
			ChatHistory:    chatHistory(runs),
			CreatedAt:      isoTime(&s.CreatedAt),
			UpdatedAt:      isoTime(updated),
		}
	case gen.Workflow:
		created := int(s.CreatedAt)
		return gen.WorkflowSessionDetailSchema{
			SessionId:    s.ID,
			SessionName:  s.Name,
			SessionType:  &typ,
			UserId:       s.UserID,
			WorkflowId:   s.WorkflowID,
			WorkflowName: stringAt(s.WorkflowData, "name"),
			SessionData:  objectOrNil(s.SessionData),
			SessionState: objectAt(s.SessionData, keySessionState),
			WorkflowData: objectOrNil(s.WorkflowData),
			Metadata:     objectOrNil(s.Metadata),
			CreatedAt:    &created,
			UpdatedAt:    epochInt(updated),
		}
	default:
		// Any other stored type is rendered as an agent session, and says so.
		agent := gen.Agent
		metrics := detailMetrics(s.SessionData)
		var agentID *string
		if s.AgentID != nil && *s.AgentID != "" {
			agentID = s.AgentID
		}
		return gen.AgentSessionDetailSchema{
			AgentSessionId: s.ID,
			SessionId:      s.ID,
			SessionName:    s.Name,
			SessionType:    &agent,
			UserId:         s.UserID,
			AgentId:        agentID,
			SessionSummary: sessionSummary(s.Summary),
			SessionState:   objectAt(s.SessionData, keySessionState),
			Metrics:        metrics,
			TotalTokens:    totalTokens(metrics),
			AgentData:      objectOrNil(s.AgentData),
			Metadata:       objectOrNil(s.Metadata),
			ChatHistory:    chatHistory(runs),
			CreatedAt:      isoTime(&s.CreatedAt),
			UpdatedAt:      isoTime(updated),
		}
	}
}

// detailMetrics is the detail's metrics: session_data.session_metrics when
// session_data is a non-empty object (an empty object when it has none),
// absent when session_data is null or empty.
func detailMetrics(data map[string]any) *map[string]any {
	if len(data) == 0 {
		return nil
	}
	v, ok := data[keySessionMetrics]
	if !ok {
		return &map[string]any{}
	}
	m, _ := v.(map[string]any)
	return objectOrNil(m)
}

// sessionSummary is the summary as agno's SessionSummary keeps it:
// summary, topics and updated_at, the ones that are set.
func sessionSummary(summary map[string]any) *map[string]any {
	if summary == nil {
		return nil
	}
	out := make(map[string]any, 3)
	for _, k := range []string{"summary", "topics", "updated_at"} {
		if v, ok := summary[k]; ok && v != nil {
			out[k] = v
		}
	}
	return &out
}

// chatHistory is a session's chat history as agno builds it
// (get_chat_history): from the runs agno deserialises (those whose data has
// an agent_id or a team_id key), top-level ones only (no parent_run_id), of
// any status; their messages in order, without system and tool messages
// and without those marked from_history, each as Message.to_dict writes it.
func chatHistory(runs []store.Run) *[]map[string]any {
	history := make([]map[string]any, 0)
	for _, r := range runs {
		history = append(history, historyMessages(r)...)
	}
	return &history
}

// historyMessages are the messages one run gives the chat history.
func historyMessages(r store.Run) []map[string]any {
	_, agent := r.Data["agent_id"]
	_, team := r.Data["team_id"]
	if (!agent && !team) || r.Data["parent_run_id"] != nil {
		return nil
	}
	messages, _ := r.Data["messages"].([]any)
	var out []map[string]any
	for _, m := range messages {
		msg, ok := m.(map[string]any)
		if !ok || msg["from_history"] == true {
			continue
		}
		if role, _ := msg["role"].(string); role == "system" || role == "tool" {
			continue
		}
		out = append(out, messageDict(msg))
	}
	return out
}

// messageKeys are the keys Message.to_dict writes when they are set (not
// null, not an empty list or object).
var messageKeys = []string{
	"id", "content", "reasoning_content", "from_history", "compressed_content", "stop_after_tool_call",
	"role", "name", "tool_call_id", "tool_name", "tool_args", "tool_call_error", "tool_calls",
	"redacted_reasoning_content", "provider_data", "checkpoint_status", "checkpoint_created_at",
	"images", "audio", "videos", "files", "audio_output", "references", "metrics",
}

// messageDict renders a stored message as agno's Message.to_dict does.
func messageDict(msg map[string]any) map[string]any {
	out := make(map[string]any, len(msg))
	for _, k := range messageKeys {
		v, ok := msg[k]
		if !ok || v == nil {
			continue
		}
		switch c := v.(type) {
		case []any:
			if len(c) == 0 {
				continue
			}
		case map[string]any:
			if len(c) == 0 {
				continue
			}
		}
		out[k] = v
	}
	out["created_at"] = msg["created_at"]
	return out
}

// runDetail is one of the three shapes the document gives a run.
type runDetail interface {
	UnmarshalJSON([]byte) error
}

// runShape is the schema AgentOS renders a run with.
type runShape int

const (
	agentRun runShape = iota
	teamRun
	workflowRun
	droppedRun // a team session's run with neither an agent_id nor a team_id
)

// shapeInSession classifies a run of a session as GET
// /sessions/{id}/runs does (classify_session_run): an agent session's
// runs are all RunSchema; a team session's are RunSchema with an
// agent_id, TeamRunSchema with a team_id, and dropped otherwise; a
// workflow session's are WorkflowRunSchema with a workflow_id,
// TeamRunSchema with a team_id, RunSchema otherwise.
func shapeInSession(sessionType string, data map[string]any) runShape {
	switch gen.SessionType(sessionType) {
	case gen.Team:
		switch {
		case data["agent_id"] != nil:
			return agentRun
		case data["team_id"] != nil:
			return teamRun
		}
		return droppedRun
	case gen.Workflow:
		return shapeAlone(data)
	}
	return agentRun
}

// shapeAlone classifies a run read on its own (GET
// /sessions/{id}/runs/{run_id}), whatever its session's type.
func shapeAlone(data map[string]any) runShape {
	switch {
	case data["workflow_id"] != nil:
		return workflowRun
	case data["team_id"] != nil:
		return teamRun
	}
	return agentRun
}

// runData is the run as AgentOS sees it: its stored dict, with the run's
// id, status and creation time taken from its row where the dict has none
// (runs this server recorded before it wrote whole run dicts).
func runData(r store.Run) map[string]any {
	if dataIsWhole(r) {
		return r.Data
	}
	d := maps.Clone(r.Data)
	if d == nil {
		d = make(map[string]any)
	}
	if _, ok := d["run_id"]; !ok && r.ID != "" {
		d["run_id"] = r.ID
	}
	if _, ok := d["status"]; !ok && r.Status != nil {
		d["status"] = *r.Status
	}
	if _, ok := d["created_at"]; !ok && !r.Inline {
		d["created_at"] = json.Number(strconv.FormatInt(r.CreatedAt, 10))
	}
	return d
}

// dataIsWhole reports whether runData adds nothing to the run's dict, as
// for every run agno wrote: the dict is then the run as AgentOS sees it.
func dataIsWhole(r store.Run) bool {
	if r.Data == nil {
		return false
	}
	_, id := r.Data["run_id"]
	_, status := r.Data["status"]
	_, created := r.Data["created_at"]
	return (id || r.ID == "") && (status || r.Status == nil) && (created || r.Inline)
}

// toAPIRun fills dst with the run in the given shape (renderRun).
func toAPIRun(dst runDetail, shape runShape, r store.Run) error {
	raw, err := renderRun(shape, r)
	if err != nil {
		return err
	}
	return dst.UnmarshalJSON(raw)
}

// renderRun writes the run in the given shape, as AgentOS's RunSchema,
// TeamRunSchema and WorkflowRunSchema from_dict render a run dict: the
// well-known keys when they have the documented JSON type, and AgentOS's
// defaults for the missing ones. run_data is also served whole: as the
// database returned it when the dict is the whole run (dataIsWhole) and
// the store kept its text (store.Run.Raw), so that a run of many
// kilobytes is not encoded twice; encoded from the dict otherwise.
func renderRun(shape runShape, r store.Run) ([]byte, error) {
	stored := r.Raw
	if !dataIsWhole(r) {
		stored = nil
	}
	v := apiRun(shape, r, stored)
	out, err := json.Marshal(v)
	if err != nil || stored == nil {
		return out, err
	}
	// The schema's run_data was left out; it is the object's last member.
	whole := make([]byte, 0, len(out)+len(stored)+len(`,"run_data":`))
	whole = append(whole, out[:len(out)-1]...)
	if len(out) > len("{}") {
		whole = append(whole, ',')
	}
	whole = append(whole, `"run_data":`...)
	whole = append(whole, stored...)
	return append(whole, '}'), nil
}

// apiRun is the run in the given shape's schema. stored, when not nil, is
// the dict's JSON text: the schema is decoded from it directly, and its
// run_data is left for the caller to write.
func apiRun(shape runShape, r store.Run, stored []byte) any {
	d := runData(r)
	runID, _ := d["run_id"].(string)
	var whole *map[string]any
	if stored == nil {
		whole = &d
	}
	switch shape {
	case teamRun:
		var in struct {
			gen.TeamRunSchema
			CreatedAt json.RawMessage `json:"created_at"`
		}
		out := &in.TeamRunSchema
		if !decodeStored(stored, &in) {
			*out = fromRunData[gen.TeamRunSchema](d)
		}
		out.RunId = runID
		out.ParentRunId = stringOr(d, "parent_run_id", "")
		out.TeamId = stringOr(d, "team_id", "")
		out.RunInput = ptrTo(runInput(d, false))
		out.Content = content[gen.TeamRunSchema_Content](d)
		out.RunResponseFormat = ptrTo(responseFormat(d))
		out.ReasoningContent = stringOr(d, "reasoning_content", "")
		out.ReasoningSteps = listOr(d, "reasoning_steps", out.ReasoningSteps)
		out.Metrics = objectOr(d, "metrics", out.Metrics)
		out.Messages, out.Tools, out.Events = nonEmpty(out.Messages), nonEmpty(out.Tools), nonEmpty(out.Events)
		out.References = listOr(d, "references", out.References)
		out.ReasoningMessages = listOr(d, "reasoning_messages", out.ReasoningMessages)
		out.Images = listOr(d, "images", out.Images)
		out.Audio = listOr(d, "audio", out.Audio)
		out.Files = listOr(d, "files", out.Files)
		out.InputMedia = inputMedia(d)
		out.CreatedAt = isoTime(epochAt(d, "created_at"))
		out.RunData = whole
		return out
	case workflowRun:
		var in struct {
			gen.WorkflowRunSchema
			CreatedAt json.RawMessage `json:"created_at"`
		}
		out := &in.WorkflowRunSchema
		if !decodeStored(stored, &in) {
			*out = fromRunData[gen.WorkflowRunSchema](d)
		}
		out.RunId = runID
		out.RunInput = ptrTo(runInput(d, true))
		out.Events = listOr(d, "events", out.Events)
		out.WorkflowId = stringOr(d, "workflow_id", "")
		out.UserId = stringOr(d, "user_id", "")
		out.Content = content[gen.WorkflowRunSchema_Content](d)
		out.ContentType = stringOr(d, "content_type", "")
		out.Status = stringOr(d, "status", "")
		out.Metrics = objectOr(d, "metrics", out.Metrics)
		out.StepResults = listOr(d, "step_results", out.StepResults)
		out.ReasoningContent = stringOr(d, "reasoning_content", "")
		out.ReasoningSteps = listOr(d, "reasoning_steps", out.ReasoningSteps)
		out.References = listOr(d, "references", out.References)
		out.ReasoningMessages = listOr(d, "reasoning_messages", out.ReasoningMessages)
		out.Images = listOr(d, "images", out.Images)
		out.Videos = listOr(d, "videos", out.Videos)
		out.Audio = listOr(d, "audio", out.Audio)
		out.Files = listOr(d, "files", out.Files)
		out.CreatedAt = epochInt(epochAt(d, "created_at"))
		out.RunData = whole
		return out
	default:
		var in struct {
			gen.RunSchema
			CreatedAt json.RawMessage `json:"created_at"`
		}
		out := &in.RunSchema
		if !decodeStored(stored, &in) {
			*out = fromRunData[gen.RunSchema](d)
		}
		out.RunId = runID
		out.ParentRunId = stringOr(d, "parent_run_id", "")
		out.AgentId = stringOr(d, "agent_id", "")
		out.UserId = stringOr(d, "user_id", "")
		out.RunInput = ptrTo(runInput(d, false))
		out.Content = content[gen.RunSchema_Content](d)
		out.RunResponseFormat = ptrTo(responseFormat(d))
		out.ReasoningContent = stringOr(d, "reasoning_content", "")
		out.ReasoningSteps = listOr(d, "reasoning_steps", out.ReasoningSteps)
		out.Metrics = objectOr(d, "metrics", out.Metrics)
		out.Messages, out.Tools, out.Events = nonEmpty(out.Messages), nonEmpty(out.Tools), nonEmpty(out.Events)
		out.References = listOr(d, "references", out.References)
		out.ReasoningMessages = listOr(d, "reasoning_messages", out.ReasoningMessages)
		out.Images = listOr(d, "images", out.Images)
		out.Videos = listOr(d, "videos", out.Videos)
		out.Audio = listOr(d, "audio", out.Audio)
		out.Files = listOr(d, "files", out.Files)
		out.InputMedia = inputMedia(d)
		out.CreatedAt = isoTime(epochAt(d, "created_at"))
		out.RunData = whole
		return out
	}
}

// decodeStored decodes a run's stored JSON into in: a run schema embedded
// beside a created_at field, which hides the schema's (an ISO time, where
// the dict has epoch seconds) from decoding. The keys apiRun sets itself
// (runDataOwnKeys) are decoded and then overwritten. It reports false when
// there is no JSON, or when a key has another JSON type than the schema's:
// fromRunData then decodes the dict, leaving such keys out.
func decodeStored(stored []byte, in any) bool {
	return stored != nil && json.Unmarshal(stored, in) == nil
}

// runDataOwnKeys are the schema fields set from the run by toAPIRun, never
// decoded straight from the dict.
var runDataOwnKeys = []string{"run_id", "created_at", "run_data", "run_input", "content", "input_media"}

// fromRunData decodes a run dict's well-known keys into a run schema. A key
// whose value has another JSON type than the schema's is left out, rather
// than served against the document or half decoded.
func fromRunData[T any](data map[string]any) T {
	rest := maps.Clone(data)
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

// content is the run's "content" when it is a string or an object, the two
// types the document allows; "" when the run has none.
func content[T any, PT interface {
	*T
	UnmarshalJSON([]byte) error
}](data map[string]any) *T {
	v, ok := data["content"]
	if !ok {
		v = ""
	}
	switch v.(type) {
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

// runInput is AgentOS's run_input (get_run_input): for an agent or team
// run, input.input_content as text, else the last user message's content;
// for a workflow run, input as text, else the last user message of its
// first step executor run, else its own. When that yields nothing, a
// caller's run_input (this server's earlier convention) fills it.
func runInput(d map[string]any, workflow bool) string {
	text := agentOSRunInput(d, workflow)
	if text == "" {
		if s, ok := d["run_input"].(string); ok {
			return s
		}
	}
	return text
}

func agentOSRunInput(d map[string]any, workflow bool) string {
	if !workflow {
		if input, ok := d["input"].(map[string]any); ok && input["input_content"] != nil {
			return stringifyInput(input["input_content"])
		}
	} else {
		if input, ok := d["input"]; ok && input != nil {
			return stringifyInput(input)
		}
		if runs, ok := d["step_executor_runs"].([]any); ok && len(runs) > 0 {
			if first, ok := runs[0].(map[string]any); ok {
				if text, ok := lastUserMessage(first); ok {
					return text
				}
			}
		}
	}
	text, _ := lastUserMessage(d)
	return text
}

// lastUserMessage is the content of a run's last user message.
func lastUserMessage(d map[string]any) (string, bool) {
	messages, _ := d["messages"].([]any)
	for i := len(messages) - 1; i >= 0; i-- {
		msg, ok := messages[i].(map[string]any)
		if !ok || msg["role"] != "user" {
			continue
		}
		switch c := msg["content"].(type) {
		case string:
			return c, true
		case nil:
			return "", true
		default:
			return compactJSON(c), true
		}
	}
	return "", false
}

// stringifyInput renders an input as AgentOS's stringify_input_content
// does: a string as it is, an object as JSON indented by two spaces, a
// list whose first item is a user message as that message's content.
func stringifyInput(v any) string {
	switch in := v.(type) {
	case string:
		return in
	case map[string]any:
		raw, err := json.MarshalIndent(in, "", "  ")
		if err != nil {
			return ""
		}
		return string(raw)
	case []any:
		if len(in) > 0 {
			if first, ok := in[0].(map[string]any); ok && first["role"] == "user" {
				if c, ok := first["content"].(string); ok {
					return c
				}
			}
		}
	}
	return compactJSON(v)
}

// responseFormat is "text" for a run whose content_type is missing or
// "str", "json" otherwise.
func responseFormat(d map[string]any) string {
	if ct, ok := d["content_type"]; !ok || ct == "str" {
		return "text"
	}
	return "json"
}

// inputMedia is always {images, videos, audios, files}, from the run's
// input object.
func inputMedia(d map[string]any) *map[string]any {
	media := map[string]any{"images": []any{}, "videos": []any{}, "audios": []any{}, "files": []any{}}
	if input, ok := d["input"].(map[string]any); ok {
		for k := range media {
			if list, ok := input[k].([]any); ok {
				media[k] = list
			}
		}
	}
	return &media
}

// stringOr is d[key] when it is a string, def when the key is missing, and
// absent when it is null or another type.
func stringOr(d map[string]any, key, def string) *string {
	v, ok := d[key]
	if !ok {
		return &def
	}
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}

// listOr is decoded (the key's value when it had the right type), an empty
// list when the key is missing, and absent otherwise.
func listOr(d map[string]any, key string, decoded *[]map[string]any) *[]map[string]any {
	if _, ok := d[key]; !ok {
		return &[]map[string]any{}
	}
	return decoded
}

// objectOr is decoded, an empty object when the key is missing, and absent
// otherwise.
func objectOr(d map[string]any, key string, decoded *map[string]any) *map[string]any {
	if _, ok := d[key]; !ok {
		return &map[string]any{}
	}
	return decoded
}

// nonEmpty drops an empty list: AgentOS sends null there.
func nonEmpty(list *[]map[string]any) *[]map[string]any {
	if list == nil || len(*list) == 0 {
		return nil
	}
	return list
}

// epochAt reads an epoch-seconds number.
func epochAt(d map[string]any, key string) *int64 {
	switch n := d[key].(type) {
	case json.Number:
		if v, err := n.Int64(); err == nil {
			return &v
		}
		if f, err := n.Float64(); err == nil {
			v := int64(f)
			return &v
		}
	case float64:
		v := int64(n)
		return &v
	}
	return nil
}

// compactJSON writes v as JSON on one line.
func compactJSON(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(raw)
}

func ptrTo[T any](v T) *T { return &v }

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
