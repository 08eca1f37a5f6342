/**
 * Issue 10: what the loop keeps and what it reports. cancel() on a failed task counts as looking
 * at its error; a retrieved error is never reported, an unretrieved one exactly once when run()
 * ends; handled failures are not retained; sleep(Infinity) never fires and never moves the
 * virtual clock to infinity.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import {
  createTask,
  DeadlockError,
  type ErrorContext,
  Future,
  run,
  sleep,
  TimeoutError,
  time,
  waitFor,
} from "../src/node.js";
import { runVirtualCollectingErrors, thrown } from "./support.js";

/**
 * A full garbage collection, if one can be had: `globalThis.gc` when node runs with
 * --expose-gc, else the same function obtained at run time (vitest.config.ts passes no
 * execArgv). Undefined if neither works.
 */
function findGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (typeof exposed === "function") return exposed;
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    return typeof gc === "function" ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

describe("error retention and reporting", () => {
  it("cancel() on a task that already failed marks its error retrieved: nothing is reported (test_tasks: test_tb_logger_not_called_after_cancel)", async () => {
    const reports = await runVirtualCollectingErrors(async () => {
      const task = createTask(async () => {
        throw new TypeError("boom");
      });
      await sleep(0.05);
      expect(task.done()).toBe(true);
      expect(task.cancel()).toBe(false);
    });
    expect(reports).toEqual([]);
  });

  it("cancel() on a Future that already failed marks its error retrieved too", async () => {
    const reports = await runVirtualCollectingErrors(async () => {
      const future = new Future<number>();
      future.setException(new Error("boom"));
      expect(future.cancel()).toBe(false);
      expect(future.cancelled()).toBe(false);
    });
    expect(reports).toEqual([]);
  });

  it("a failed task whose error was retrieved (await, exception(), result()) is not reported", async () => {
    const reports = await runVirtualCollectingErrors(async () => {
      const fail = (n: number) =>
        createTask(async () => {
          throw new Error(`failure ${n}`);
        });
      const awaited = fail(1);
      const inspected = fail(2);
      const resulted = fail(3);
      expect(await thrown(awaited)).toBeInstanceOf(Error);
      await sleep(0.1);
      expect(inspected.exception()).toBeInstanceOf(Error);
      expect(() => resulted.result()).toThrow("failure 3");
    });
    expect(reports).toEqual([]);
  });

  it("a failure never retrieved is reported once, through onError, when run() ends", async () => {
    const lost = new Error("lost");
    const seen: Array<{ context: ErrorContext; mainReturned: boolean }> = [];
    let mainReturned = false;
    const name = await run(
      async () => {
        const task = createTask(async () => {
          throw lost;
        });
        await sleep(1);
        expect(task.done()).toBe(true);
        expect(seen).toEqual([]);
        mainReturned = true;
        return task.name; // the task stays referenced until main returns
      },
      { clock: "virtual", onError: (context) => seen.push({ context, mainReturned }) },
    );
    expect(seen).toHaveLength(1);
    const [{ context, mainReturned: afterMain }] = seen as [(typeof seen)[number]];
    expect(context.error).toBe(lost);
    expect(context.message).toMatch(/never retrieved/);
    expect((context.task as { name: string } | undefined)?.name).toBe(name);
    expect(afterMain).toBe(true);
  });

  it("a failed Future never retrieved is reported once too", async () => {
    const lost = new Error("lost future");
    let keep: Future<number> | undefined;
    const reports = await runVirtualCollectingErrors(async () => {
      keep = new Future<number>();
      keep.setException(lost);
      await sleep(1);
    });
    expect(reports.map((r) => r.error)).toEqual([lost]);
    expect(keep?.done()).toBe(true);
  });

  it("100,000 handled failures carrying 20 KB each are not retained (heap growth < 50 MB) and nothing is reported", async () => {
    const gc = findGc();
    const heapUsed = (): number => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    const LIMIT = 50 * 1024 * 1024;
    const COUNT = 100_000;
    const before = heapUsed();
    let handled = 0;
    const reports = await runVirtualCollectingErrors(async () => {
      for (let i = 0; i < COUNT; i++) {
        // A fresh 20 KB string per error (a repeat() or a concatenation would share one buffer).
        const payload = Buffer.alloc(20_000, 97 + (i % 26)).toString("latin1");
        try {
          await createTask(async () => {
            throw new Error(payload);
          });
        } catch (e) {
          if ((e as Error).message.length === 20_000) handled++;
        }
        // Fail early, before the process runs out of memory, if failures are being kept.
        if (gc !== undefined && i % 10_000 === 9_999) {
          expect(heapUsed() - before, `heap growth after ${i + 1} failures`).toBeLessThan(LIMIT);
        }
      }
    });
    expect(handled).toBe(COUNT);
    expect(reports).toEqual([]);
    if (gc === undefined) {
      // No way to force a collection here: the heap figure would be noise. The report count
      // above still checks that no handled failure is kept for reporting.
      return;
    }
    expect(heapUsed() - before).toBeLessThan(LIMIT);
  }, 60_000);
});

describe("sleep(Infinity)", () => {
  it("alone on the virtual clock it is a DeadlockError from run(), at a finite time", async () => {
    let last = Number.NaN;
    const error = await thrown(
      run(
        async () => {
          await sleep(1);
          last = time();
          await sleep(Number.POSITIVE_INFINITY);
          last = time();
        },
        { clock: "virtual" },
      ),
    );
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as DeadlockError).time).toBe(1);
    expect(last).toBe(1);
  });

  it("waitFor(sleep(Infinity), 5) times out at t=5", async () => {
    await run(
      async () => {
        expect(await thrown(waitFor(sleep(Number.POSITIVE_INFINITY), 5))).toBeInstanceOf(TimeoutError);
        expect(time()).toBe(5);
      },
      { clock: "virtual" },
    );
  });

  it("time() never becomes Infinity while a sleep(Infinity) is pending", async () => {
    const seen = await run(
      async () => {
        const forever = createTask(() => sleep(Number.POSITIVE_INFINITY, "never"));
        const times: number[] = [];
        for (let i = 0; i < 5; i++) {
          await sleep(10);
          times.push(time());
        }
        expect(forever.done()).toBe(false);
        forever.cancel();
        await sleep(1);
        times.push(time());
        return times;
      },
      { clock: "virtual" },
    );
    expect(seen).toEqual([10, 20, 30, 40, 50, 51]);
  });

  it("on the real clock it does not fire after 1 ms (Node's setTimeout clamps Infinity to 1)", async () => {
    await run(async () => {
      const forever = sleep(Number.POSITIVE_INFINITY, "fired");
      expect(await thrown(waitFor(forever, 0.02))).toBeInstanceOf(TimeoutError);
      expect(forever.cancelled()).toBe(true);
    });
  });
});
