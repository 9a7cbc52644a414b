// /docs in a real headless Chromium: the reference renders DELETE /sessions
// from the served document, and its "Try it out" delete reaches the server.
// Every request the page makes stays on the server's own origin (no CDN).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type BrowserContext } from "playwright-core";
import { sessionsClient } from "./client.js";
import { startServer, type Server } from "./server.mjs";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(executablePath);
if (!haveChromium && process.env.CI === "true") {
  throw new Error(`${executablePath} is missing: .ci/run installs Debian's chromium`);
}

let server: Server;
let browser: BrowserContext;
let profile: string;

before(async () => {
  if (!haveChromium) return;
  server = await startServer();
  profile = mkdtempSync(join(tmpdir(), "agentos-chromium-"));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
after(async () => {
  await browser?.close();
  await server?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test("the reference renders and its delete reaches the server", { skip: !haveChromium && `no ${executablePath}` }, async () => {
  const api = sessionsClient(server.baseUrl);
  const created = await api.POST("/sessions", { params: { query: { type: "agent" } }, body: { session_id: "web-1" } });
  assert.equal(created.response.status, 201);

  const page = await browser.newPage();
  const elsewhere: string[] = [];
  page.on("request", (req) => {
    if (!req.url().startsWith(server.baseUrl) && !req.url().startsWith("data:")) elsewhere.push(req.url());
  });
  await page.goto(`${server.baseUrl}/docs`);

  const op = page.locator("#operations-Sessions-delete_sessions");
  await op.waitFor({ timeout: 30_000 });
  assert.match(await op.locator(".opblock-summary-method").innerText(), /DELETE/);
  assert.match(await op.locator(".opblock-summary-path").innerText(), /^\/sessions$/);

  await op.locator(".opblock-summary").first().click();
  await op.locator("button.try-out__btn").click();
  await op.locator("textarea.body-param__text").fill(JSON.stringify({ session_ids: ["web-1"], session_types: ["agent"] }));
  const sent = page.waitForRequest((req) => req.method() === "DELETE" && req.url().startsWith(`${server.baseUrl}/sessions`));
  await op.locator("button.execute").click();
  await sent;
  const status = op.locator(".live-responses-table tbody tr.response td.response-col_status").first();
  await status.waitFor({ timeout: 30_000 });
  assert.match(await status.innerText(), /204/);

  const gone = await api.GET("/sessions/{session_id}", { params: { path: { session_id: "web-1" } } });
  assert.equal(gone.response.status, 404, "the delete from /docs removed the session");
  assert.deepEqual(elsewhere, [], "the page loaded nothing from another host");
});
