// The TypeScript client, end to end: create sessions with runs, list them,
// bulk-delete them, and read the typed 400, 422 and 404 error bodies.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { sessionsClient } from "./client.js";
import { startServer, type Server } from "./server.mjs";

const key = "ts-key";
let server: Server;
let api: ReturnType<typeof sessionsClient>;

before(async () => {
  server = await startServer({ OS_SECURITY_KEY: key });
  api = sessionsClient(server.baseUrl, key);
});
after(async () => server?.stop());

test("create, list and bulk-delete sessions with runs", async () => {
  const types = ["agent", "team", "workflow"] as const;
  for (const type of types) {
    const { data, response } = await api.POST("/sessions", {
      params: { query: { type } },
      body: { session_id: `ts-${type}`, session_name: `From TypeScript (${type})`, user_id: "u-ts", [`${type}_id`]: `ts-${type}-component` },
    });
    assert.equal(response.status, 201);
    assert.equal(data?.session_id, `ts-${type}`);
    // Run ids are unique across sessions, as agno keys runs.
    for (const run of [`ts-${type}-r1`, `ts-${type}-r2`]) {
      const res = await api.POST("/sessions/{session_id}/runs", {
        params: { path: { session_id: `ts-${type}` } },
        body: { run_id: run, status: "COMPLETED", run_data: { content: "hello" } },
      });
      assert.equal(res.response.status, 201);
    }
  }

  const list = await api.GET("/sessions", { params: { query: { user_id: "u-ts", sort_by: "created_at", sort_order: "asc" } } });
  assert.equal(list.response.status, 200);
  assert.equal(list.data?.meta.total_count, 3);
  assert.deepEqual(list.data?.data.map((s) => s.session_id).sort(), ["ts-agent", "ts-team", "ts-workflow"]);

  const del = await api.DELETE("/sessions", {
    params: { header: { Prefer: "return=representation" } },
    body: { session_ids: ["ts-agent", "ts-team", "ts-none"], session_types: ["agent", "team", "agent"] },
  });
  assert.equal(del.response.status, 200);
  assert.deepEqual(
    del.data?.deleted.map((d) => [d.session_id, d.runs_deleted]).sort(),
    [["ts-agent", 2], ["ts-team", 2]],
  );
  assert.deepEqual(del.data?.not_found, [{ session_id: "ts-none", session_type: "agent" }]);

  const plain = await api.DELETE("/sessions", { body: { session_ids: ["ts-workflow"], session_types: ["workflow"] } });
  assert.equal(plain.response.status, 204);
  const left = await api.GET("/sessions", { params: { query: { user_id: "u-ts" } } });
  assert.equal(left.data?.meta.total_count, 0);
});

test("error bodies are typed {detail, error_code}", async () => {
  const mismatch = await api.DELETE("/sessions", { body: { session_ids: ["a", "b"], session_types: ["agent"] } });
  assert.equal(mismatch.response.status, 400);
  assert.deepEqual(mismatch.error, { detail: "Session IDs and session types must have the same length", error_code: "BAD_REQUEST" });

  const empty = await api.DELETE("/sessions", { body: { session_ids: [], session_types: [] } });
  assert.equal(empty.response.status, 422);
  assert.equal(empty.error?.error_code, "VALIDATION_ERROR");
  assert.match(empty.error?.detail ?? "", /^body\.session_ids: /);

  const missing = await api.GET("/sessions/{session_id}", { params: { path: { session_id: "ts-never" } } });
  assert.equal(missing.response.status, 404);
  assert.equal(missing.error?.error_code, "NOT_FOUND");
  assert.ok(missing.error?.detail);

  const anonymous = await sessionsClient(server.baseUrl).GET("/sessions");
  assert.equal(anonymous.response.status, 401);
  assert.deepEqual(anonymous.error, { detail: "Authorization header required", error_code: "UNAUTHENTICATED" });
});
