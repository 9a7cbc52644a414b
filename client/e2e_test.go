package client_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/agentos-sessions/agentos-sessions/client"
	"github.com/agentos-sessions/agentos-sessions/internal/testkit"
	"github.com/agentos-sessions/agentos-sessions/server"
)

const key = "e2e-key"

// listen serves the full stack from server.NewServer on a loopback port and
// returns a generated client that authenticates to it, and its address.
func listen(t *testing.T, url string) (*client.ClientWithResponses, string) {
	t.Helper()
	base := testkit.NewAPI(t, url, server.Config{SecurityKey: key}).Listen(t)
	c, err := client.NewClientWithResponses(base, client.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+key)
		return nil
	}))
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c, base
}

func ptr[T any](v T) *T { return &v }

func TestClient_EndToEnd(t *testing.T) {
	t.Parallel()
	testkit.EachBackend(t, func(t *testing.T, newURL testkit.NewURL) {
		c, base := listen(t, newURL(t))
		ctx := context.Background()

		// Create one session of each type, each with runs.
		created := map[string]client.SessionType{"e2e-agent": client.Agent, "e2e-team": client.Team, "e2e-workflow": client.Workflow}
		for id, typ := range created {
			res, err := c.CreateSessionWithResponse(ctx, &client.CreateSessionParams{Type: ptr(typ)},
				client.CreateSessionRequest{SessionId: ptr(id), SessionName: ptr("Trip " + id), UserId: ptr("u-1"),
					AgentId:    map[client.SessionType]*string{client.Agent: ptr("helper")}[typ],
					TeamId:     map[client.SessionType]*string{client.Team: ptr("planners")}[typ],
					WorkflowId: map[client.SessionType]*string{client.Workflow: ptr("blog")}[typ]})
			if err != nil || res.JSON201 == nil {
				t.Fatalf("create %s: %v, status %d %s", id, err, res.StatusCode(), res.Body)
			}
			// Run ids are unique across sessions, as agno keys runs.
			for _, run := range []string{id + "-r1", id + "-r2"} {
				res, err := c.RecordSessionRunWithResponse(ctx, id, &client.RecordSessionRunParams{},
					client.CreateRunRequest{RunId: ptr(run), Status: ptr("COMPLETED"), RunData: &map[string]any{"content": "hi"}})
				if err != nil || res.JSON201 == nil {
					t.Fatalf("record run %s of %s: %v, status %d %s", run, id, err, res.StatusCode(), res.Body)
				}
			}
		}

		// List, all and by type.
		list, err := c.GetSessionsWithResponse(ctx, &client.GetSessionsParams{UserId: ptr("u-1")})
		if err != nil || list.JSON200 == nil || list.JSON200.Meta.TotalCount == nil || *list.JSON200.Meta.TotalCount != 3 || len(list.JSON200.Data) != 3 {
			t.Fatalf("list: %v, status %d %s; want 3 sessions", err, list.StatusCode(), list.Body)
		}
		teams, err := c.GetSessionsWithResponse(ctx, &client.GetSessionsParams{Type: ptr(client.Team)})
		if err != nil || teams.JSON200 == nil || len(teams.JSON200.Data) != 1 || teams.JSON200.Data[0].SessionId != "e2e-team" {
			t.Fatalf("list teams: %v, status %d %s; want e2e-team alone", err, teams.StatusCode(), teams.Body)
		}
		one, err := c.GetSessionByIdWithResponse(ctx, "e2e-team", &client.GetSessionByIdParams{})
		if err != nil || one.JSON200 == nil {
			t.Fatalf("get e2e-team: %v, status %d", err, one.StatusCode())
		}
		// session_type, the discriminator, picks the shape.
		if detail, err := one.JSON200.ValueByDiscriminator(); err != nil {
			t.Errorf("e2e-team by its discriminator: %v", err)
		} else if team, ok := detail.(client.TeamSessionDetailSchema); !ok || team.SessionName != "Trip e2e-team" {
			t.Errorf("e2e-team by its discriminator: %T %+v, want the team session", detail, detail)
		}

		// Bulk delete two of them, with a report.
		del, err := c.DeleteSessionsWithResponse(ctx, &client.DeleteSessionsParams{Prefer: ptr("return=representation")},
			client.DeleteSessionRequest{SessionIds: []string{"e2e-agent", "e2e-team", "e2e-ghost"},
				SessionTypes: []client.SessionType{client.Agent, client.Team, client.Agent}})
		if err != nil || del.JSON200 == nil {
			t.Fatalf("bulk delete: %v, status %d %s", err, del.StatusCode(), del.Body)
		}
		if got := del.JSON200; len(got.Deleted) != 2 || len(got.NotFound) != 1 || got.NotFound[0].SessionId != "e2e-ghost" {
			t.Errorf("report = %+v, want 2 deleted and e2e-ghost not found", got)
		}
		for _, d := range del.JSON200.Deleted {
			if d.RunsDeleted != 2 {
				t.Errorf("%s: runs_deleted = %d, want 2", d.SessionId, d.RunsDeleted)
			}
		}
		if left, _ := c.GetSessionsWithResponse(ctx, &client.GetSessionsParams{}); left.JSON200 == nil || left.JSON200.Meta.TotalCount == nil || *left.JSON200.Meta.TotalCount != 1 {
			t.Errorf("after the delete: %s, want only e2e-workflow", left.Body)
		}

		// Error bodies, typed.
		mismatch, _ := c.DeleteSessionsWithResponse(ctx, nil, client.DeleteSessionRequest{SessionIds: []string{"a", "b"}, SessionTypes: []client.SessionType{client.Agent}})
		if mismatch.JSON400 == nil || mismatch.JSON400.ErrorCode != "BAD_REQUEST" || mismatch.JSON400.Detail != "Session IDs and session types must have the same length" {
			t.Errorf("length mismatch: status %d %s, want 400 BAD_REQUEST", mismatch.StatusCode(), mismatch.Body)
		}
		empty, _ := c.DeleteSessionsWithResponse(ctx, nil, client.DeleteSessionRequest{SessionIds: []string{}, SessionTypes: []client.SessionType{}})
		if empty.JSON422 == nil || empty.JSON422.ErrorCode != "VALIDATION_ERROR" || !strings.HasPrefix(empty.JSON422.Detail, "body.session_ids") {
			t.Errorf("empty ids: status %d %s, want 422 VALIDATION_ERROR on body.session_ids", empty.StatusCode(), empty.Body)
		}
		gone, _ := c.GetSessionByIdWithResponse(ctx, "e2e-agent", &client.GetSessionByIdParams{})
		if gone.JSON404 == nil || gone.JSON404.ErrorCode != "NOT_FOUND" {
			t.Errorf("deleted session: status %d %s, want 404 NOT_FOUND", gone.StatusCode(), gone.Body)
		}
		dup, _ := c.CreateSessionWithResponse(ctx, &client.CreateSessionParams{Type: ptr(client.Workflow)}, client.CreateSessionRequest{SessionId: ptr("e2e-workflow")})
		if dup.JSON409 == nil || dup.JSON409.ErrorCode != "CONFLICT" {
			t.Errorf("duplicate id: status %d %s, want 409 CONFLICT", dup.StatusCode(), dup.Body)
		}
		anon, _ := client.NewClientWithResponses(base)
		if res, _ := anon.GetSessionsWithResponse(ctx, nil); res.JSON401 == nil || res.JSON401.ErrorCode != "UNAUTHENTICATED" {
			t.Errorf("no key: status %d %s, want 401 UNAUTHENTICATED", res.StatusCode(), res.Body)
		}

		// The counters saw the delete.
		res, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatalf("GET /metrics: %v", err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		for _, want := range []string{"\nagentos_sessions_deleted_total 2\n", "\nagentos_runs_deleted_total 4\n"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("GET /metrics lacks %q", strings.TrimSpace(want))
			}
		}
	})
}
