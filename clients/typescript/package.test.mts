// The package as a user gets it: npm pack of clients/typescript (built by
// npm run build:client), installed into a new project outside the
// repository with the TypeScript and @types/node versions package.json
// pins, where README.md's TypeScript example is type-checked, compiled and
// run against a real server. What it prints must be what the README shows
// in the comment lines after each console.log.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { startServer, type Server } from "./server.mjs";

const here = import.meta.dirname ?? new URL(".", import.meta.url).pathname;
const repoRoot = resolve(here, "../../..");
const packageDir = join(repoRoot, "clients", "typescript");
const readmeURL = "http://127.0.0.1:7777";
const key = "ts-package-key";

let server: Server;
let project: string;

before(async () => {
  server = await startServer({ OS_SECURITY_KEY: key });
  project = mkdtempSync(join(tmpdir(), "agentos-ts-package-"));
});
after(async () => {
  await server?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

/** readmeExample returns the README's TypeScript block and the output
 * shown in it: the JSON of each comment line right after a code line. */
function readmeExample(): { code: string; want: unknown[] } {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```$/gm)];
  assert.equal(blocks.length, 1, "README.md has one TypeScript block");
  const code = blocks[0]![1]!;
  const want: unknown[] = [];
  let afterCode = false;
  for (const line of code.split("\n")) {
    const text = line.trim();
    if (text.startsWith("//") && afterCode) {
      want.push(JSON.parse(text.slice(2).trim()));
      continue;
    }
    afterCode = text !== "" && !text.startsWith("//");
  }
  return { code, want };
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): string {
  return execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

test("the packed package runs README.md's example", () => {
  const tools = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).devDependencies as Record<string, string>;
  const tarball = run("npm", ["pack", "--silent", "--pack-destination", project], packageDir).trim().split("\n").pop()!;
  const manifest = JSON.parse(run("tar", ["-xOzf", join(project, tarball), "package/package.json"], project));
  assert.equal(manifest.name, "@agentos-sessions/client");
  assert.ok(manifest.dependencies["openapi-fetch"], "openapi-fetch is a dependency");

  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "readme-example", private: true, type: "module" }));
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", join(project, tarball),
    `typescript@${tools["typescript"]}`, `@types/node@${tools["@types/node"]}`], project);
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, types: ["node"], outDir: "out" },
    include: ["example.ts"],
  }));
  const { code, want } = readmeExample();
  assert.ok(want.length > 0, "the README shows what the example prints");
  writeFileSync(join(project, "example.ts"), code.replaceAll(readmeURL, server.baseUrl));

  run(join(project, "node_modules", ".bin", "tsc"), ["-p", "."], project);
  const out = run("node", [join(project, "out", "example.js")], project, { OS_SECURITY_KEY: key });
  const got = out.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line));
  assert.deepEqual(got, want);
});
