import { describe, expect, it } from "vitest";
import {
  CancelledError,
  createTask,
  currentTask,
  Future,
  getRunningLoop,
  isCancelled,
  run,
  shield,
  sleep,
  type Task,
  TimeoutError,
  time,
  waitFor,
} from "../src/node.js";
import { thrown, virtualClock } from "./support.js";

/** Upstream's SlowTask: runs for 0.2 s, swallowing every cancellation. */
class SlowTask {
  static readonly TASK_TIMEOUT = 0.2;
  exited = false;

  async run(): Promise<void> {
    const exitAt = time() + SlowTask.TASK_TIMEOUT;
    for (;;) {
      const toSleep = exitAt - time();
      if (toSleep <= 0) break;
      try {
        await sleep(toSleep);
      } catch (e) {
        if (!isCancelled(e)) throw e;
      }
    }
    this.exited = true;
  }
}

class FooException extends Error {}

describe("waitFor (spec §7)", () => {
  it("WF-01 cancelling waitFor waits for a child that ignores cancellation", async () => {
    await run(async () => {
      const slow = new SlowTask();
      const w = createTask(() => waitFor(() => slow.run(), 0.4));
      await sleep(0);
      w.cancel();
      await thrown(() => w).catch(() => undefined); // w's own outcome is not specified
      expect(w.done()).toBe(true);
      expect(slow.exited).toBe(true);
      expect(time()).toBeCloseTo(0.2, 9);
    }, virtualClock);
  });

  it("WF-02 a timeout with a child that ignores cancellation returns only after the child exits", async () => {
    await run(async () => {
      const slow = new SlowTask();
      try {
        await waitFor(() => slow.run(), 0.1);
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
      }
      expect(slow.exited).toBe(true);
      expect(time()).toBeCloseTo(0.2, 9);
    }, virtualClock);
  });

  it("WF-03 timeout <= 0 with an already-done future returns its result without waiting", async () => {
    await run(async () => {
      for (const t of [0, -1]) {
        const fut = new Future<string>();
        fut.setResult("done");
        expect(await waitFor(fut, t)).toBe("done");
      }
      expect(time()).toBe(0);
    }, virtualClock);
  });

  it("WF-04 timeout <= 0 with un-started work: never started", async () => {
    await run(async () => {
      for (const t of [0, -1]) {
        let started = false;
        const e = await thrown(() =>
          waitFor(async () => {
            started = true;
            await sleep(1);
          }, t),
        );
        expect(e).toBeInstanceOf(TimeoutError);
        expect((e as Error).cause).toBeInstanceOf(CancelledError);
        await sleep(0);
        expect(started).toBe(false);
      }
    }, virtualClock);
  });

  it("WF-05 timeout 0 or -1 with a running task cancels it and runs its finally", async () => {
    await run(async () => {
      for (const t of [0, -1]) {
        const started = new Future<void>();
        let running = true;
        const task = createTask(async () => {
          started.setResult();
          try {
            await sleep(10);
          } finally {
            running = false;
          }
        });
        await started;
        expect(await thrown(() => waitFor(task, t))).toBeInstanceOf(TimeoutError);
        expect(task.done()).toBe(true);
        expect(task.cancelled()).toBe(true);
        expect(running).toBe(false);
      }
    }, virtualClock);
  });

  it("WF-06 a plain timeout cancels the task", async () => {
    await run(async () => {
      const started = new Future<void>();
      let running = true;
      const task = createTask(async () => {
        started.setResult();
        try {
          await sleep(10);
        } finally {
          running = false;
        }
      });
      await started;
      const t0 = time();
      const e = await thrown(() => waitFor(task, 0.1));
      expect(e).toBeInstanceOf(TimeoutError);
      expect((e as Error).cause).toBeInstanceOf(CancelledError);
      expect(time() - t0).toBeCloseTo(0.1, 9);
      expect(task.cancelled()).toBe(true);
      expect(running).toBe(false);
    }, virtualClock);
  });

  it("WF-07 no timeout, or completion before the deadline", async () => {
    await run(async () => {
      expect(await waitFor(async () => "done", null)).toBe("done");
      const fut = new Future<string>();
      getRunningLoop().callSoon((f) => f.setResult("ok"), fut);
      expect(await waitFor(fut, 0.2)).toBe("ok");
      const later = new Future<string>();
      getRunningLoop().callLater(0.1, (f) => f.setResult("ok later"), later);
      expect(await waitFor(later, 0.2)).toBe("ok later");
      expect(time()).toBeCloseTo(0.1, 9);
    }, virtualClock);
  });

  it("WF-08 work that swallows the cancellation and returns a value wins", async () => {
    await run(async () => {
      const inner = async () => {
        try {
          await sleep(1);
        } catch (e) {
          if (!isCancelled(e)) throw e;
        }
        return 1;
      };
      expect(await waitFor(inner, 0.01)).toBe(1);
      const return42 = async () => {
        try {
          await sleep(10);
        } catch (e) {
          if (isCancelled(e)) return 42;
          throw e;
        }
        return 0;
      };
      expect(await waitFor(return42, 0.1)).toBe(42);
      expect(currentTask()?.cancelling()).toBe(0);
    }, virtualClock);
  });

  it("WF-09 waitFor waits for the task's cancellation to finish", async () => {
    await run(async () => {
      const make = (flags: { done: boolean }) =>
        createTask(async () => {
          try {
            await sleep(10);
          } catch (e) {
            if (isCancelled(e)) await sleep(0.01);
            throw e;
          } finally {
            flags.done = true;
          }
        });
      const a = { done: false };
      const e1 = await thrown(() => waitFor(make(a), 0.01));
      expect(e1).toBeInstanceOf(TimeoutError);
      expect((e1 as Error).cause).toBeInstanceOf(CancelledError);
      expect(a.done).toBe(true);
      expect(time()).toBeCloseTo(0.02, 9);

      // Variant: inside another task, sleep first, then waitFor(task, 0)
      const b = { done: false };
      const task = make(b);
      const e2 = await thrown(() =>
        createTask(async () => {
          await sleep(0.01);
          return waitFor(task, 0);
        }),
      );
      expect(e2).toBeInstanceOf(TimeoutError);
      expect((e2 as Error).cause).toBeInstanceOf(CancelledError);
      expect(b.done).toBe(true);
    }, virtualClock);
  });

  it("WF-10 an error raised during the task's cancellation propagates instead of TimeoutError", async () => {
    await run(async () => {
      const task = createTask(async () => {
        try {
          await sleep(0.2);
        } finally {
          // biome-ignore lint/correctness/noUnsafeFinally: the case under test
          throw new FooException();
        }
      });
      expect(await thrown(() => waitFor(task, 0.01))).toBeInstanceOf(FooException);
    }, virtualClock);
  });

  it("WF-11 cancelling waitFor cancels the awaited task", async () => {
    await run(async () => {
      for (const t of [null, 60]) {
        const never = new Future<void>();
        const task = createTask(() => never);
        const w = createTask(() => waitFor(task, t));
        getRunningLoop().callSoon((x: Task) => x.cancel(), w as Task);
        expect(await thrown(() => w)).toBeInstanceOf(CancelledError);
        expect(task.cancelled()).toBe(true);
        expect(never.cancelled()).toBe(true);
      }
    }, virtualClock);
  });

  it("WF-12 a cancellation arriving after waitFor returned is not absorbed", async () => {
    await run(async () => {
      const innerTask = createTask(async () => "done");
      let reached = false;
      const w = createTask(async () => {
        await waitFor(innerTask, 100);
        await sleep(1);
        reached = true;
      });
      expect(w.done()).toBe(false);
      await sleep(0);
      w.cancel();
      expect(await thrown(() => w)).toBeInstanceOf(CancelledError);
      expect(innerTask.done()).toBe(true);
      expect(await innerTask).toBe("done");
      expect(reached).toBe(false);
    }, virtualClock);
  });

  it("WF-13 waitFor(shield(t), 0): the shield is cancelled, the task keeps running", async () => {
    await run(async () => {
      const task = createTask(() => sleep(0.01, "done"));
      const s = shield(task);
      expect(await thrown(() => waitFor(s, 0))).toBeInstanceOf(TimeoutError);
      expect(s.cancelled()).toBe(true);
      expect(task.done()).toBe(false);
      expect(task.cancelled()).toBe(false);
      await sleep(0.1);
      expect(task.done()).toBe(true);
      expect(task.result()).toBe("done");
    }, virtualClock);
  });

  it("WF-14 waitFor(shield(t), null or positive)", async () => {
    await run(async () => {
      const t1 = createTask(() => sleep(0.1, "done"));
      await waitFor(shield(t1), null);
      expect(await t1).toBe("done");

      const t2 = createTask(() => sleep(0.1, "done"));
      expect(await thrown(() => waitFor(shield(t2), 0.01))).toBeInstanceOf(TimeoutError);
      expect(t2.done()).toBe(false);
      expect(t2.cancelled()).toBe(false);
      expect(await t2).toBe("done");
    }, virtualClock);
  });
});

describe("waitFor: beyond the spec", () => {
  it("validates its arguments", async () => {
    await run(async () => {
      await expect(waitFor(() => 1, Number.NaN)).rejects.toThrow(RangeError);
      await expect(waitFor(() => 1, "1" as unknown as number)).rejects.toThrow(TypeError);
      await expect(waitFor(42 as unknown as () => number, 1)).rejects.toThrow(TypeError);
      await expect(waitFor(42 as unknown as () => number, 1)).rejects.toThrow(/Expected `aw`/);
    }, virtualClock);
  });

  it("runs a function in the calling task, as asyncio awaits a coroutine", async () => {
    await run(async () => {
      const me = currentTask()?.id;
      expect(await waitFor(async () => currentTask()?.id, 1)).toBe(me);
    }, virtualClock);
  });

  it("stops waiting for a foreign promise at the deadline; the promise itself keeps going", async () => {
    await run(async () => {
      let settled = false;
      const foreign = new Promise<string>((resolve) =>
        setTimeout(() => {
          settled = true;
          resolve("late");
        }, 20),
      );
      const e = await thrown(() => waitFor(foreign, 0.5));
      expect(e).toBeInstanceOf(TimeoutError);
      expect(settled).toBe(false);
      expect(await foreign).toBe("late");
    }, virtualClock);
  });

  it("returns a foreign promise's value when it settles in time, and passes its error on", async () => {
    await run(async () => {
      expect(await waitFor(Promise.resolve("now"), 1)).toBe("now");
      const boom = new FooException();
      expect(await thrown(() => waitFor(Promise.reject(boom), 1))).toBe(boom);
    }, virtualClock);
  });

  it("a task's error passes through unchanged", async () => {
    await run(async () => {
      const boom = new FooException();
      const task = createTask(async () => {
        await sleep(0.5);
        throw boom;
      });
      expect(await thrown(() => waitFor(task, 1))).toBe(boom);
    }, virtualClock);
  });

  it("nested in a timeout: the shorter deadline decides", async () => {
    await run(async () => {
      const inner = await thrown(() => waitFor(() => waitFor(() => sleep(10), 1), 5));
      expect(inner).toBeInstanceOf(TimeoutError);
      expect(time()).toBe(1);
      const outer = await thrown(() => waitFor(() => waitFor(() => sleep(10), 5), 1));
      expect(outer).toBeInstanceOf(TimeoutError);
      expect(time()).toBe(2);
      expect(currentTask()?.cancelling()).toBe(0);
    }, virtualClock);
  });
});
