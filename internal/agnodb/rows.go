package agnodb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Session is one sessions-table row as agno's upsert_session writes it.
type Session struct {
	ID string
	// Type is session_type ("agent", "team" or "workflow"). Empty means the
	// first of AgentID, TeamID, WorkflowID that is set, else "agent".
	Type                                string
	AgentID, TeamID, WorkflowID, UserID *string
	// The JSON columns: JSON-marshalable values, written as Encodings says.
	SessionData, AgentData, TeamData, WorkflowData, Metadata, Summary any
	// Encodings sets a column's encoding by name ("session_data", …,
	// "summary", "runs"); a column not listed is Native. A nil value in a
	// Native column is JSON null, or SQL NULL for the other components'
	// *_data columns (see Native).
	Encodings map[string]Encoding
	// Runs is the inline runs array on layouts with the runs column (V2,
	// V3Migrated); nil is JSON null, as agno 2.x writes for a session
	// without runs. A session agno 3.0 created on a migrated table has SQL
	// NULL there: set Encodings["runs"] = SQLNull. Ignored on other layouts.
	Runs      []map[string]any
	CreatedAt int64
	// UpdatedAt nil leaves updated_at SQL NULL, as in old rows; agno itself
	// writes created_at there on insert.
	UpdatedAt *int64
}

// sessionJSONColumns are the JSON columns of the sessions table in order.
var sessionJSONColumns = []string{"session_data", "agent_data", "team_data", "workflow_data", "metadata", "runs", "summary"}

// InsertSession inserts s into the sessions table with raw SQL, each JSON
// column in its encoding. It fails the test on error.
func (f *DB) InsertSession(t testing.TB, s Session) {
	t.Helper()
	typ := s.Type
	if typ == "" {
		typ = "agent"
		switch {
		case s.AgentID != nil && *s.AgentID != "":
		case s.TeamID != nil && *s.TeamID != "":
			typ = "team"
		case s.WorkflowID != nil && *s.WorkflowID != "":
			typ = "workflow"
		}
	}
	for col := range s.Encodings {
		if !slices.Contains(sessionJSONColumns, col) {
			t.Fatalf("agnodb: session %s: Encodings names %q, which is not a JSON column of the sessions table", s.ID, col)
		}
	}
	var runs any
	if s.Runs != nil {
		runs = s.Runs
	}
	values := map[string]any{
		"session_data": s.SessionData, "agent_data": s.AgentData, "team_data": s.TeamData,
		"workflow_data": s.WorkflowData, "metadata": s.Metadata, "runs": runs, "summary": s.Summary,
	}

	cols := []string{"session_id", "session_type", "agent_id", "team_id", "workflow_id", "user_id"}
	args := []any{s.ID, typ, deref(s.AgentID), deref(s.TeamID), deref(s.WorkflowID), deref(s.UserID)}
	marks := make([]string, 0, 16)
	for i := range cols {
		marks = append(marks, f.ph(i+1))
	}
	for _, col := range sessionJSONColumns {
		if col == "runs" && !f.Layout.HasRunsColumn() {
			continue
		}
		otherData := strings.HasSuffix(col, "_data") && col != "session_data" && col != typ+"_data"
		st, err := f.encode(col, values[col], s.Encodings[col], otherData)
		if err != nil {
			t.Fatalf("agnodb: session %s: %s: %v", s.ID, col, err)
		}
		if st.omit {
			continue
		}
		cols = append(cols, col)
		args = append(args, st.text)
		marks = append(marks, f.jsonPh(len(args), f.opts.JSONType))
	}
	cols = append(cols, "created_at")
	args = append(args, s.CreatedAt)
	marks = append(marks, f.ph(len(args)))
	if s.UpdatedAt != nil {
		cols = append(cols, "updated_at")
		args = append(args, *s.UpdatedAt)
		marks = append(marks, f.ph(len(args)))
	}
	if err := f.insert(f.Sessions, cols, marks, args); err != nil {
		t.Fatalf("agnodb: insert session %s: %v", s.ID, err)
	}
}

// Run is one runs-table row as agno 3.0's upsert_run writes it
// (build_single_run_row in libs/agno/agno/db/utils.py).
type Run struct {
	// ID and SessionID default to Data's run_id and session_id.
	ID, SessionID string
	// Type is run_type; empty means agno's rule on Data: agent if it has
	// agent_id or agent_name, team if team_id or team_name, else workflow.
	Type string
	// Index is run_index; nil leaves it NULL, as in agno's legacy rows.
	Index *int64
	// Data is run_data, the whole run dict. agent_id, team_id,
	// workflow_id, parent_run_id and status are copied from it into their
	// columns; they must be strings when present.
	Data map[string]any
	// UserID is the session's user id, which agno writes on every run.
	UserID *string
	// CreatedAt defaults to Data's created_at, else 1700000000. agno writes
	// updated_at = now; the fixture writes CreatedAt, to stay repeatable.
	CreatedAt int64
	// Encoding is run_data's; Double is agno 3.0.0a1's shape.
	Encoding Encoding
}

// InsertRun inserts r into the runs table with raw SQL. It fails the test
// on error, and on a layout without a runs table.
func (f *DB) InsertRun(t testing.TB, r Run) {
	t.Helper()
	if !f.Layout.HasRunsTable() {
		t.Fatalf("agnodb: run %s: layout %s has no runs table", r.ID, f.Layout)
	}
	id, sessionID := r.ID, r.SessionID
	if id == "" {
		id, _ = r.Data["run_id"].(string)
	}
	if sessionID == "" {
		sessionID, _ = r.Data["session_id"].(string)
	}
	if id == "" || sessionID == "" {
		t.Fatalf("agnodb: run %q of session %q: both ids are needed, from Run or from Data", id, sessionID)
	}
	typ := r.Type
	if typ == "" {
		typ = RunType(r.Data)
	}
	copied := make([]any, 0, 5)
	for _, key := range []string{"agent_id", "team_id", "workflow_id", "parent_run_id", "status"} {
		v, ok := r.Data[key]
		switch v.(type) {
		case nil:
			copied = append(copied, nil)
		case string:
			copied = append(copied, v)
		default:
			if ok {
				t.Fatalf("agnodb: run %s: run_data's %s is %T, want a string", id, key, v)
			}
		}
	}
	createdAt := r.CreatedAt
	if createdAt == 0 {
		if n, ok := epoch(r.Data["created_at"]); ok && n != 0 {
			createdAt = n
		} else {
			createdAt = 1700000000
		}
	}
	var data any
	if r.Data != nil {
		data = r.Data
	}
	st, err := f.encode("run_data", data, r.Encoding, false)
	if err != nil {
		t.Fatalf("agnodb: run %s: run_data: %v", id, err)
	}

	cols := []string{"run_id", "session_id", "run_type", "agent_id", "team_id", "workflow_id", "user_id", "parent_run_id", "status", "run_index"}
	args := []any{id, sessionID, typ, copied[0], copied[1], copied[2], deref(r.UserID), copied[3], copied[4], derefInt(r.Index)}
	marks := make([]string, 0, 13)
	for i := range cols {
		marks = append(marks, f.ph(i+1))
	}
	if !st.omit {
		cols = append(cols, "run_data")
		args = append(args, st.text)
		marks = append(marks, f.jsonPh(len(args), "jsonb"))
	}
	cols = append(cols, "created_at", "updated_at")
	args = append(args, createdAt)
	marks = append(marks, f.ph(len(args)), f.ph(len(args)))
	if err := f.insert(f.Runs, cols, marks, args); err != nil {
		t.Fatalf("agnodb: insert run %s: %v", id, err)
	}
}

// RunType is agno 3.0's run_type for a run dict (get_run_type): agent if
// agent_id or agent_name is truthy, team if team_id or team_name is, else
// workflow. (The 3.0.0 migration looks at agent_id and team_id only.)
func RunType(data map[string]any) string {
	switch {
	case truthy(data["agent_id"]) || truthy(data["agent_name"]):
		return "agent"
	case truthy(data["team_id"]) || truthy(data["team_name"]):
		return "team"
	}
	return "workflow"
}

// ToolResult is one agno_tool_results row, and optionally its payload.
type ToolResult struct {
	// ResultID defaults to agno's result_id_for(SessionID, RunID, ToolCallID).
	ResultID string
	// Namespace defaults to DB.Namespace(SessionID), agno's namespace_for.
	// On PostgreSQL an explicit namespace must be unique to the test, since
	// the payload table is shared.
	Namespace string
	// Path defaults to agno's results/<run_id>/<result_id>.txt (or .json).
	Path             string
	SessionID, RunID string
	UserID           *string
	// WithPayload also writes the payload row in the payload table.
	WithPayload bool
	// ToolCallID defaults to call_1, call_2, … per session and run.
	ToolCallID string
	// Content is the tool's output; a few lines of text by default.
	Content string
	// CreatedAt defaults to 1700000000.
	CreatedAt int64
}

// InsertToolResult inserts r's index row, with every NOT NULL column
// filled as agno's ResultStore fills it, and, WithPayload, its payload row.
// It fails the test if Create was not asked for the tables.
func (f *DB) InsertToolResult(t testing.TB, r ToolResult) {
	t.Helper()
	if !f.opts.ToolResults {
		t.Fatalf("agnodb: tool result: the fixture has no %s (Options.ToolResults)", ToolResultsTable)
	}
	if r.WithPayload && !f.opts.Payloads {
		t.Fatalf("agnodb: tool result: the fixture has no payload table (Options.Payloads)")
	}
	f.mu.Lock()
	if r.ToolCallID == "" {
		key := [2]string{r.SessionID, r.RunID}
		f.toolCalls[key]++
		r.ToolCallID = fmt.Sprintf("call_%d", f.toolCalls[key])
	}
	f.mu.Unlock()
	if r.ResultID == "" {
		r.ResultID = ResultIDFor(r.SessionID, r.RunID, r.ToolCallID)
	}
	if r.Namespace == "" {
		r.Namespace = f.Namespace(r.SessionID)
	}
	if r.Content == "" {
		r.Content = fmt.Sprintf("Results for %s:\n1. agno stores sessions\n2. agno stores runs\n3. agno offloads long tool output", r.ToolCallID)
	}
	contentType, ext := "text", "txt"
	if looksLikeJSON(r.Content) {
		contentType, ext = "json", "json"
	}
	if r.Path == "" {
		r.Path = "results/" + safeSegment(r.RunID) + "/" + r.ResultID + "." + ext
	}
	if r.CreatedAt == 0 {
		r.CreatedAt = 1700000000
	}
	size := int64(len(r.Content))
	lines := int64(strings.Count(r.Content, "\n") + 1)
	preview := previewHead(r.Content)

	cols := []string{"result_id", "namespace", "path", "session_id", "run_id", "tool_call_id", "tool_name", "args_hash",
		"content_type", "size_bytes", "line_count", "preview", "user_id", "created_at", "expires_at"}
	args := []any{r.ResultID, r.Namespace, r.Path, r.SessionID, r.RunID, r.ToolCallID, "web_search", canonicalArgsHash,
		contentType, size, lines, preview, deref(r.UserID), r.CreatedAt, nil}
	marks := make([]string, len(cols))
	for i := range cols {
		marks[i] = f.ph(i + 1)
	}
	if err := f.insert(ToolResultsTable, cols, marks, args); err != nil {
		t.Fatalf("agnodb: insert tool result %s: %v", r.ResultID, err)
	}
	if !r.WithPayload {
		return
	}
	f.mu.Lock()
	f.namespaces[r.Namespace] = true
	f.mu.Unlock()
	cols = []string{"namespace", "path", "content", "size_bytes", "version", "created_at", "updated_at"}
	args = []any{r.Namespace, r.Path, r.Content, size, int64(1), r.CreatedAt, r.CreatedAt}
	marks = marks[:len(cols)]
	if err := f.insert(PayloadsTable, cols, marks, args); err != nil {
		t.Fatalf("agnodb: insert payload %s/%s: %v", r.Namespace, r.Path, err)
	}
}

// canonicalArgsHash is agno's _canonical_args_hash of {"query": "agno"},
// the arguments every fixture tool call gets: the SHA-256 of the sorted,
// compact JSON.
var canonicalArgsHash = sha256Hex(`{"query":"agno"}`)

// ResultIDFor is agno's result_id_for (libs/agno/agno/offload/store.py):
// "res_" and the first 10 hex digits of SHA-256("session:run:call").
func ResultIDFor(sessionID, runID, toolCallID string) string {
	return "res_" + sha256Hex(sessionID + ":" + runID + ":" + toolCallID)[:10]
}

// namespaceUnsafe is agno's _NAMESPACE_UNSAFE.
var namespaceUnsafe = regexp.MustCompile(`[^a-z0-9._@+-]`)

// Namespace is agno's namespace_for(session_id, scope) for this fixture:
// the scope is the PostgreSQL schema (agno uses its db_schema), and empty
// on SQLite. Since each test has its own schema, it is unique per test.
func (f *DB) Namespace(sessionID string) string {
	const maxSegment, hashChars = 128, 8
	readable := namespaceUnsafe.ReplaceAllString(strings.ToLower(sessionID), "_")
	if r := []rune(readable); len(r) > maxSegment-hashChars-1 {
		readable = string(r[:maxSegment-hashChars-1])
	}
	if readable == "" {
		readable = "_"
	}
	key := sessionID
	if f.Schema != "" {
		key = f.Schema + ":" + sessionID
	}
	return "tool-results/" + readable + "-" + sha256Hex(key)[:hashChars]
}

// segmentUnsafe is what agno's _safe_segment replaces.
var segmentUnsafe = regexp.MustCompile(`[\\/\x00-\x1f]`)

// safeSegment is agno's _safe_segment for a path segment.
func safeSegment(v string) string {
	cleaned := segmentUnsafe.ReplaceAllString(v, "_")
	if cleaned == "" {
		cleaned = "_"
	}
	if r := []rune(cleaned); len(r) > 120 {
		cleaned = string(r[:120])
	}
	return cleaned
}

// looksLikeJSON is agno's _looks_like_json.
func looksLikeJSON(s string) bool {
	trimmed := strings.TrimLeft(s, " \t\n\r\f\v")
	return trimmed != "" && (trimmed[0] == '{' || trimmed[0] == '[') && json.Valid([]byte(s))
}

// previewHead is agno's preview for a short output: its first 20 lines,
// at most 1200 characters.
func previewHead(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 20 {
		lines = lines[:20]
	}
	head := strings.Join(lines, "\n")
	if r := []rune(head); len(r) > 1200 {
		head = string(r[:1200])
	}
	return head
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// encode renders one JSON column's value in encoding e, resolving Native
// for the fixture's dialect, layout and column.
func (f *DB) encode(col string, v any, e Encoding, otherData bool) (storedText, error) {
	clean := false
	if e == Native {
		switch {
		case isNil(v) && otherData:
			e = SQLNull
		case isNil(v):
			e = JSONNull
		case f.Dialect == Postgres:
			e, clean = Plain, true
		case col == "runs", f.Layout == V2 && col != "run_data":
			e = Double
		default:
			e = Plain
		}
	}
	return encodeAs(v, e, clean)
}

// jsonPh is the bind parameter for a JSON column: on PostgreSQL the text
// is cast, so the driver sends text and PostgreSQL parses it as jsonType.
func (f *DB) jsonPh(n int, jsonType string) string {
	if f.Dialect == Postgres {
		return fmt.Sprintf("$%d::text::%s", n, jsonType)
	}
	return f.ph(n)
}

func (f *DB) insert(table string, cols, marks []string, args []any) error {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quote(c)
	}
	_, err := f.SQL.Exec("INSERT INTO "+f.Qualified(table)+" ("+strings.Join(quoted, ", ")+") VALUES ("+strings.Join(marks, ", ")+")", args...)
	return err
}

func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func derefInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// isNil reports whether v is nil or a nil map, slice or pointer.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// truthy is Python's truth value of a JSON-like value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case bool:
		return x
	}
	if n, ok := epoch(v); ok {
		return n != 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		return rv.Len() > 0
	}
	return true
}

// epoch reads an integer from the number types a run dict may hold.
func epoch(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) {
			return int64(x), true
		}
		return 0, false
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}
