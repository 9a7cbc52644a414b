package agnodb

import (
	"crypto/sha256"
	"fmt"
)

// The names, model and prompt the run dicts carry, so tests can expect them.
const (
	AgentName     = "Assistant"
	TeamName      = "Research Team"
	WorkflowName  = "Blog Post Generator"
	Model         = "gpt-4o"
	ModelProvider = "OpenAI"
	SystemPrompt  = "You are a helpful assistant."
)

// The run dicts below are shaped as agno 2.x and 3.0 write them (reference
// §6; RunOutput, TeamRunOutput and WorkflowRunOutput.to_dict in
// libs/agno/agno/run/): keys whose value is None are left out, content_type
// is "str", created_at is epoch seconds, status is uppercase. Values are
// map[string]any and []any, as a decoded dict, so tests can change them.
// Message ids are UUID-shaped and derived from the run id, so the same
// call gives the same dict.

// AgentRun is a completed agent run: input {"input_content": userMessage},
// system, user and assistant messages, content answer, and metrics.
func AgentRun(runID, sessionID, agentID, userMessage, answer string, createdAt int64) map[string]any {
	run := completedRun(runID, sessionID, userMessage, answer, createdAt)
	run["agent_id"] = agentID
	run["agent_name"] = AgentName
	return run
}

// MemberRun is a team member's agent run, stored by agno as its own
// top-level run of the team's session with parent_run_id set to the team
// run. userMessage is the task the team delegated.
func MemberRun(runID, sessionID, agentID, parentRunID, userMessage, answer string, createdAt int64) map[string]any {
	run := AgentRun(runID, sessionID, agentID, userMessage, answer, createdAt)
	run["parent_run_id"] = parentRunID
	return run
}

// TeamRun is a completed team run with team_id and team_name. Its
// member_responses is empty, as agno stores it by default
// (store_member_responses false); WithMemberResponses nests member runs.
func TeamRun(runID, sessionID, teamID, userMessage, answer string, createdAt int64) map[string]any {
	run := completedRun(runID, sessionID, userMessage, answer, createdAt)
	run["team_id"] = teamID
	run["team_name"] = TeamName
	run["member_responses"] = []any{}
	return run
}

// completedRun holds what agent and team runs share: a model answered one
// user message.
func completedRun(runID, sessionID, userMessage, answer string, createdAt int64) map[string]any {
	return map[string]any{
		"run_id":         runID,
		"session_id":     sessionID,
		"input":          map[string]any{"input_content": userMessage},
		"content":        answer,
		"content_type":   "str",
		"model":          Model,
		"model_provider": ModelProvider,
		"messages": []any{
			Message(runID, 0, "system", SystemPrompt, createdAt),
			Message(runID, 1, "user", userMessage, createdAt),
			assistantMessage(runID, 2, answer, createdAt),
		},
		"metrics":    runMetrics(),
		"created_at": createdAt,
		"status":     "COMPLETED",
	}
}

// WithMemberResponses nests copies of members in team's member_responses,
// as agno does with store_member_responses on, and returns team.
func WithMemberResponses(team map[string]any, members ...map[string]any) map[string]any {
	nested, _ := team["member_responses"].([]any)
	for _, m := range members {
		nested = append(nested, clone(m))
	}
	team["member_responses"] = nested
	return team
}

// WorkflowRun is a completed workflow run with one agent step. input is
// stored as given (a string or an object) and left out when nil; with an
// input the step's agent run, whose user message is the input (an object
// as its JSON), is kept in step_executor_runs.
func WorkflowRun(runID, sessionID, workflowID string, input any, createdAt int64) map[string]any {
	stepID := uuidFrom(runID, "step")
	content := "Here is the blog post."
	run := map[string]any{
		"run_id":        runID,
		"workflow_id":   workflowID,
		"workflow_name": WorkflowName,
		"session_id":    sessionID,
		"content":       content,
		"content_type":  "str",
		"status":        "COMPLETED",
		"step_results": []any{map[string]any{
			"content":       content,
			"step_name":     "write",
			"step_id":       stepID,
			"step_type":     "Step",
			"executor_type": "agent",
			"executor_name": AgentName,
			"step_run_id":   runID + "-step-1",
			"images":        nil,
			"videos":        nil,
			"audio":         nil,
			"files":         nil,
			"metrics":       runMetrics(),
			"success":       true,
			"error":         nil,
			"stop":          false,
			"is_paused":     false,
		}},
		"metrics": map[string]any{
			"steps": map[string]any{"write": map[string]any{
				"step_name":     "write",
				"executor_type": "agent",
				"executor_name": AgentName,
				"metrics":       runMetrics(),
			}},
			"duration": 2.5,
		},
		"created_at": createdAt,
	}
	if input == nil {
		return run
	}
	run["input"] = input
	message, ok := input.(string)
	if !ok {
		var err error
		if message, err = PyDumps(input); err != nil {
			panic(fmt.Sprintf("agnodb: workflow input: %v", err))
		}
	}
	step := AgentRun(runID+"-step-1", sessionID, workflowID+"-writer", message, content, createdAt)
	step["workflow_id"] = workflowID
	step["workflow_step_id"] = stepID
	run["step_executor_runs"] = []any{step}
	return run
}

// IntroductionRun is the run agno stores for an agent's introduction: one
// assistant message, no input, status RUNNING.
func IntroductionRun(runID, sessionID, agentID, text string, createdAt int64) map[string]any {
	return map[string]any{
		"run_id":       runID,
		"agent_id":     agentID,
		"agent_name":   AgentName,
		"session_id":   sessionID,
		"content":      text,
		"content_type": "str",
		"messages": []any{
			Message(runID, 0, "assistant", text, createdAt),
		},
		"created_at": createdAt,
		"status":     "RUNNING",
	}
}

// Message is a message dict as agno's Message.to_dict writes it: None and
// empty collections left out, from_history and stop_after_tool_call kept
// as false, created_at always present. n makes its id unique in the run.
func Message(runID string, n int, role, content string, createdAt int64) map[string]any {
	return map[string]any{
		"id":                   uuidFrom(runID, fmt.Sprint("message", n)),
		"content":              content,
		"from_history":         false,
		"stop_after_tool_call": false,
		"role":                 role,
		"created_at":           createdAt,
	}
}

// WithHistory inserts copies of history, marked from_history as agno marks
// messages it adds from earlier runs, after run's system message, and
// returns run. Readers skip them when they build chat_history.
func WithHistory(run map[string]any, history ...map[string]any) map[string]any {
	msgs, _ := run["messages"].([]any)
	at := 0
	if len(msgs) > 0 {
		if m, ok := msgs[0].(map[string]any); ok && m["role"] == "system" {
			at = 1
		}
	}
	added := make([]any, 0, len(history))
	for _, h := range history {
		c := clone(h)
		c["from_history"] = true
		added = append(added, c)
	}
	out := make([]any, 0, len(msgs)+len(added))
	out = append(out, msgs[:at]...)
	out = append(out, added...)
	out = append(out, msgs[at:]...)
	run["messages"] = out
	return run
}

// WithToolCall adds one tool call to run as agno stores it: before the
// final assistant message, an assistant message with tool_calls (and no
// content) and the tool's message (role "tool"), and a ToolExecution entry
// in tools with every field present, nulls included. It returns run.
func WithToolCall(run map[string]any, toolName string, args map[string]any, result string) map[string]any {
	runID, _ := run["run_id"].(string)
	createdAt, _ := epoch(run["created_at"])
	tools, _ := run["tools"].([]any)
	callID := "call_" + uuidFrom(runID, fmt.Sprint("tool", len(tools)))[:8]
	arguments, err := PyDumps(args)
	if err != nil {
		panic(fmt.Sprintf("agnodb: tool arguments: %v", err))
	}
	call := map[string]any{
		"id":                   uuidFrom(runID, callID+"/call"),
		"from_history":         false,
		"stop_after_tool_call": false,
		"role":                 "assistant",
		"tool_calls": []any{map[string]any{
			"id":       callID,
			"type":     "function",
			"function": map[string]any{"name": toolName, "arguments": arguments},
		}},
		"metrics":    messageMetrics(),
		"created_at": createdAt,
	}
	reply := map[string]any{
		"id":                   uuidFrom(runID, callID+"/result"),
		"content":              result,
		"from_history":         false,
		"stop_after_tool_call": false,
		"role":                 "tool",
		"tool_call_id":         callID,
		"tool_name":            toolName,
		"tool_args":            clone(args),
		"tool_call_error":      false,
		"metrics":              map[string]any{"duration": 0.25},
		"created_at":           createdAt,
	}
	msgs, _ := run["messages"].([]any)
	at := len(msgs)
	if at > 0 {
		if m, ok := msgs[at-1].(map[string]any); ok && m["role"] == "assistant" {
			at--
		}
	}
	out := make([]any, 0, len(msgs)+2)
	out = append(out, msgs[:at]...)
	out = append(out, call, reply)
	out = append(out, msgs[at:]...)
	run["messages"] = out
	run["tools"] = append(tools, map[string]any{
		"tool_call_id":                callID,
		"tool_name":                   toolName,
		"tool_args":                   clone(args),
		"tool_call_error":             false,
		"result":                      result,
		"metrics":                     map[string]any{"start_time": float64(createdAt), "end_time": float64(createdAt) + 0.25, "duration": 0.25},
		"child_run_id":                nil,
		"stop_after_tool_call":        false,
		"created_at":                  createdAt,
		"requires_confirmation":       nil,
		"confirmed":                   nil,
		"confirmation_note":           nil,
		"requires_user_input":         nil,
		"user_input_schema":           nil,
		"user_feedback_schema":        nil,
		"answered":                    nil,
		"external_execution_required": nil,
		"external_execution_silent":   nil,
		"approval_type":               nil,
		"approval_id":                 nil,
	})
	return run
}

// assistantMessage is the model's answer, with its token metrics.
func assistantMessage(runID string, n int, content string, createdAt int64) map[string]any {
	m := Message(runID, n, "assistant", content, createdAt)
	m["metrics"] = messageMetrics()
	return m
}

// messageMetrics is MessageMetrics.to_dict: zero counts left out.
func messageMetrics() map[string]any {
	return map[string]any{"input_tokens": 120, "output_tokens": 30, "total_tokens": 150, "time_to_first_token": 0.41, "duration": 1.25}
}

// runMetrics is RunMetrics.to_dict with one model in details.
func runMetrics() map[string]any {
	return map[string]any{
		"input_tokens":        120,
		"output_tokens":       30,
		"total_tokens":        150,
		"time_to_first_token": 0.41,
		"duration":            1.25,
		"details": map[string]any{"model": []any{map[string]any{
			"input_tokens": 120, "output_tokens": 30, "total_tokens": 150, "id": Model, "provider": ModelProvider,
		}}},
	}
}

// uuidFrom makes a UUID-shaped id from a run id and a label.
func uuidFrom(runID, label string) string {
	sum := sha256.Sum256([]byte(runID + "\x00" + label))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// clone deep-copies a JSON-like map.
func clone(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return clone(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}
