package agnodb

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"testing"
)

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func messages(t *testing.T, run map[string]any) []map[string]any {
	t.Helper()
	raw, ok := run["messages"].([]any)
	if !ok {
		t.Fatalf("messages: got %T, want []any", run["messages"])
	}
	out := make([]map[string]any, len(raw))
	for i, m := range raw {
		out[i] = m.(map[string]any)
	}
	return out
}

func roles(t *testing.T, run map[string]any) []string {
	t.Helper()
	var out []string
	for _, m := range messages(t, run) {
		role := m["role"].(string)
		if m["from_history"] == true {
			role += "(history)"
		}
		out = append(out, role)
	}
	return out
}

var uuidShape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAgentRun(t *testing.T) {
	run := AgentRun("r1", "s1", "a1", "Hi there", "Hello!", 1700000000)
	want := []string{"agent_id", "agent_name", "content", "content_type", "created_at", "input", "messages", "metrics",
		"model", "model_provider", "run_id", "session_id", "status"}
	if got := keysOf(run); !reflect.DeepEqual(got, want) {
		t.Errorf("keys: got %v, want %v (None-valued keys left out, as to_dict does)", got, want)
	}
	if run["status"] != "COMPLETED" || run["content_type"] != "str" || run["content"] != "Hello!" ||
		!reflect.DeepEqual(run["input"], map[string]any{"input_content": "Hi there"}) || run["created_at"] != int64(1700000000) {
		t.Errorf("run: got %v", run)
	}
	if got := roles(t, run); !reflect.DeepEqual(got, []string{"system", "user", "assistant"}) {
		t.Errorf("roles: got %v, want system, user, assistant", got)
	}
	msgs := messages(t, run)
	if msgs[1]["content"] != "Hi there" || msgs[2]["content"] != "Hello!" {
		t.Errorf("messages: got %v", msgs)
	}
	ids := map[any]bool{}
	for _, m := range msgs {
		if m["from_history"] != false || m["stop_after_tool_call"] != false || m["created_at"] != int64(1700000000) {
			t.Errorf("message %v: want from_history and stop_after_tool_call false and created_at set", m)
		}
		if id, _ := m["id"].(string); !uuidShape.MatchString(id) {
			t.Errorf("message id: got %v, want a UUID", m["id"])
		}
		ids[m["id"]] = true
	}
	if len(ids) != len(msgs) {
		t.Errorf("message ids: got %d distinct for %d messages", len(ids), len(msgs))
	}
	if again := AgentRun("r1", "s1", "a1", "Hi there", "Hello!", 1700000000); !reflect.DeepEqual(again, run) {
		t.Errorf("AgentRun is not repeatable")
	}
	if RunType(run) != "agent" {
		t.Errorf("RunType: got %s, want agent", RunType(run))
	}
	if _, ok := msgs[0]["metrics"]; ok {
		t.Errorf("system message has metrics; agno drops empty metrics")
	}
	if _, ok := msgs[2]["metrics"].(map[string]any)["total_tokens"]; !ok {
		t.Errorf("assistant message metrics: got %v, want token counts", msgs[2]["metrics"])
	}
}

func TestMemberAndTeamRuns(t *testing.T) {
	member := MemberRun("r2", "s1", "a1", "r1", "Find flights", "Found.", 1700000001)
	if member["parent_run_id"] != "r1" || member["agent_id"] != "a1" || RunType(member) != "agent" {
		t.Errorf("member run: got %v", member)
	}
	team := TeamRun("r1", "s1", "t1", "Plan a trip", "Planned.", 1700000000)
	if team["team_id"] != "t1" || team["team_name"] != TeamName || RunType(team) != "team" {
		t.Errorf("team run: got %v", team)
	}
	if _, ok := team["agent_id"]; ok {
		t.Errorf("team run has agent_id; agno's team runs do not")
	}
	if got, ok := team["member_responses"].([]any); !ok || len(got) != 0 {
		t.Errorf("member_responses: got %v, want [] (store_member_responses off)", team["member_responses"])
	}
	WithMemberResponses(team, member)
	nested := team["member_responses"].([]any)
	if len(nested) != 1 || nested[0].(map[string]any)["run_id"] != "r2" {
		t.Errorf("member_responses: got %v, want the member run", nested)
	}
	nested[0].(map[string]any)["content"] = "changed"
	if member["content"] != "Found." {
		t.Errorf("WithMemberResponses nests the member itself, want a copy")
	}
}

func TestWorkflowRun(t *testing.T) {
	t.Run("StringInput", func(t *testing.T) {
		run := WorkflowRun("w1", "s1", "wf", "Write about agno", 1700000000)
		if run["input"] != "Write about agno" || run["workflow_id"] != "wf" || run["workflow_name"] != WorkflowName ||
			run["status"] != "COMPLETED" || RunType(run) != "workflow" {
			t.Errorf("run: got %v", run)
		}
		steps := run["step_executor_runs"].([]any)
		step := steps[0].(map[string]any)
		if got := messages(t, step)[1]["content"]; got != "Write about agno" {
			t.Errorf("step's user message: got %v, want the input", got)
		}
		if step["workflow_id"] != "wf" || step["workflow_step_id"] != run["step_results"].([]any)[0].(map[string]any)["step_id"] {
			t.Errorf("step run: got workflow_id %v, workflow_step_id %v", step["workflow_id"], step["workflow_step_id"])
		}
	})
	t.Run("ObjectInput", func(t *testing.T) {
		input := map[string]any{"topic": "agno", "words": 500}
		run := WorkflowRun("w1", "s1", "wf", input, 1700000000)
		if !reflect.DeepEqual(run["input"], input) {
			t.Errorf("input: got %v, want %v", run["input"], input)
		}
		step := run["step_executor_runs"].([]any)[0].(map[string]any)
		if got := messages(t, step)[1]["content"]; got != `{"topic": "agno", "words": 500}` {
			t.Errorf("step's user message: got %v, want the input's JSON", got)
		}
	})
	t.Run("NoInput", func(t *testing.T) {
		run := WorkflowRun("w1", "s1", "wf", nil, 1700000000)
		for _, k := range []string{"input", "step_executor_runs"} {
			if _, ok := run[k]; ok {
				t.Errorf("%s: present, want it left out", k)
			}
		}
	})
}

func TestIntroductionRun(t *testing.T) {
	run := IntroductionRun("r0", "s1", "a1", "I can help.", 1700000000)
	if _, ok := run["input"]; ok {
		t.Errorf("introduction has input, want none")
	}
	if run["status"] != "RUNNING" || RunType(run) != "agent" {
		t.Errorf("introduction: got status %v, type %s, want RUNNING, agent", run["status"], RunType(run))
	}
	if got := roles(t, run); !reflect.DeepEqual(got, []string{"assistant"}) {
		t.Errorf("roles: got %v, want one assistant message", got)
	}
}

func TestWithHistoryAndToolCall(t *testing.T) {
	earlier := AgentRun("r0", "s1", "a1", "Before", "Earlier answer", 1699999999)
	run := AgentRun("r1", "s1", "a1", "Now", "Answer", 1700000000)
	earlierMsgs := messages(t, earlier)
	WithHistory(run, earlierMsgs[1], earlierMsgs[2])
	WithToolCall(run, "web_search", map[string]any{"query": "agno"}, "3 results")
	want := []string{"system", "user(history)", "assistant(history)", "user", "assistant", "tool", "assistant"}
	if got := roles(t, run); !reflect.DeepEqual(got, want) {
		t.Errorf("roles: got %v, want %v", got, want)
	}
	if earlierMsgs[1]["from_history"] != false {
		t.Errorf("WithHistory changed the message it was given, want a copy marked")
	}
	msgs := messages(t, run)
	call := msgs[4]
	if _, ok := call["content"]; ok {
		t.Errorf("tool-calling assistant message has content, want none (None is left out)")
	}
	calls := call["tool_calls"].([]any)
	fn := calls[0].(map[string]any)["function"].(map[string]any)
	if fn["name"] != "web_search" || fn["arguments"] != `{"query": "agno"}` {
		t.Errorf("tool call: got %v", calls)
	}
	reply := msgs[5]
	if reply["content"] != "3 results" || reply["tool_call_id"] != calls[0].(map[string]any)["id"] || reply["tool_name"] != "web_search" {
		t.Errorf("tool message: got %v", reply)
	}
	tools := run["tools"].([]any)
	entry := tools[0].(map[string]any)
	wantKeys := []string{"answered", "approval_id", "approval_type", "child_run_id", "confirmation_note", "confirmed", "created_at",
		"external_execution_required", "external_execution_silent", "metrics", "requires_confirmation", "requires_user_input",
		"result", "stop_after_tool_call", "tool_args", "tool_call_error", "tool_call_id", "tool_name", "user_feedback_schema",
		"user_input_schema"}
	if got := keysOf(entry); !reflect.DeepEqual(got, wantKeys) {
		t.Errorf("tool entry keys: got %v, want every ToolExecution field %v", got, wantKeys)
	}
	if entry["result"] != "3 results" || entry["child_run_id"] != nil {
		t.Errorf("tool entry: got %v", entry)
	}
	WithToolCall(run, "web_search", map[string]any{"query": "more"}, "none")
	if tools := run["tools"].([]any); len(tools) != 2 || tools[0].(map[string]any)["tool_call_id"] == tools[1].(map[string]any)["tool_call_id"] {
		t.Errorf("two tool calls: got %v, want two entries with their own ids", tools)
	}
	// The whole dict is plain JSON both ways.
	text, err := PyDumps(run)
	if err != nil {
		t.Fatalf("PyDumps: %v", err)
	}
	var back map[string]any
	if err := json.Unmarshal([]byte(text), &back); err != nil || !sameJSON(t, back, run) {
		t.Errorf("round trip: %v", err)
	}
}
