package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"strings"
)

// encodeJSON returns the JSON text of v for a JSON column, single-encoded
// as both agno versions read it, or nil (SQL NULL) for a nil map. HTML
// characters are written as they are, not as \u003c and the like, so the
// stored text reads as it was sent.
func encodeJSON(v any) (any, error) {
	if m, ok := v.(map[string]any); ok && m == nil {
		return nil, nil
	}
	if v == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// decodeValue reads a JSON column the way agno's readers do, whatever
// wrote it: SQL NULL and JSON null are absent (nil); otherwise the text is
// parsed, and a JSON string that itself holds JSON (SQLite before agno's
// encoding fix, agno 3.0.0a1's run_data, SQLite's text "null") is parsed
// once more. Numbers decode as json.Number, so that they are written back
// exactly as they were read. Text that is not JSON is absent too: one
// damaged row must not make a whole list fail.
func decodeValue(raw []byte) any {
	v, _ := decodeText(raw)
	return v
}

// decodeText is decodeValue, with the JSON text of the value it returns:
// raw, or the string's contents when the value was encoded twice.
func decodeText(raw []byte) (any, []byte) {
	if raw == nil {
		return nil, nil
	}
	v, ok := parseJSON(raw)
	if !ok {
		return nil, nil
	}
	if s, isString := v.(string); isString {
		if inner, ok := parseJSON([]byte(s)); ok {
			return inner, []byte(s)
		}
	}
	return v, raw
}

func parseJSON(raw []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if dec.More() {
		return nil, false
	}
	return v, true
}

// decodeObject reads one of the object columns (session_data, agent_data,
// team_data, workflow_data, metadata, summary, run_data): anything but an
// object is absent.
func decodeObject(raw []byte) map[string]any {
	m, _ := decodeValue(raw).(map[string]any)
	return m
}

// decodeRuns reads agno 2.x's runs column: the objects of an array, in
// order (anything else is no runs).
func decodeRuns(raw []byte) []map[string]any {
	list, _ := decodeValue(raw).([]any)
	runs := make([]map[string]any, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			runs = append(runs, m)
		}
	}
	return runs
}

// sessionRow receives one row of a session read: sessionColumns, then
// the name source and the runs column (layoutSQL.readCols).
type sessionRow struct {
	s          Session
	json       [6][]byte // session_data … summary
	nameSource sql.NullString
	legacy     []byte
}

func (r *sessionRow) dest() []any {
	return []any{
		&r.s.ID, &r.s.Type, &r.s.AgentID, &r.s.TeamID, &r.s.WorkflowID, &r.s.UserID,
		&r.json[0], &r.json[1], &r.json[2], &r.json[3], &r.json[4], &r.json[5],
		&r.s.CreatedAt, &r.s.UpdatedAt, &r.nameSource, &r.legacy,
	}
}

// listDest receives sessionColumns and the name source (layoutSQL.listCols).
func (r *sessionRow) listDest() []any { return r.dest()[:len(sessionColumns)+1] }

// plainDest receives sessionColumns alone.
func (r *sessionRow) plainDest() []any { return r.dest()[:len(sessionColumns)] }

func (r *sessionRow) session() Session {
	s := r.s
	s.SessionData = decodeObject(r.json[0])
	s.AgentData = decodeObject(r.json[1])
	s.TeamData = decodeObject(r.json[2])
	s.WorkflowData = decodeObject(r.json[3])
	s.Metadata = decodeObject(r.json[4])
	s.Summary = decodeObject(r.json[5])
	s.Name = sessionName(s, r.nameSource)
	return s
}

// sessionName is the name AgentOS shows for a session
// (get_session_name): session_data's session_name when it is there and not
// null, even "", else the name the database found in the runs
// (runSQL.nameSource), rendered as AgentOS renders it, with two
// differences: an object input is written as compact JSON where agno
// pretty-prints it, and an object whose input_content is a string gives
// that string.
func sessionName(s Session, source sql.NullString) string {
	if v, ok := s.SessionData["session_name"]; ok && v != nil {
		if name, ok := v.(string); ok {
			return name
		}
		return compactJSON(v)
	}
	if !source.Valid || source.String == "" {
		return ""
	}
	tag, text := source.String[0], source.String[1:]
	v, ok := parseJSON([]byte(text))
	if !ok {
		return ""
	}
	switch tag {
	case 'm':
		if str, ok := v.(string); ok {
			return str
		}
		return compactJSON(v)
	case 'i':
		return inputText(v)
	case 'w':
		switch in := v.(type) {
		case string:
			return in
		case map[string]any:
			return compactJSON(in)
		}
		if name, ok := s.WorkflowData["name"].(string); ok && name != "" {
			return "New " + name + " Session"
		}
	}
	return ""
}

// inputText is an agent or team run's input as text: a string as it is;
// an object's input_content when that is a string; anything else as
// compact JSON.
func inputText(v any) string {
	switch in := v.(type) {
	case string:
		return in
	case map[string]any:
		if content, ok := in["input_content"].(string); ok {
			return content
		}
	}
	return compactJSON(v)
}

// compactJSON writes v as JSON on one line, as it was stored.
func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// runRow receives one row of runColumns.
type runRow struct {
	r    Run
	data []byte
}

func (r *runRow) dest() []any {
	return []any{
		&r.r.ID, &r.r.SessionID, &r.r.Type, &r.r.AgentID, &r.r.TeamID, &r.r.WorkflowID, &r.r.UserID,
		&r.r.ParentRunID, &r.r.Status, &r.r.Index, &r.data, &r.r.CreatedAt, &r.r.UpdatedAt,
	}
}

func (r *runRow) run() Run {
	run := r.r
	v, text := decodeText(r.data)
	if m, ok := v.(map[string]any); ok {
		run.Data, run.Raw = m, text
	} else {
		run.Data = map[string]any{}
	}
	return run
}

// scanRuns reads every run rows returns and closes it.
func scanRuns(rows *sql.Rows) ([]Run, error) {
	defer rows.Close()
	runs := make([]Run, 0)
	for rows.Next() {
		var r runRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		runs = append(runs, r.run())
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return runs, rows.Close()
}

// legacyRun is an entry of agno 2.x's runs array as a Run: the columns a
// runs-table row would have are read from the entry itself.
func legacyRun(sessionID string, data map[string]any) Run {
	r := Run{SessionID: sessionID, Data: data, Inline: true}
	r.ID, _ = data["run_id"].(string)
	str := func(key string) *string {
		if s, ok := data[key].(string); ok {
			return &s
		}
		return nil
	}
	r.AgentID, r.TeamID, r.WorkflowID = str("agent_id"), str("team_id"), str("workflow_id")
	r.UserID, r.ParentRunID, r.Status = str("user_id"), str("parent_run_id"), str("status")
	if n, ok := data["created_at"].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			r.CreatedAt = v
		} else if f, err := n.Float64(); err == nil {
			r.CreatedAt = int64(f)
		}
	}
	return r
}
