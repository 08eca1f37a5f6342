/** examples/seed-redis-pool.ts runs: a producer and three processes each running workerPool on one RedisQueue. */
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisServer, skipRedis } from "./server.js";

const EXAMPLE = resolve(import.meta.dirname, "../../examples/seed-redis-pool.ts");
let server: RedisServer;

describe.skipIf(skipRedis)("examples/seed-redis-pool.ts", () => {
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("three worker processes drain one queue with workerPool: every job done exactly once, join resolves, each pool drained", async () => {
    const JOBS = 300;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", EXAMPLE, "--url", server.url, "--processes", "3", "--workers", "4", "--jobs", String(JOBS)],
      { timeout: 60_000 },
    );
    const lines = stdout.split("\n");
    const jobs = lines.flatMap((l) => {
      const m = /^job (\d+) by (\d)\.(\d)$/.exec(l);
      return m === null ? [] : [{ id: Number(m[1]), process: Number(m[2]), worker: Number(m[3]) }];
    });
    // Exactly once: each id once, no id twice.
    expect(jobs.map((j) => j.id).sort((a, b) => a - b)).toEqual(Array.from({ length: JOBS }, (_, i) => i));
    // Spread: every process ran jobs, on more than one of its workers.
    for (const p of [1, 2, 3]) {
      const mine = jobs.filter((j) => j.process === p);
      expect(mine.length).toBeGreaterThan(0);
      expect(new Set(mine.map((j) => j.worker)).size).toBeGreaterThan(1);
    }
    // Each pool ended drained, and the summaries add up to the jobs put.
    const summaries = lines.flatMap((l) => {
      const m = /^process (\d): (\w+), (\d+) done, (\d+) failed$/.exec(l);
      return m === null ? [] : [{ process: Number(m[1]), outcome: m[2], done: Number(m[3]), failed: Number(m[4]) }];
    });
    expect(summaries.map((s) => s.process).sort()).toEqual([1, 2, 3]);
    expect(summaries.every((s) => s.outcome === "drained" && s.failed === 0)).toBe(true);
    expect(summaries.reduce((n, s) => n + s.done, 0)).toBe(JOBS);
    for (const s of summaries) expect(s.done).toBe(jobs.filter((j) => j.process === s.process).length);
    expect(stdout).toMatch(/^All jobs done \(join resolved\) in \d+\.\d+ s$/m);
    console.log(
      `seed-redis-pool: ${JOBS} jobs over 3 processes × 4 workers: ${summaries.map((s) => `process ${s.process} ${s.done}`).join(", ")}`,
    );
  }, 90_000);
});
