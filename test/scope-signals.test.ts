/**
 * Issue 11, "a signal that stays true": a timeout or a task group cancels only its own block.
 * The task's own `signal` (read outside such blocks) is aborted only when the task itself is
 * cancelled, so a signal read once and reused survives a handled timeout; inside a block,
 * `currentTask().signal` is the block's signal (`Timeout.signal`, `TaskGroup.signal`), which a
 * deadline or a group's abort aborts, so foreign work inside the block stops with it.
 */
import { describe, expect, it } from "vitest";
import {
  CancelledError,
  createTask,
  currentTask,
  ExceptionGroup,
  isCancelled,
  Queue,
  run,
  sleep,
  type Task,
  TaskGroup,
  Timeout,
  TimeoutError,
  taskGroup,
  time,
  timeout,
  waitFor,
} from "../src/node.js";
import { thrown, virtualClock } from "./support.js";

/** A foreign wait (not an awaitress future) that ends when `signal` aborts, or after `ms` real ms. */
function foreignWait(signal: AbortSignal, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => resolve("answered"), ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

describe("the task's own signal outlives the timeouts it handled", () => {
  it("a signal read once stays usable after a timeout expired and was handled", async () => {
    await run(async () => {
      const signal = (currentTask() as Task).signal;
      const e = await thrown(() => timeout(1, () => sleep(10)));
      expect(e).toBeInstanceOf(TimeoutError);
      expect(signal.aborted).toBe(false);
      // Work that takes the kept signal still runs to the end.
      expect(await sleep(2, "slept", { signal })).toBe("slept");
      expect(time()).toBe(3);
    }, virtualClock);
  });

  it("a worker following `if (isCancelled(e)) throw e` survives a per-job timeout and handles every job", async () => {
    await run(async () => {
      const q = new Queue<number>();
      for (const n of [1, 9, 2]) q.putNowait(n);
      const handled: string[] = [];
      const worker = createTask(async () => {
        const signal = (currentTask() as Task).signal;
        for (;;) {
          const n = await q.get();
          try {
            await timeout(5, () => sleep(n, undefined, { signal }));
            handled.push(`${n} done`);
          } catch (e) {
            if (isCancelled(e)) throw e;
            handled.push(`${n} ${(e as Error).name}`);
          } finally {
            q.taskDone();
          }
        }
      });
      await q.join();
      expect(handled).toEqual(["1 done", "9 TimeoutError", "2 done"]);
      expect(worker.done()).toBe(false);
      worker.cancel();
      expect(await thrown(worker)).toBeInstanceOf(CancelledError);
    }, virtualClock);
  });

  it("waitFor(q.get(), t) that times out leaves the task's signal untouched", async () => {
    await run(async () => {
      const q = new Queue<string>();
      const signal = (currentTask() as Task).signal;
      expect(await thrown(() => waitFor(q.get(), 1))).toBeInstanceOf(TimeoutError);
      expect(signal.aborted).toBe(false);
      q.putNowait("x");
      expect(await q.get({ signal })).toBe("x");
    }, virtualClock);
  });

  it("cancelling the task from outside aborts its own signal, and the block's", async () => {
    await run(async () => {
      let block: AbortSignal | undefined;
      let own: AbortSignal | undefined;
      const t = createTask(async () => {
        own = (currentTask() as Task).signal;
        await timeout(10, async () => {
          block = (currentTask() as Task).signal;
          await sleep(5);
        });
      });
      await sleep(1);
      t.cancel("stop");
      expect(own?.aborted).toBe(true);
      expect(block?.aborted).toBe(true);
      expect(block).not.toBe(own);
      expect(isCancelled(await thrown(t))).toBe(true);
    }, virtualClock);
  });
});

describe("inside a block, currentTask().signal is the block's signal", () => {
  it("is Timeout.signal inside the block and the task's signal again after it", async () => {
    await run(async () => {
      const own = (currentTask() as Task).signal;
      const cm = new Timeout(time() + 1);
      let inside: AbortSignal | undefined;
      await thrown(() =>
        cm.run(async () => {
          inside = (currentTask() as Task).signal;
          await sleep(2);
        }),
      );
      expect(inside).toBe(cm.signal);
      expect(cm.signal.aborted).toBe(true);
      expect(cm.signal.reason).toBeInstanceOf(CancelledError);
      expect((currentTask() as Task).signal).toBe(own);
      expect(own.aborted).toBe(false);
    }, virtualClock);
  });

  it("another task reading a task's signal gets the task's own, even while that task is inside a block", async () => {
    await run(async () => {
      let cmSignal: AbortSignal | undefined;
      const t = createTask(() =>
        timeout(1, async (cm) => {
          cmSignal = cm.signal;
          await sleep(5);
        }),
      );
      await sleep(0.5);
      expect(t.signal).not.toBe(cmSignal);
      await thrown(t);
      expect(cmSignal?.aborted).toBe(true);
      expect(t.signal.aborted).toBe(false); // it failed with TimeoutError; it was not cancelled
    }, virtualClock);
  });

  it("a foreign wait given currentTask().signal inside timeout() stops at the deadline (real clock)", async () => {
    await run(async () => {
      const started = performance.now();
      const e = await thrown(() => timeout(0.005, () => foreignWait((currentTask() as Task).signal, 5_000)));
      expect(e).toBeInstanceOf(TimeoutError);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect((currentTask() as Task).signal.aborted).toBe(false);
    });
  });

  it("nested timeouts: the inner expiry aborts the inner block's signal only", async () => {
    await run(async () => {
      let outer: AbortSignal | undefined;
      let inner: AbortSignal | undefined;
      await timeout(10, async (cmOuter) => {
        outer = cmOuter.signal;
        const e = await thrown(() =>
          timeout(1, async (cmInner) => {
            inner = cmInner.signal;
            await sleep(5);
          }),
        );
        expect(e).toBeInstanceOf(TimeoutError);
        expect((currentTask() as Task).signal).toBe(outer);
      });
      expect(inner?.aborted).toBe(true);
      expect(outer?.aborted).toBe(false);
    }, virtualClock);
  });

  it("a block's signal read after its deadline passed starts aborted; one read in a block inside it too", async () => {
    await run(async () => {
      const value = await timeout(1, async (cm) => {
        try {
          await sleep(5);
        } catch {
          // Swallowed: the block goes on after its deadline (and returns normally, as in asyncio).
        }
        expect(cm.signal.aborted).toBe(true);
        await timeout(null, async (inner) => {
          expect(inner.signal.aborted).toBe(true);
        });
        return "swallowed";
      });
      expect(value).toBe("swallowed");
    }, virtualClock);
  });
});

describe("a task group aborts its body's signal, not the task's", () => {
  it("a failing child aborts TaskGroup.signal; the task's own signal stays usable after the group", async () => {
    await run(async () => {
      const own = (currentTask() as Task).signal;
      const tg = new TaskGroup();
      let body: AbortSignal | undefined;
      const e = await thrown(() =>
        tg.run(async () => {
          body = (currentTask() as Task).signal;
          tg.createTask(async () => {
            await sleep(1);
            throw new RangeError("child failed");
          });
          await sleep(10);
        }),
      );
      expect(e).toBeInstanceOf(ExceptionGroup);
      expect(body).toBe(tg.signal);
      expect(tg.signal.aborted).toBe(true);
      expect(own.aborted).toBe(false);
      expect(await sleep(1, "after", { signal: own })).toBe("after");
    }, virtualClock);
  });

  it("tg.cancel() aborts the body's signal and the children's, and the group ends without error", async () => {
    await run(async () => {
      const own = (currentTask() as Task).signal;
      let child: AbortSignal | undefined;
      const result = await taskGroup(async (tg) => {
        tg.createTask(async () => {
          child = (currentTask() as Task).signal;
          await sleep(100);
        });
        await sleep(1);
        tg.cancel();
        await sleep(100);
      });
      expect(result).toBeUndefined();
      expect(child?.aborted).toBe(true);
      expect(own.aborted).toBe(false);
    }, virtualClock);
  });

  it("a worker inside a group keeps a signal across handled timeouts and the group reports its real error", async () => {
    await run(async () => {
      const results: string[] = [];
      const e = await thrown(() =>
        taskGroup(async (tg) => {
          tg.createTask(async () => {
            const signal = (currentTask() as Task).signal;
            for (const n of [1, 9, 2]) {
              try {
                await timeout(5, () => sleep(n, undefined, { signal }));
                results.push(`${n} ok`);
              } catch (err) {
                if (isCancelled(err)) throw err;
                results.push(`${n} timed out`);
              }
            }
            throw new RangeError("the worker's real error");
          });
        }),
      );
      expect(results).toEqual(["1 ok", "9 timed out", "2 ok"]);
      expect(e).toBeInstanceOf(ExceptionGroup);
      expect((e as ExceptionGroup).exceptions[0]).toBeInstanceOf(RangeError);
    }, virtualClock);
  });
});
