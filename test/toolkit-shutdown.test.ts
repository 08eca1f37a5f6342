import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");
const TSX = resolve(ROOT, "node_modules/.bin/tsx");
const SCRIPT = resolve(ROOT, "test/fixtures/toolkit-shutdown.ts");

interface Ended {
  code: number | null;
  report: { outcome: string; done: number; cancelled: number; queued: number; received: string; listeners: number };
}

/** Runs the fixture, sends `signal` after it prints "ready", and returns its exit code and report. */
function signalled(signal: NodeJS.Signals, jobSeconds: number, grace: number): Promise<Ended> {
  return new Promise((done, fail) => {
    const child = spawn(TSX, [SCRIPT, String(jobSeconds), String(grace)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("ready\n") && !child.killed) child.kill(signal);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on("error", fail);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line === undefined) fail(new Error(`no report; stdout: ${out}; stderr: ${err}`));
      else done({ code, report: JSON.parse(line) });
    });
  });
}

describe("shutdownOn: a real signal to a child process", () => {
  it("SIGTERM: in-flight jobs finish within the grace period, the rest stays queued, exit code 0", async () => {
    const { code, report } = await signalled("SIGTERM", 0.3, 5);
    expect(report).toMatchObject({ outcome: "stopped", cancelled: 0, received: "SIGTERM", listeners: 0 });
    expect(report.done).toBeGreaterThanOrEqual(4);
    expect(report.done + report.queued).toBe(100);
    expect(code).toBe(0);
  }, 30_000);

  it("SIGINT: jobs still running when the grace period ends are cancelled and put back, exit code 130", async () => {
    const { code, report } = await signalled("SIGINT", 60, 0.2);
    expect(report).toMatchObject({
      outcome: "cancelled",
      done: 0,
      cancelled: 4,
      queued: 100,
      received: "SIGINT",
      listeners: 0,
    });
    expect(code).toBe(130);
  }, 30_000);
});
