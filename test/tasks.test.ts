import { describe, expect, it } from "vitest";
import {
  CancelledError,
  createTask,
  currentTask,
  Future,
  getRunningLoop,
  InvalidStateError,
  isCancelled,
  sleep,
  type Task,
  TimeoutError,
  time,
  wait,
} from "../src/node.js";
import { runVirtualCollectingErrors, thrown, thrownBy, tick } from "./support.js";

describe("task cancellation (spec §5)", () => {
  it("TK-01 cancel scheduled right after creation", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(async () => {
        await sleep(10);
        return 12;
      });
      getRunningLoop().callSoon((task) => task.cancel(), t);
      expect(await thrown(t)).toBeInstanceOf(CancelledError);
      expect(t.done()).toBe(true);
      expect(t.cancelled()).toBe(true);
      expect(t.cancel()).toBe(false);
      expect(time()).toBe(0);
    });
  });

  it("TK-02 cancel a task suspended at sleep(0)", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(async () => {
        await sleep(0);
        await sleep(0);
        return 12;
      });
      await tick();
      expect(t.cancel()).toBe(true);
      expect(await thrown(t)).toBeInstanceOf(CancelledError);
      expect(t.cancelled()).toBe(true);
      expect(t.cancel()).toBe(false);
    });
  });

  it("TK-03 cancelling the awaited future cancels the task", async () => {
    await runVirtualCollectingErrors(async () => {
      const f = new Future<void>();
      const t = createTask(async () => {
        await f;
        return 12;
      });
      await tick();
      f.cancel();
      expect(await thrown(t)).toBeInstanceOf(CancelledError);
      expect(f.cancelled()).toBe(true);
      expect(t.cancelled()).toBe(true);
    });
  });

  it("TK-03 cancelling both the awaited future and the task", async () => {
    await runVirtualCollectingErrors(async () => {
      const f = new Future<void>();
      const t = createTask(async () => {
        await f;
        return 12;
      });
      await tick();
      f.cancel();
      t.cancel();
      expect(await thrown(t)).toBeInstanceOf(CancelledError);
      expect(f.cancelled()).toBe(true);
      expect(t.cancelled()).toBe(true);
    });
  });

  it("TK-04 a task may catch the cancellation and return a value", async () => {
    await runVirtualCollectingErrors(async () => {
      const fut1 = new Future<void>();
      const fut2 = new Future<void>();
      const t = createTask(async () => {
        await fut1;
        try {
          await fut2;
        } catch (e) {
          if (isCancelled(e)) return 42;
          throw e;
        }
        return 0;
      });
      await tick();
      fut1.setResult();
      await tick();
      t.cancel();
      expect(fut2.cancelled()).toBe(true);
      expect(await t).toBe(42);
      expect(t.cancelled()).toBe(false);
    });
  });

  it("TK-05 a swallowed cancellation does not affect later awaits", async () => {
    await runVirtualCollectingErrors(async () => {
      const fut1 = new Future<void>();
      const fut2 = new Future<void>();
      const fut3 = new Future<number>();
      const t = createTask(async () => {
        await fut1;
        try {
          await fut2;
        } catch (e) {
          if (!isCancelled(e)) throw e;
        }
        return await fut3;
      });
      await tick();
      fut1.setResult();
      await tick();
      t.cancel();
      expect(fut2.cancelled()).toBe(true);
      await tick();
      fut3.setResult(42);
      expect(await t).toBe(42);
      expect(fut3.cancelled()).toBe(false);
      expect(t.cancelled()).toBe(false);
    });
  });

  it("TK-06 self-cancel takes effect at the next suspension, at once", async () => {
    await runVirtualCollectingErrors(async () => {
      const t: Task<number> = createTask(async () => {
        t.cancel();
        await sleep(100);
        return 12;
      });
      expect(await thrown(t)).toBeInstanceOf(CancelledError);
      expect(t.cancelled()).toBe(true);
      expect(time()).toBe(0);
      expect(t.cancel()).toBe(false);
    });
  });

  it("TK-06 self-cancel then return: the return value is discarded", async () => {
    await runVirtualCollectingErrors(async () => {
      const t: Task<number> = createTask(async () => {
        t.cancel();
        return 12;
      });
      expect(await thrown(t)).toBeInstanceOf(CancelledError);
      expect(t.cancelled()).toBe(true);
      expect(t.cancel()).toBe(false);
    });
  });

  it("TK-07 self-cancel, then awaiting a sub-task cancels the sub-task", async () => {
    await runVirtualCollectingErrors(async () => {
      const fut = new Future<void>();
      let nested: Task<void> | undefined;
      const task: Task<void> = createTask(async () => {
        nested = createTask(async () => await fut);
        await sleep(0);
        task.cancel();
        await nested;
      });
      expect(await thrown(task)).toBeInstanceOf(CancelledError);
      expect(task.cancelled()).toBe(true);
      expect(nested?.cancelled()).toBe(true);
      expect(fut.cancelled()).toBe(true);
    });
  });

  it.each([
    ["cancel()", [] as unknown[], undefined],
    ["cancel(undefined)", [undefined], undefined],
    ["cancel('my message')", ["my message"], "my message"],
    ["cancel(5)", [5], 5],
  ])("TK-08 cancel message round-trip through result() and exception(): %s", async (_label, args, reason) => {
    await runVirtualCollectingErrors(async () => {
      const task = createTask(() => sleep(10));
      await tick();
      task.cancel(...(args as [unknown?]));
      await wait([task]);
      const fromResult = thrownBy(() => task.result());
      const fromException = thrownBy(() => task.exception());
      for (const error of [fromResult, fromException]) {
        expect(error).toBeInstanceOf(CancelledError);
        expect((error as CancelledError).reason).toBe(reason);
        expect((error as CancelledError).cause).toBeUndefined();
      }
      if (typeof reason === "string") expect((fromResult as Error).message).toBe(reason);
    });
  });

  it("TK-08 cancel with a message before the task ever ran", async () => {
    await runVirtualCollectingErrors(async () => {
      let ran = false;
      const task = createTask(async () => {
        ran = true;
      });
      task.cancel("my message");
      const error = await thrown(task);
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as CancelledError).reason).toBe("my message");
      expect((thrownBy(() => task.exception()) as CancelledError).reason).toBe("my message");
      expect(ran).toBe(false);
    });
  });

  it("TK-09 cancelling() counts requests; cancel() again still returns true", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(() => sleep(10));
      expect(t.cancelling()).toBe(0);
      expect(t.cancel()).toBe(true);
      expect(t.cancelling()).toBeGreaterThan(0);
      expect(t.cancel()).toBe(true);
      expect(t.cancelling()).toBe(2);
      expect(await thrown(t)).toBeInstanceOf(CancelledError);
    });
  });

  it("TK-10 uncancel() undoes one request", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(async () => {
        try {
          await sleep(10);
        } catch (e) {
          if (!isCancelled(e)) throw e;
          currentTask()?.uncancel();
          await sleep(10);
        }
      });
      await sleep(0.01);
      expect(t.cancel()).toBe(true);
      expect(t.cancelling()).toBe(1);
      expect(t.cancelled()).toBe(false);
      await sleep(0.01);
      expect(t.cancelling()).toBe(0);
      expect(t.cancelled()).toBe(false);
      expect(t.cancel()).toBe(true);
      expect(t.cancelling()).toBe(1);
      expect(await thrown(t)).toBeInstanceOf(CancelledError);
      expect(t.cancelled()).toBe(true);
      expect(t.done()).toBe(true);
      t.uncancel();
      expect(t.cancelled()).toBe(true);
      expect(t.done()).toBe(true);
    });
  });

  it.each([
    { work: 10, timeout: 0.1, timedOut: true, finished: false },
    { work: 0, timeout: 10, timedOut: false, finished: true },
  ])("TK-11 the structured-timeout pattern from cancel/uncancel (work $work, timeout $timeout)", async (c) => {
    await runVirtualCollectingErrors(async () => {
      let timedOut = false;
      let finished = false;
      let outerReached = false;
      const task = createTask(async () => {
        const self = currentTask() as Task;
        const loop = getRunningLoop();
        const handle = loop.callLater(
          c.timeout,
          () => {
            timedOut = true;
            self.cancel();
          },
          undefined,
        );
        try {
          try {
            await sleep(c.work);
            finished = true;
          } catch (e) {
            if (timedOut && self.uncancel() === 0 && isCancelled(e)) throw new TimeoutError("timed out", { cause: e });
            throw e;
          } finally {
            loop.clock.cancel(handle);
          }
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
        }
        outerReached = true;
        await sleep(0);
      });
      await task;
      expect(timedOut).toBe(c.timedOut);
      expect(finished).toBe(c.finished);
      expect(outerReached).toBe(true);
      expect(task.cancelling()).toBe(0);
    });
  });

  it("TK-12 uncancel() to zero also clears a pending must-cancel", async () => {
    await runVirtualCollectingErrors(async () => {
      const fut = new Future<void>();
      const task = createTask(async () => {
        await fut;
        return 42;
      });
      await tick();
      fut.setResult();
      task.cancel();
      expect(task.cancelling()).toBe(1);
      expect(task.uncancel()).toBe(0);
      expect(await task).toBe(42);
      expect(task.cancelled()).toBe(false);
    });
  });

  it("TK-13 cancellation propagates down the await chain; the caller may absorb it", async () => {
    await runVirtualCollectingErrors(async () => {
      let proof = 0;
      const waiter = new Future<void>();
      const inner = async () => {
        try {
          await waiter;
        } catch (e) {
          if (isCancelled(e)) proof += 1;
          throw e;
        }
        throw new Error("got past the wait in inner()");
      };
      const outer = async () => {
        try {
          await inner();
        } catch (e) {
          if (!isCancelled(e)) throw e;
          proof += 100;
          return;
        }
        proof += 10;
      };
      const f = createTask(outer);
      await tick();
      f.cancel();
      await f;
      expect(proof).toBe(101);
      expect(waiter.cancelled()).toBe(true);
      expect(f.cancelled()).toBe(false);
    });
  });

  it("TK-14 cancelling a sleeping task from a timer", async () => {
    await runVirtualCollectingErrors(async () => {
      const sleeper = createTask(() => sleep(5000));
      getRunningLoop().callLater(0.1, (t) => t.cancel(), sleeper);
      const outcome = await createTask(async () => {
        try {
          await sleeper;
        } catch (e) {
          if (isCancelled(e)) return "cancelled";
          throw e;
        }
        return "slept";
      });
      expect(outcome).toBe("cancelled");
      expect(time()).toBeCloseTo(0.1, 9);
    });
  });

  it("TK-14 cancelling a task from another task cancels the future it waits on", async () => {
    await runVirtualCollectingErrors(async () => {
      const fut = new Future<void>();
      const task = createTask(async () => {
        await fut;
      });
      await tick();
      task.cancel();
      await tick();
      expect(await thrown(task)).toBeInstanceOf(CancelledError);
      expect(fut.cancelled()).toBe(true);
    });
  });

  it("TK-15 lazy start: the body has not run when createTask returns", async () => {
    await runVirtualCollectingErrors(async () => {
      let name: string | undefined;
      const t = createTask(
        () => {
          name = currentTask()?.getName();
        },
        { eagerStart: false, name: "example" },
      );
      expect(t.done()).toBe(false);
      expect(name).toBeUndefined();
      await t;
      expect(name).toBe("example");
    });
  });

  it("TK-15 eager start: a body that never suspends is done when createTask returns", async () => {
    await runVirtualCollectingErrors(async () => {
      let name: string | undefined;
      const t = createTask(
        () => {
          name = currentTask()?.getName();
          return 7;
        },
        { eagerStart: true, name: "example" },
      );
      expect(t.done()).toBe(true);
      expect(name).toBe("example");
      expect(t.result()).toBe(7);
    });
  });

  // A JavaScript async function always returns a promise, so even one with no await settles one
  // microtask later: its body runs inside createTask, but the task is done only after that.
  it("TK-15 eager start: an async body runs synchronously up to its first await", async () => {
    await runVirtualCollectingErrors(async () => {
      const steps: string[] = [];
      const t = createTask(
        async () => {
          steps.push(`start as ${currentTask()?.getName()}`);
          await sleep(1);
          steps.push("after sleep");
        },
        { eagerStart: true, name: "example" },
      );
      expect(steps).toEqual(["start as example"]);
      expect(t.done()).toBe(false);
      await t;
      expect(steps).toEqual(["start as example", "after sleep"]);
      expect(time()).toBe(1);
    });
  });

  it("TK-16 a task awaiting itself fails with InvalidStateError", async () => {
    await runVirtualCollectingErrors(async () => {
      const t: Task<void> = createTask(async () => {
        await t;
      });
      const error = await thrown(t);
      expect(error).toBeInstanceOf(InvalidStateError);
      expect((error as Error).message).toMatch(/cannot await itself/);
    });
  });

  it("TK-16 createTask(123) is a TypeError", async () => {
    await runVirtualCollectingErrors(async () => {
      expect(() => createTask(123 as never)).toThrow(
        new TypeError(
          "createTask expects a function that starts the work, such as () => fetchPage(url); got `123` (number)",
        ),
      );
    });
  });

  it("TK-16 a named task reports its name", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(async () => {}, { name: "No-op" });
      expect(t.getName()).toBe("No-op");
      await t;
    });
  });

  it("TK-16 currentTask() is the running task inside, undefined outside any task", async () => {
    expect(currentTask()).toBeUndefined();
    await runVirtualCollectingErrors(async () => {
      const t: Task<boolean> = createTask(async () => currentTask() === t);
      expect(await t).toBe(true);
    });
    expect(currentTask()).toBeUndefined();
  });

  it("TK-16 each task sees itself as current before and after its await, when interleaved", async () => {
    await runVirtualCollectingErrors(async () => {
      const fut1 = new Future<void>();
      const fut2 = new Future<void>();
      const seen: Array<[string, boolean]> = [];
      const task1: Task<void> = createTask(async () => {
        seen.push(["task1 before", currentTask() === task1]);
        await fut1;
        seen.push(["task1 after", currentTask() === task1]);
        fut2.setResult();
      });
      const task2: Task<void> = createTask(async () => {
        seen.push(["task2 before", currentTask() === task2]);
        fut1.setResult();
        await fut2;
        seen.push(["task2 after", currentTask() === task2]);
      });
      await task1;
      await task2;
      expect(seen).toEqual([
        ["task1 before", true],
        ["task2 before", true],
        ["task1 after", true],
        ["task2 after", true],
      ]);
    });
  });
});

describe("sleep (spec §5)", () => {
  it("SL-01 sleep(delay, result) resolves to result after delay", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(async () => {
        await sleep(0.05);
        return await sleep(0.05, "yeah");
      });
      expect(await t).toBe("yeah");
      expect(time()).toBeCloseTo(0.1, 9);
    });
  });

  it("SL-02 sleep(NaN) is a RangeError (asyncio's ValueError)", async () => {
    await runVirtualCollectingErrors(async () => {
      expect(() => sleep(Number.NaN)).toThrow(RangeError);
      expect(() => sleep("1" as never)).toThrow(TypeError);
    });
  });

  it("SL-03 sleep(0) yields for exactly one pass: a callback queued before it has run", async () => {
    await runVirtualCollectingErrors(async () => {
      let result = 0;
      getRunningLoop().callSoon(() => {
        result += 1;
      }, undefined);
      expect(result).toBe(0);
      const num = await sleep(0, 10);
      expect(result).toBe(1);
      expect(num).toBe(10);
    });
  });
});

describe("cancellation of a task that is not suspended on an awaitress future", () => {
  it("a task awaiting a foreign promise sees the cancellation at its next awaitress await", async () => {
    await runVirtualCollectingErrors(async () => {
      let release: () => void = () => {};
      const foreign = new Promise<void>((resolve) => {
        release = resolve;
      });
      const steps: string[] = [];
      const t = createTask(async () => {
        await foreign;
        steps.push("after foreign");
        await sleep(0); // the checkpoint
        steps.push("after checkpoint");
      });
      await tick();
      expect(t.cancel()).toBe(true);
      expect(t.signal.aborted).toBe(true);
      release();
      expect(await thrown(t)).toBeInstanceOf(CancelledError);
      expect(steps).toEqual(["after foreign"]);
      expect(t.cancelled()).toBe(true);
    });
  });

  it("a task cancelled while awaiting a foreign promise ends cancelled when its function returns (asyncio's _must_cancel at the last step)", async () => {
    await runVirtualCollectingErrors(async () => {
      let release: () => void = () => {};
      const foreign = new Promise<void>((resolve) => {
        release = resolve;
      });
      const t = createTask(async () => {
        await foreign;
        return "value";
      });
      await tick();
      expect(t.cancel()).toBe(true);
      release();
      await expect(t).rejects.toBeInstanceOf(CancelledError);
      expect(t.cancelled()).toBe(true);
      expect(t.cancelling()).toBe(1);
    });
  });

  it("TK-06 variant: a task that cancels itself and returns without awaiting ends cancelled", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(async () => {
        await Promise.resolve();
        currentTask()?.cancel();
        return 12;
      });
      expect(await thrown(t)).toBeInstanceOf(CancelledError);
      expect(t.cancelled()).toBe(true);
    });
  });
});
