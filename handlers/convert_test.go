package handlers

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/store"
)

// TestRenderRun_StoredTextMatchesDict renders runs from their stored JSON
// text (the fast path) and from the decoded dict alone, and requires the
// same JSON value, in every shape, for agno's run dicts and for dicts with
// keys of the wrong type, which the fast path must hand to fromRunData.
func TestRenderRun_StoredTextMatchesDict(t *testing.T) {
	dicts := []string{
		`{"run_id":"r1","agent_id":"a","session_id":"s","status":"COMPLETED","created_at":1700000000,
		  "input":{"input_content":"What is 2+2?"},"content":"4","content_type":"str",
		  "messages":[{"role":"system","content":"be brief <b>&</b>"},{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":"4"}],
		  "tools":[{"tool_name":"calc","tool_args":{"x":1}}],"metrics":{"input_tokens":12,"output_tokens":1,"duration":0.25},
		  "events":[{"event":"RunStarted"}],"model":"gpt","parent_run_id":"p","reasoning_content":"r","images":[{"url":"u"}]}`,
		`{"run_id":"r2","team_id":"t","status":"RUNNING","created_at":1700000001.5,"content":{"answer":4},
		  "member_responses":[{"run_id":"m"}],"metrics":"not an object","messages":{"not":"a list"}}`,
		`{"run_id":"r3","workflow_id":"w","status":"COMPLETED","created_at":1700000002,"input":{"q":"x"},
		  "step_results":[{"step_name":"s1"}],"step_executor_runs":[{"messages":[{"role":"user","content":"hi"}]}],"events":"bad"}`,
		`{"run_id":"r4","status":"ERROR","created_at":"2024-01-01T00:00:00Z","run_input":7,"content":[1,2],"input_media":"x","tools":null,"n":123456789012345678901}`,
		`{"run_id":"r5","status":"COMPLETED","created_at":1700000003,"agent_id":"a","run_data":{"nested":true},"text":"\u00e9\u2028"}`,
	}
	for i, text := range dicts {
		var d map[string]any
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("dict %d: %v", i, err)
		}
		status := "COMPLETED"
		r := store.Run{ID: d["run_id"].(string), Status: &status, Data: d, CreatedAt: 1, Raw: []byte(text)}
		if !dataIsWhole(r) {
			t.Fatalf("dict %d: not whole", i)
		}
		for _, shape := range []runShape{agentRun, teamRun, workflowRun} {
			fast, err := renderRun(shape, r)
			if err != nil {
				t.Fatal(err)
			}
			plain := r
			plain.Raw = nil
			slow, err := renderRun(shape, plain)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			if err := json.Unmarshal(fast, &a); err != nil {
				t.Fatalf("dict %d shape %d: fast path wrote invalid JSON: %v\n%s", i, shape, err, fast)
			}
			if err := json.Unmarshal(slow, &b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("dict %d shape %d:\nfast %s\nslow %s", i, shape, fast, slow)
			}
		}
	}
}

// TestRenderRun_AddsWhatTheDictLacks: a dict without its id, status or
// time (runs recorded by earlier builds) is served with them from the
// row, so the stored text is not used.
func TestRenderRun_AddsWhatTheDictLacks(t *testing.T) {
	status := "COMPLETED"
	text := `{"content":"x"}`
	r := store.Run{ID: "r9", Status: &status, Data: map[string]any{"content": "x"}, CreatedAt: 1700000000, Raw: []byte(text)}
	raw, err := renderRun(agentRun, r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		RunData map[string]any `json:"run_data"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"content": "x", "run_id": "r9", "status": "COMPLETED", "created_at": float64(1700000000)}
	if !reflect.DeepEqual(got.RunData, want) {
		t.Errorf("run_data = %v, want %v", got.RunData, want)
	}
}
