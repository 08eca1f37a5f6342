/**
 * bench/redis.ts (RedisQueue beside BullMQ) runs at tiny sizes, once, so it never rots: it starts
 * its own redis-server, every case measures both libraries (each child checks its items), and the
 * table comes out. No thresholds: timings on a shared machine are for BENCHMARKS.md, not for CI.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PassResult } from "../../bench/redis.js";
import { runTsx } from "../child.js";
import { skipRedis } from "./server.js";

describe.skipIf(skipRedis)("bench/redis.ts (smoke run at tiny sizes)", () => {
  it("measures every case on both libraries and prints the table", async () => {
    const dir = mkdtempSync(join(tmpdir(), "awaitress-bench-redis-"));
    try {
      const json = join(dir, "out.json");
      const out = await runTsx([
        "bench/redis.ts",
        "--runs",
        "1",
        "--scale",
        "0.005",
        "--appendfsync",
        "everysec",
        "--json",
        json,
      ]);
      // redis-server may print its own warnings (memory overcommit) there; no errors.
      expect(out.stderr).not.toMatch(/error/i);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain("| case | awaitress ops/s (median) | BullMQ ops/s (median) | ratio | goal | met? |");
      const [pass, ...rest] = JSON.parse(readFileSync(json, "utf8")) as PassResult[];
      expect(rest).toEqual([]);
      expect(pass?.appendfsync).toBe("everysec");
      expect(pass?.cases.map((c) => c.id)).toEqual(["1", "1b", "2", "2b", "3", "3b"]);
      for (const c of pass?.cases ?? []) {
        expect(out.stdout).toContain(`| ${c.id}. `);
        for (const ops of [...c.awaitress, ...c.bull]) expect(ops).toBeGreaterThan(0);
        expect(c.awaitress).toHaveLength(1);
        expect(c.bull).toHaveLength(1);
        expect(Number.isFinite(c.ratio)).toBe(true);
        // The server did the work (batched reads and acknowledgements: fewer commands than items).
        for (const work of [...c.awaitressServer, ...c.bullServer]) {
          expect(Object.values(work.calls).reduce((s, v) => s + v, 0)).toBeGreaterThan(0);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
