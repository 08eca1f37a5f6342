// `awaitress ps PID` / `awaitress pstree PID` against real child processes, through the inspector.
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const CLI = join(ROOT, "src/cli/main.ts");
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** A free TCP port: each child's inspector gets its own, so tests never meet on 9229. */
function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address !== null ? address.port : 0));
    });
  });
}

/** Starts `args` under node (tsx) and resolves once it printed `ready` (or at once for `wait: false`). */
function start(args: string[], env: NodeJS.ProcessEnv = {}, wait = true): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  children.push(child);
  let out = "";
  return new Promise((done, fail) => {
    if (!wait) setTimeout(() => done(child), 500);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("ready")) done(child);
    });
    child.on("exit", (code) => fail(new Error(`the child exited (${code}) before it was ready: ${out}`)));
  });
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, env: { ...process.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

describe("awaitress ps", () => {
  it("lists a server's tasks with what each waits on: a queue, a lock, a sleep", async () => {
    const port = await freePort();
    const server = await start([`--inspect-port=${port}`, "test/fixtures/ps-server.ts"]);
    const out = await cli(["ps", "--port", String(port), String(server.pid)]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/loop 1 \(real clock, at [\d.]+(?:µs|ms|s)\): 4 pending tasks/);
    expect(out.stdout).toMatch(/^ID +PARENT +NAME +STATE +WAITS ON +FOR +CREATED AT$/m);
    expect(out.stdout).toMatch(/^2 +1 +consumer +waiting +queue\.get jobs +[\d.]+(?:µs|ms|s) +-$/m);
    expect(out.stdout).toMatch(/^3 +1 +locker +waiting +lock\.acquire +[\d.]+(?:µs|ms|s) +-$/m);
    expect(out.stdout).toMatch(/^4 +1 +napper +waiting +sleep 3600s +[\d.]+(?:µs|ms|s) +-$/m);
    // The inspector that ps opened is closed again; the server goes on (and answers ps again).
    await new Promise((r) => setTimeout(r, 300));
    const again = await cli(["pstree", "--port", String(port), String(server.pid)]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^main \(id 1\) waiting on sleep 3600s for [\d.]+(?:µs|ms|s)$/m);
    expect(again.stdout).toMatch(/^├─ consumer \(id 2\) waiting on queue\.get jobs for [\d.]+(?:µs|ms|s)$/m);
    expect(again.stdout).toMatch(/^└─ napper \(id 4\) waiting on sleep 3600s for [\d.]+(?:µs|ms|s)$/m);
    expect(server.exitCode).toBe(null);
  });

  it("pstree in debug mode shows where each task was created", async () => {
    const port = await freePort();
    const server = await start([`--inspect-port=${port}`, "test/fixtures/ps-server.ts"], { AWAITRESS_DEBUG: "1" });
    const out = await cli(["pstree", "--port", String(port), String(server.pid)]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("debug mode");
    expect(out.stdout).toMatch(
      /locker \(id 3\) waiting on lock\.acquire for [\d.]+(?:µs|ms|s), created at test\/fixtures\/ps-server\.ts:\d+:\d+/,
    );
  });

  it("a Node process without awaitress: a clear error, and the process goes on", async () => {
    const port = await freePort();
    const plain = await start(
      [`--inspect-port=${port}`, "-e", "setInterval(() => {}, 1000); console.log('ready')"],
      {},
    );
    const out = await cli(["ps", "--port", String(port), String(plain.pid)]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/process \d+ does not use awaitress/);
    expect(plain.exitCode).toBe(null);
  });

  it("a process that is not Node, or not there: a clear error, and no signal sent", async () => {
    const sleeper = spawn("sleep", ["30"]);
    children.push(sleeper);
    const out = await cli(["ps", String(sleeper.pid)]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/does not handle SIGUSR1, .*nothing was sent/);
    expect(sleeper.exitCode).toBe(null);
    const gone = await cli(["ps", "999999999"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("no process with id 999999999");
    const bad = await cli(["ps", "abc"]);
    expect(bad.code).toBe(2);
  });
});
