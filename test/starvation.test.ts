/**
 * Issue 10: a task looping on `await sleep(0)` must not starve the rest of Node. Each pass of the
 * loop lets the host's event loop run (timers, I/O callbacks), as asyncio's loop polls its
 * selector between passes. Real clock; the whole file takes about 1 s of real time, with bounds
 * generous enough for a loaded machine.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { createTask, Future, run, sleep, TimeoutError, time, waitFor } from "../src/node.js";

/** How long the spinner keeps the loop busy, in real milliseconds. */
const SPIN_MS = 600;
/** How late, in real milliseconds, something may fire or complete after its due time. */
const SLACK_MS = 150;

const SMALL_FILE = new URL("../package.json", import.meta.url);

describe("a task spinning on sleep(0) does not starve the host", () => {
  it("on the real clock, a native setTimeout, an awaitress sleep, a waitFor timeout and a readFile all complete on time while a task spins for 600 ms", async () => {
    const result = await run(async () => {
      const start = performance.now();
      const elapsed = (): number => performance.now() - start;
      const at: Record<string, number> = {};
      const spinner = createTask(async () => {
        let passes = 0;
        while (elapsed() < SPIN_MS) {
          await sleep(0);
          passes++;
        }
        at.spinnerEnd = elapsed();
        return passes;
      });
      setTimeout(() => {
        at.setTimeout = elapsed();
      }, 20);
      const sleeper = createTask(async () => {
        await sleep(0.05);
        at.sleep = elapsed();
      });
      const timedOut = createTask(async () => {
        try {
          await waitFor(new Future<never>(), 0.1);
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
          at.waitFor = elapsed();
        }
      });
      const reader = createTask(async () => {
        const text = await readFile(SMALL_FILE, "utf8");
        at.readFile = elapsed();
        return text.length;
      });
      const passes = await spinner;
      await sleeper;
      await timedOut;
      expect(await reader).toBeGreaterThan(0);
      return { at, passes };
    });
    const { at, passes } = result;
    expect(passes, "the spinner really spun").toBeGreaterThan(100);
    const due = { setTimeout: 20, sleep: 50, waitFor: 100, readFile: 0 };
    for (const [what, dueAt] of Object.entries(due)) {
      expect(at[what], `${what} (due at ${dueAt} ms) completed at ${at[what]?.toFixed(0)} ms`).toBeLessThan(
        dueAt + SLACK_MS,
      );
      expect(at[what], `${what} completed before the spinner stopped`).toBeLessThan(at.spinnerEnd as number);
    }
  });

  it("on the virtual clock, a native setTimeout(5) fires while a task spins on sleep(0), and virtual time stands still meanwhile", async () => {
    const result = await run(
      async () => {
        let fired = false;
        setTimeout(() => {
          fired = true;
        }, 5);
        const sleeper = createTask(() => sleep(1));
        const realStart = performance.now();
        let iterations = 0;
        let latest = 0;
        let sleeperWoke = false;
        // Bounded: at most 200 ms of real time, whether or not the native timer fires.
        while (!fired && performance.now() - realStart < 200) {
          await sleep(0);
          iterations++;
          latest = Math.max(latest, time());
          if (sleeper.done()) sleeperWoke = true;
        }
        const realMs = performance.now() - realStart;
        await sleeper;
        return { fired, iterations, latest, sleeperWoke, realMs, end: time() };
      },
      { clock: "virtual" },
    );
    expect(result.fired, `the native timer fired during ${result.iterations} passes`).toBe(true);
    expect(result.realMs).toBeLessThan(5 + SLACK_MS);
    expect(result.latest, "virtual time moved while a task was runnable").toBe(0);
    expect(result.sleeperWoke, "a 1 s virtual sleep ended while a task was runnable").toBe(false);
    expect(result.end).toBe(1);
  });
});
