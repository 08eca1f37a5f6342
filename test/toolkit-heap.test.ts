import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "..");

describe("workerPool over a million short jobs with timeouts (node --expose-gc)", () => {
  it("leaves the heap flat, no timer and no listener behind", () => {
    const child = spawnSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", resolve(ROOT, "test/fixtures/toolkit-heap.ts"), "1000000"],
      { cwd: ROOT, encoding: "utf8", timeout: 110_000 },
    );
    expect(child.stderr).toBe("");
    const report = JSON.parse(child.stdout.trim().split("\n").at(-1) as string);
    expect(report).toMatchObject({
      done: 1_000_000,
      failed: 0,
      timers: 0,
      jobSignalListeners: 0,
      sharedSignalListeners: 0,
      processListeners: 0,
    });
    const heaps = report.heaps as number[];
    expect(heaps).toHaveLength(10);
    // After a full GC, the heap at 1,000,000 jobs is within 2 MB of the heap at 200,000.
    expect((heaps[9] as number) - (heaps[1] as number)).toBeLessThan(2 * 1024 * 1024);
  }, 120_000);
});
