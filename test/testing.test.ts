/**
 * awaitress/testing: runVirtual, virtualTest, advance and settle, by their own contracts and by
 * ports of CPython's test_asyncio cases that drive a test loop's clock (test_utils.TestLoop,
 * loop.advance_time, run_briefly). Each ported case names its source in the title.
 */
import { describe, expect, it } from "vitest";
import {
  asCompleted,
  CancelledError,
  createTask,
  Event,
  Future,
  gather,
  Queue,
  run,
  sleep,
  TimeoutError,
  time,
  waitFor,
} from "../src/node.js";
import * as testing from "../src/testing/index.js";
import { advance, runVirtual, settle, virtualTest } from "../src/testing/index.js";
import { thrown, thrownBy } from "./support.js";

describe("awaitress/testing's surface", () => {
  it("exports exactly runVirtual, virtualTest, advance and settle", () => {
    expect(Object.keys(testing).sort()).toEqual(["advance", "runVirtual", "settle", "virtualTest"]);
  });
});

describe("runVirtual", () => {
  it("resolves to main's value, the reported errors and the virtual time at the end, in no real time", async () => {
    const started = performance.now();
    const result = await runVirtual(async () => {
      createTask(async () => {
        throw new Error("nobody awaits me");
      });
      await sleep(3600);
      return "done";
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(result.value).toBe("done");
    expect(result.time).toBe(3600);
    expect(result.errors.map((context) => [context.message, (context.error as Error).message])).toEqual([
      ["Task exception was never retrieved", "nobody awaits me"],
    ]);
  });

  it("starts the clock at `start`, and each run has a clock of its own", async () => {
    expect((await runVirtual(() => sleep(5, time()), { start: 100 })).value).toBe(100);
    const first = await runVirtual(() => sleep(5));
    const second = await runVirtual(() => sleep(5));
    expect([first.time, second.time]).toEqual([5, 5]);
  });

  it("rejects with main's error itself; onError sees each report as it is made", async () => {
    const boom = new Error("main failed");
    const seen: string[] = [];
    const error = await thrown(
      runVirtual(
        async () => {
          createTask(() => Promise.reject(new Error("lost")));
          await sleep(1);
          throw boom;
        },
        { onError: (context) => seen.push(context.message) },
      ),
    );
    expect(error).toBe(boom);
    expect(seen).toEqual(["Task exception was never retrieved"]);
  });

  it("passes run's other options through (a deadlock is still found, with the seed)", async () => {
    const error = await thrown(runVirtual(() => new Queue<number>().get(), { shuffle: 3 }));
    expect((error as { name: string; seed: unknown }).name).toBe("DeadlockError");
    expect((error as { seed: unknown }).seed).toBe(3);
  });

  it("checks its arguments", async () => {
    expect(await thrown(() => runVirtual(async () => 1, null as never))).toBeInstanceOf(TypeError);
    expect(await thrown(() => runVirtual(async () => 1, { onError: 1 as never }))).toBeInstanceOf(TypeError);
    expect(thrownBy(() => virtualTest("test" as never))).toBeInstanceOf(TypeError);
  });
});

describe("virtualTest", () => {
  it("is a test body that passes when nothing was reported", async () => {
    let at = -1;
    await virtualTest(async () => {
      await sleep(60);
      at = time();
    })();
    expect(at).toBe(60);
  });

  it("fails with an AggregateError of every reported error", async () => {
    const lost = new Error("lost");
    const error = await thrown(
      virtualTest(async () => {
        createTask(() => Promise.reject(lost));
        await sleep(1);
      }),
    );
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toEqual([lost]);
    expect((error as Error).message).toBe(
      "1 error was reported during the test:\n- Task exception was never retrieved: Error: lost",
    );
  });

  it("fails with the body's own error when the body throws", async () => {
    const boom = new TimeoutError("too slow");
    expect(
      await thrown(
        virtualTest(async () => {
          throw boom;
        }),
      ),
    ).toBe(boom);
  });
});

describe("advance", () => {
  it("moves time now, firing the timers due on the way; the woken tasks run once the caller waits", async () => {
    const { value } = await runVirtual(async () => {
      const order: string[] = [];
      const early = createTask(async () => {
        await sleep(2);
        order.push(`early at ${time()}`);
      });
      const late = createTask(async () => {
        await sleep(20);
        order.push("late");
      });
      await settle();
      advance(10);
      const after = time();
      const seenSynchronously = [...order];
      await settle();
      expect(late.done()).toBe(false);
      await early;
      late.cancel();
      // The woken task runs after the jump: it reads the time the jump reached.
      return { after, seenSynchronously, order };
    });
    expect(value).toEqual({ after: 10, seenSynchronously: [], order: ["early at 10"] });
  });

  it("a deadline that passes during a busy step expires as soon as the step waits", async () => {
    const { value, time: end } = await runVirtual(async () => {
      const slowStep = async (): Promise<string> => {
        advance(5); // a synchronous step that takes 5 s
        await sleep(0);
        return "finished";
      };
      try {
        return await waitFor(slowStep, 1);
      } catch (error) {
        return error instanceof TimeoutError ? `timed out at ${time()}` : String(error);
      }
    });
    expect(value).toBe("timed out at 5");
    expect(end).toBe(5);
  });

  it("needs a virtual clock, and a non-negative number", async () => {
    const outside = thrownBy(() => advance(1));
    expect(outside).toBeInstanceOf(TypeError);
    expect((outside as Error).message).toContain("needs a loop on the virtual clock");
    expect(await run(async () => thrownBy(() => advance(1)))).toBeInstanceOf(TypeError);
    expect(await run(async () => (await thrown(settle())) instanceof TypeError)).toBe(true);
    const { value } = await runVirtual(async () => [thrownBy(() => advance(-1)), thrownBy(() => advance(Number.NaN))]);
    expect(value.map((e) => e instanceof RangeError)).toEqual([true, true]);
  });
});

describe("settle", () => {
  it("returns once woken tasks have gone through every await, however many; time does not move", async () => {
    const { value } = await runVirtual(async () => {
      const ev = new Event();
      const seen: string[] = [];
      createTask(async () => {
        await ev.wait();
        // Many awaits of things already done: more loop passes than any fixed count of sleep(0).
        for (let i = 0; i < 50; i++) await sleep(0);
        const f = new Future<string>();
        f.setResult("ready");
        seen.push(await f);
        await sleep(10);
        seen.push("never, before time moves");
      });
      await sleep(1);
      ev.set();
      await settle();
      return { seen, at: time() };
    });
    expect(value).toEqual({ seen: ["ready"], at: 1 });
  });

  it("also waits for a task that settled first and goes on (two settles due at the same instant)", async () => {
    const { value } = await runVirtual(async () => {
      const seen: string[] = [];
      createTask(async () => {
        await settle();
        for (let i = 0; i < 20; i++) await sleep(0);
        seen.push("other task done");
      });
      await sleep(0); // the other task calls settle() first
      await settle();
      return seen;
    });
    expect(value).toEqual(["other task done"]);
  });

  it("tasks that settle at the same instant return one at a time, in the order they called it", async () => {
    const { value } = await runVirtual(async () => {
      const log: string[] = [];
      const settler = (name: string) => async () => {
        await settle();
        log.push(name);
        for (let i = 0; i < 10; i++) await sleep(0);
        log.push(`${name} done`);
      };
      const tasks = ["a", "b", "c"].map((name) => createTask(settler(name)));
      await gather(...tasks);
      return log;
    });
    expect(value).toEqual(["a", "a done", "b", "b done", "c", "c done"]);
  });

  it("a cancelled settle leaves no timer behind (the run ends at once, at time 0)", async () => {
    const { value, time: end } = await runVirtual(async () => {
      const waiter = createTask(async () => {
        await settle();
        return "settled";
      });
      waiter.cancel();
      return (await thrown(waiter)) instanceof CancelledError;
    });
    expect(value).toBe(true);
    expect(end).toBe(0);
  });
});

// Ports of CPython's Lib/test/test_asyncio cases that drive a TestLoop's clock. asyncio's TestLoop
// takes a generator that checks each deadline and says how far to advance; the virtual clock
// jumps by itself, so the ports keep the assertions on the results and on loop.time().
describe("CPython test_asyncio cases on the virtual clock", () => {
  it("test_tasks.py test_sleep: two half sleeps end at 0.1 with the value", async () => {
    const { value, time: end } = await runVirtual(async () => {
      const sleeper = async (dt: number, arg: string): Promise<string> => {
        await sleep(dt / 2);
        return sleep(dt / 2, arg);
      };
      const t = createTask(() => sleeper(0.1, "yeah"));
      const result = await t;
      return { done: t.done(), result };
    });
    expect(value).toEqual({ done: true, result: "yeah" });
    expect(end).toBeCloseTo(0.1, 9);
  });

  it("test_tasks.py test_task_cancel_sleeping_task: a 5000 s sleep cancelled at 0.1", async () => {
    const { value, time: end } = await runVirtual(async () => {
      const sleeper = createTask(() => sleep(5000));
      // loop.call_later(0.1, sleeper.cancel)
      createTask(async () => {
        await sleep(0.1);
        sleeper.cancel();
      });
      try {
        await sleeper;
        return "slept in";
      } catch (error) {
        if (error instanceof CancelledError) return "cancelled";
        throw error;
      }
    });
    expect(value).toBe("cancelled");
    expect(end).toBeCloseTo(0.1, 9);
  });

  it("test_tasks.py test_wait_for: the inner task is cancelled at the 0.1 s timeout, its finally run", async () => {
    const { value, time: end } = await runVirtual(async () => {
      let fooRunning: boolean | null = null;
      const fut = createTask(async () => {
        fooRunning = true;
        try {
          await sleep(0.2);
        } finally {
          fooRunning = false;
        }
        return "done";
      });
      const error = await thrown(waitFor(fut, 0.1));
      return {
        timedOut: error instanceof TimeoutError,
        done: fut.done(),
        cancelled: fut.cancelled(),
        fooRunning,
        at: time(),
      };
    });
    expect(value).toEqual({ timedOut: true, done: true, cancelled: true, fooRunning: false, at: 0.1 });
    expect(end).toBeCloseTo(0.1, 9);
  });

  it("test_tasks.py test_as_completed: advance_time(0.14) once a and b are done; c completes last at 0.15", async () => {
    const { value, time: end } = await runVirtual(async () => {
      const completed = new Set<string>();
      let timeShifted = false;
      const sleeper = async (dt: number, x: string): Promise<string> => {
        await sleep(dt);
        completed.add(x);
        if (!timeShifted && completed.has("a") && completed.has("b")) {
          timeShifted = true;
          advance(0.14); // loop.advance_time(0.14)
        }
        return x;
      };
      const b = createTask(() => sleeper(0.01, "b"));
      const c = createTask(() => sleeper(0.15, "c"));
      const a = createTask(() => sleeper(0.01, "a"));
      const values: string[] = [];
      // asyncio's `for f in as_completed(...)`: the plain iterable of awaitables.
      const iterator: Iterable<Promise<string>> = asCompleted([b, c, a]);
      for (const f of iterator) values.push(await f);
      return values;
    });
    expect(end).toBeCloseTo(0.15, 9);
    expect(value.slice(0, 2).sort()).toEqual(["a", "b"]);
    expect(value[2]).toBe("c");
  });

  it("test_futures.py test_tb_logger_exception_unretrieved: a future's error nobody retrieved is reported", async () => {
    const boom = new RangeError("boom");
    const { errors } = await runVirtual(async () => {
      const fut = new Future<void>();
      fut.setException(boom);
      await settle(); // test_utils.run_briefly(loop)
    });
    expect(errors.map((context) => [context.message, context.error])).toEqual([
      ["Future exception was never retrieved", boom],
    ]);
  });

  it("test_futures.py test_tb_logger_exception_retrieved: once exception() read it, nothing is reported", async () => {
    const { errors } = await runVirtual(async () => {
      const fut = new Future<void>();
      fut.setException(new RangeError("boom"));
      fut.exception();
      await settle();
    });
    expect(errors).toEqual([]);
  });

  it("test_tasks.py GatherTestsBase.test_one_exception: gather fails with the first error; the others may end as they like", async () => {
    const exc = new Error("ZeroDivisionError");
    const { value, errors } = await runVirtual(async () => {
      const [a, b, c, d, e] = [0, 1, 2, 3, 4].map(() => new Future<number>()) as [
        Future<number>,
        Future<number>,
        Future<number>,
        Future<number>,
        Future<number>,
      ];
      const fut = gather(a, b, c, d, e);
      const calls: unknown[] = [];
      fut.addDoneCallback((f) => calls.push(f));
      a.setResult(1);
      b.setException(exc);
      await settle(); // self._run_loop(self.one_loop)
      const seen = {
        done: fut.done(),
        calls: calls.length,
        calledWithFut: calls[0] === fut,
        exception: fut.exception(),
      };
      c.setResult(3);
      d.cancel();
      e.setException(new RangeError("RuntimeError"));
      e.exception();
      await settle();
      return seen;
    });
    expect(value).toEqual({ done: true, calls: 1, calledWithFut: true, exception: exc });
    // b's error was retrieved through gather, e's by exception(): nothing went unhandled.
    expect(errors).toEqual([]);
  });
});
