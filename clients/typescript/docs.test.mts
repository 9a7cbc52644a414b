// /docs and /redoc in a real headless Chromium. /docs renders DELETE
// /sessions from the served document, pre-fills the document's example and
// no ignored parameter, and its "Try it out" delete reaches the server;
// /redoc renders every operation. Every request either page makes stays on
// the server's own origin (no CDN, no web font).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
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

// elsewhere records the URL of every request page makes to another origin
// than the server's (data: URLs are no requests).
function elsewhere(page: Page): string[] {
  const urls: string[] = [];
  page.on("request", (req) => {
    const url = req.url();
    if (!url.startsWith("data:") && new URL(url).origin !== new URL(server.baseUrl).origin) urls.push(url);
  });
  return urls;
}

test("the reference renders and its delete reaches the server", { skip: !haveChromium && `no ${executablePath}` }, async () => {
  const api = sessionsClient(server.baseUrl);
  const created = await api.POST("/sessions", { params: { query: { type: "agent" } }, body: { session_id: "web-1" } });
  assert.equal(created.response.status, 201);

  const page = await browser.newPage();
  const offOrigin = elsewhere(page);
  await page.goto(`${server.baseUrl}/docs`);

  const op = page.locator("#operations-Sessions-delete_sessions");
  await op.waitFor({ timeout: 30_000 });
  assert.match(await op.locator(".opblock-summary-method").innerText(), /DELETE/);
  assert.match(await op.locator(".opblock-summary-path").innerText(), /^\/sessions$/);

  await op.locator(".opblock-summary").first().click();
  await op.locator("button.try-out__btn").click();
  // The document's example, and nothing in type, which the delete ignores.
  const body = op.locator("textarea.body-param__text");
  assert.deepEqual(JSON.parse(await body.inputValue()), { session_ids: ["s-1", "s-2"], session_types: ["agent", "team"] });
  assert.equal(await op.locator('tr[data-param-name="type"] select').inputValue(), "");
  await body.fill(JSON.stringify({ session_ids: ["web-1"], session_types: ["agent"] }));
  const sent = page.waitForRequest((req) => req.method() === "DELETE" && req.url().startsWith(`${server.baseUrl}/sessions`));
  await op.locator("button.execute").click();
  await sent;
  const status = op.locator(".live-responses-table tbody tr.response td.response-col_status").first();
  await status.waitFor({ timeout: 30_000 });
  assert.match(await status.innerText(), /204/);

  const gone = await api.GET("/sessions/{session_id}", { params: { path: { session_id: "web-1" } } });
  assert.equal(gone.response.status, 404, "the delete from /docs removed the session");
  assert.deepEqual(offOrigin, [], "the page loaded nothing from another host");
});

test("the read-only reference renders every operation", { skip: !haveChromium && `no ${executablePath}` }, async () => {
  const page = await browser.newPage();
  const offOrigin = elsewhere(page);
  await page.goto(`${server.baseUrl}/redoc`);

  const spec = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { summary: string }>>;
  };
  const summaries = Object.values(spec.paths).flatMap((item) => Object.values(item).map((op) => op.summary));
  assert.ok(summaries.length >= 10, `openapi.json has ${summaries.length} operations`);
  await page.getByRole("heading", { name: "Delete Multiple Sessions" }).waitFor({ timeout: 30_000 });
  const headings = (await page.locator("h2").allInnerTexts()).map((h) => h.trim());
  for (const summary of summaries) {
    assert.ok(headings.includes(summary), `/redoc shows "${summary}" among ${JSON.stringify(headings)}`);
  }
  assert.deepEqual(offOrigin, [], "the page loaded nothing from another host");
});
