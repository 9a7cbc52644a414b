// startServer runs the built binary (bin/agentos-sessions) on a loopback
// port the kernel picks (--addr 127.0.0.1:0) over a fresh SQLite file, and
// reads the address back from its "listening" log line, for the tests in
// this folder.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export interface Server {
  baseUrl: string;
  stop(): Promise<void>;
}

const repoRoot = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../../..");

export async function startServer(env: Record<string, string> = {}): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), "agentos-ts-"));
  const bin = process.env.AGENTOS_BIN ?? join(repoRoot, "bin", "agentos-sessions");
  const child: ChildProcess = spawn(
    bin,
    ["serve", "--addr", "127.0.0.1:0", "--database-url", `sqlite://${join(dir, "test.db")}`, "--log-format", "json"],
    { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const lines = createInterface({ input: child.stderr! });
  const addr = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("server did not start")), 30_000);
    child.once("exit", (code) => fail(new Error(`server exited ${code} before serving`)));
    child.once("error", fail);
    lines.on("line", (line) => {
      try {
        const rec = JSON.parse(line) as { msg?: string; addr?: string };
        if (rec.msg === "listening" && rec.addr) {
          clearTimeout(timer);
          ok(rec.addr);
        }
      } catch {
        // not a log record
      }
    });
  });
  return {
    baseUrl: `http://${addr}`,
    stop: () =>
      new Promise<void>((ok) => {
        child.once("exit", () => {
          rmSync(dir, { recursive: true, force: true });
          ok();
        });
        child.kill("SIGTERM");
      }),
  };
}
