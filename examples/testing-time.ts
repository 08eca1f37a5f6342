/**
 * Testing time-dependent code on the virtual clock: a retry with exponential backoff waits
 * 1 s, 2 s, 4 s, ... between attempts. Each test runs it under `run(test, { clock: "virtual" })`,
 * so minutes of backoff take no real time and the times are exact: `time()` reads 0, 1, 3, 7.
 *
 * In vitest, the same test reads:
 *
 *   it("retries after 1 s then 2 s", () => run(async () => { ... }, { clock: "virtual" }));
 *
 *   npx tsx examples/testing-time.ts
 */
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { createTask, isCancelled, run, sleep, TimeoutError, time, timeout } from "awaitress";

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** Seconds before the second attempt; each wait doubles. */
  baseDelay?: number;
}

/** The code under test: calls `fn` until it succeeds, waiting 1 s, 2 s, 4 s, ... in between. */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { attempts = 5, baseDelay = 1 } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (isCancelled(error) || attempt >= attempts) throw error;
      await sleep(baseDelay * 2 ** (attempt - 1));
    }
  }
}

/** A function that fails `failures` times, then returns "ok"; records when it was called. */
function flaky(failures: number): { fn: () => Promise<string>; calls: number[] } {
  const calls: number[] = [];
  const fn = async (): Promise<string> => {
    calls.push(time());
    if (calls.length <= failures) throw new Error(`failure ${calls.length}`);
    return "ok";
  };
  return { fn, calls };
}

/** The tests, each an async function run on its own virtual clock. */
export const tests: Record<string, () => Promise<void>> = {
  async "succeeds at the third attempt, after waiting 1 s then 2 s"() {
    const { fn, calls } = flaky(2);
    assert.equal(await retry(fn), "ok");
    assert.deepEqual(calls, [0, 1, 3]);
  },

  async "gives up after the last attempt, with the last error"() {
    const { fn, calls } = flaky(Number.POSITIVE_INFINITY);
    await assert.rejects(retry(fn, { attempts: 4 }), /failure 4/);
    assert.deepEqual(calls, [0, 1, 3, 7]);
  },

  async "a timeout around it stops the backoff at the deadline"() {
    const { fn, calls } = flaky(Number.POSITIVE_INFINITY);
    await assert.rejects(
      timeout(5, () => retry(fn, { attempts: 10 })),
      TimeoutError,
    );
    assert.equal(time(), 5);
    assert.deepEqual(calls, [0, 1, 3]);
  },

  async "cancelling the task stops the retries"() {
    const { fn, calls } = flaky(Number.POSITIVE_INFINITY);
    const task = createTask(() => retry(fn, { attempts: 100, baseDelay: 60 }));
    await sleep(3600); // an hour of backoff, in no real time
    task.cancel();
    await assert.rejects(task, (e) => isCancelled(e));
    assert.deepEqual(calls, [0, 60, 180, 420, 900, 1860]);
  },
};

/** Runs every test on the virtual clock and prints TAP-style lines; resolves to the failures. */
export async function main(log: (line: string) => void = console.log): Promise<number> {
  let failed = 0;
  let virtual = 0;
  const started = performance.now();
  for (const [name, test] of Object.entries(tests)) {
    try {
      virtual += await run(
        async () => {
          await test();
          return time();
        },
        { clock: "virtual" },
      );
      log(`ok - ${name}`);
    } catch (error) {
      failed++;
      log(`not ok - ${name}\n  ${String(error)}`);
    }
  }
  const real = performance.now() - started;
  log(`${failed === 0 ? "all passed" : `${failed} failed`}: ${virtual} s of virtual time in ${real.toFixed(0)} ms`);
  return failed;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = (await main()) === 0 ? 0 : 1;
}
