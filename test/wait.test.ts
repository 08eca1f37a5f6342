import { describe, expect, it } from "vitest";
import {
  ALL_COMPLETED,
  asCompleted,
  CancelledError,
  createTask,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  Future,
  getRunningLoop,
  sleep,
  type Task,
  TimeoutError,
  time,
  wait,
} from "../src/node.js";
import { runVirtualCollectingErrors, thrown, tick, ZeroDivisionError } from "./support.js";

describe("wait (spec §5)", () => {
  it("WT-01 ALL_COMPLETED waits for every task; a second call returns at once", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(0.1));
      const b = createTask(() => sleep(0.15));
      const [done, pending] = await wait([b, a]);
      expect(done).toEqual(new Set([a, b]));
      expect(pending.size).toBe(0);
      expect(time()).toBeCloseTo(0.15, 9);
      const [done2, pending2] = await wait([b, a], { returnWhen: ALL_COMPLETED });
      expect(done2).toEqual(new Set([a, b]));
      expect(pending2.size).toBe(0);
      expect(time()).toBeCloseTo(0.15, 9);
    });
  });

  it("WT-01 accepts any iterable of tasks: a Set, a generator", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(0.1));
      const b = createTask(() => sleep(0.15));
      const [done] = await wait(new Set([a, b]));
      expect(done).toEqual(new Set([a, b]));
      function* both() {
        yield a;
        yield b;
      }
      const [done2, pending2] = await wait(both());
      expect(done2).toEqual(new Set([a, b]));
      expect(pending2.size).toBe(0);
    });
  });

  it("WT-02 duplicate entries collapse", async () => {
    await runVirtualCollectingErrors(async () => {
      const coro = async (s: string) => s;
      const c = createTask(() => coro("test"));
      const [done, pending] = await wait([c, c, createTask(() => coro("spam"))]);
      expect(pending.size).toBe(0);
      expect(done.size).toBe(2);
      expect(new Set([...done].map((t) => t.result()))).toEqual(new Set(["test", "spam"]));
    });
  });

  it("WT-03 an empty collection is a RangeError", async () => {
    await runVirtualCollectingErrors(async () => {
      expect(await thrown(wait(new Set<Task>()))).toEqual(
        new RangeError("wait() needs at least one task or future, got an empty collection"),
      );
      expect(await thrown(wait([]))).toBeInstanceOf(RangeError);
    });
  });

  it("WT-03 an unknown returnWhen is a RangeError", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(() => sleep(1));
      const error = await thrown(wait([t], { returnWhen: -1 as never }));
      expect(error).toEqual(
        new RangeError(
          "Expected `returnWhen` to be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got `-1` (number)",
        ),
      );
      t.cancel();
    });
  });

  it("WT-03 a bare future, promise or function is a TypeError that says to pass an array", async () => {
    await runVirtualCollectingErrors(async () => {
      const f = new Future<number>();
      const error = await thrown(wait(f as never));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toBe(
        "wait() expects an array (or other iterable) of tasks, got a Future: pass [task] rather than task",
      );
      expect(await thrown(wait((async () => 1) as never))).toBeInstanceOf(TypeError);
      expect(await thrown(wait(Promise.resolve(1) as never))).toBeInstanceOf(TypeError);
      expect(((await thrown(wait(5 as never))) as Error).message).toBe(
        "wait() expects an array (or other iterable) of tasks, got `5` (number)",
      );
    });
  });

  it("WT-03 a promise or function inside the array is a TypeError naming createTask", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(() => sleep(1));
      const error = await thrown(wait([t, Promise.resolve(1)] as never));
      expect(error).toEqual(
        new TypeError(
          "wait() takes Tasks and Futures, got a Promise (an already started operation) at position 1: start it with createTask(() => promise) and pass the task",
        ),
      );
      const error2 = await thrown(wait([async () => 1] as never));
      expect((error2 as Error).message).toMatch(/createTask\(fn\)/);
      expect(await thrown(wait([t, 5] as never))).toEqual(
        new TypeError("wait() takes Tasks and Futures, got `5` (number) at position 1"),
      );
      t.cancel();
    });
  });

  it("WT-03 bad options are a TypeError or RangeError", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(() => sleep(1));
      expect(await thrown(wait([t], null as never))).toEqual(
        new TypeError("Expected wait()'s options to be an object, got `null`"),
      );
      expect(await thrown(wait([t], { timeout: "1" as never }))).toBeInstanceOf(TypeError);
      expect(await thrown(wait([t], { timeout: Number.NaN }))).toBeInstanceOf(RangeError);
      t.cancel();
    });
  });

  it("WT-04 FIRST_COMPLETED returns the first done; the others are not cancelled", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(10));
      const b = createTask(() => sleep(0.1));
      const [done, pending] = await wait([b, a], { returnWhen: FIRST_COMPLETED });
      expect(done).toEqual(new Set([b]));
      expect(pending).toEqual(new Set([a]));
      expect(a.done()).toBe(false);
      expect(a.cancelled()).toBe(false);
      expect(b.result()).toBeUndefined();
      expect(time()).toBeCloseTo(0.1, 9);
      await tick();
      expect(a.cancelled()).toBe(false);
    });
  });

  // asyncio resumes `wait` a few passes after the first completion, and reports b, which finished
  // in those passes, as done too. The guarantee behind it: `done` is computed when wait resumes,
  // so everything finished by then is in it, not only what woke it.
  it("WT-05 everything done when wait resumes is reported done", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(async () => {
        await sleep(0);
      });
      const b = createTask(async () => {
        await sleep(0);
      });
      const [done, pending] = await wait([b, a], { returnWhen: FIRST_COMPLETED });
      expect(done).toEqual(new Set([a, b]));
      expect(pending.size).toBe(0);
      expect(a.result()).toBeUndefined();
      expect(b.result()).toBeUndefined();
    });
  });

  it("WT-05 futures completed together in one callback are all reported done", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = new Future<number>();
      const b = new Future<number>();
      getRunningLoop().callSoon(() => {
        a.setResult(1);
        b.setResult(2);
      }, undefined);
      const [done, pending] = await wait([a, b], { returnWhen: FIRST_COMPLETED });
      expect(done).toEqual(new Set([a, b]));
      expect(pending.size).toBe(0);
    });
  });

  it("WT-06 FIRST_EXCEPTION returns when one fails at once; wait does not raise", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(10));
      const b = createTask(async () => {
        throw new ZeroDivisionError();
      });
      const [done, pending] = await wait([b, a], { returnWhen: FIRST_EXCEPTION });
      expect(done).toEqual(new Set([b]));
      expect(pending).toEqual(new Set([a]));
      expect(time()).toBe(0);
      a.cancel();
    });
    // As in asyncio, FIRST_EXCEPTION looked at b's error: it is not reported as never retrieved.
    expect(reported).toEqual([]);
  });

  it("WT-06 FIRST_EXCEPTION with a failure after a sleep", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(10));
      const b = createTask(async () => {
        await sleep(0.01);
        throw new ZeroDivisionError();
      });
      const [done, pending] = await wait([b, a], { returnWhen: FIRST_EXCEPTION });
      expect(done).toEqual(new Set([b]));
      expect(pending).toEqual(new Set([a]));
      expect(time()).toBeCloseTo(0.01, 9);
      expect(b.exception()).toBeInstanceOf(ZeroDivisionError);
      a.cancel();
    });
  });

  it("WT-06 FIRST_EXCEPTION ignores cancellations and successes until all are done", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(1));
      const b = createTask(() => sleep(2));
      const c = createTask(() => sleep(10));
      await tick();
      c.cancel();
      const [done, pending] = await wait([a, b, c], { returnWhen: FIRST_EXCEPTION });
      expect(done).toEqual(new Set([a, b, c]));
      expect(pending.size).toBe(0);
      expect(time()).toBe(2);
    });
  });

  it("WT-07 exceptions are reported in done, not raised", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(0.1));
      const b = createTask(async () => {
        await sleep(0.15);
        throw new ZeroDivisionError();
      });
      const [done, pending] = await wait([b, a]);
      expect(done.size).toBe(2);
      expect(pending.size).toBe(0);
      expect([...done].filter((t) => t.exception() !== undefined)).toEqual([b]);
      expect(time()).toBeCloseTo(0.15, 9);
      const [done2] = await wait([b, a]);
      expect(done2.size).toBe(2);
      expect(time()).toBeCloseTo(0.15, 9);
    });
  });

  it("WT-07 an error in done that nobody looks at is reported when the loop closes", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const b = createTask(async () => {
        throw new ZeroDivisionError("unseen");
      });
      await wait([b]);
    });
    expect(reported).toHaveLength(1);
    expect(reported[0]?.error).toBeInstanceOf(ZeroDivisionError);
  });

  it.each([0.11, 0.1])("WT-08 timeout %s returns partial results and cancels nothing", async (timeout) => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(0.1));
      const b = createTask(() => sleep(0.15));
      // The tasks start first, as in asyncio's test (they exist before the loop runs wait).
      await tick();
      const [done, pending] = await wait([b, a], { timeout });
      expect(done).toEqual(new Set([a]));
      expect(pending).toEqual(new Set([b]));
      expect(time()).toBeCloseTo(timeout, 9);
      expect(b.cancelled()).toBe(false);
      expect(b.done()).toBe(false);
      const [done2, pending2] = await wait([a, b]);
      expect(done2).toEqual(new Set([a, b]));
      expect(pending2.size).toBe(0);
      expect(time()).toBeCloseTo(0.15, 9);
    });
  });

  it("WT-08 a zero or negative timeout returns what is done without waiting", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(1));
      const f = new Future<number>();
      f.setResult(1);
      const [done, pending] = await wait([a, f], { timeout: 0 });
      expect(done).toEqual(new Set([f]));
      expect(pending).toEqual(new Set([a]));
      const [, pending2] = await wait([a], { timeout: -1 });
      expect(pending2).toEqual(new Set([a]));
      expect(time()).toBe(0);
      a.cancel();
    });
  });

  it("WT-08 the timer is dropped once wait returns", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(0.1));
      await wait([a], { timeout: 100 });
      expect(time()).toBeCloseTo(0.1, 9);
      // Nothing else is scheduled: the run ends without jumping to the 100 s deadline.
    });
  });

  it("WT-09 cancelling the caller of wait does not cancel the children", async () => {
    await runVirtualCollectingErrors(async () => {
      let proof = 0;
      const waiter = new Future<void>();
      let inner: Task | undefined;
      const outer = createTask(async () => {
        inner = createTask(async () => {
          await waiter;
          proof += 1;
        });
        await wait([inner]);
        proof += 100;
      });
      await tick();
      expect(outer.cancel()).toBe(true);
      expect(await thrown(outer)).toBeInstanceOf(CancelledError);
      expect(outer.cancelled()).toBe(true);
      waiter.setResult();
      await tick();
      await tick();
      expect(inner?.cancelled()).toBe(false);
      expect(proof).toBe(1);
    });
  });
});

describe("asCompleted", () => {
  it("yields the original tasks in completion order", async () => {
    await runVirtualCollectingErrors(async () => {
      const slow = createTask(() => sleep(0.3, "slow"));
      const fast = createTask(() => sleep(0.1, "fast"));
      const middle = createTask(() => sleep(0.2, "middle"));
      const order: Array<[string, number]> = [];
      for await (const t of asCompleted([slow, fast, middle])) {
        expect(t.done()).toBe(true);
        order.push([await t, time()]);
      }
      expect(order.map(([name]) => name)).toEqual(["fast", "middle", "slow"]);
      expect(order.map(([, at]) => at)).toEqual([0.1, 0.2, 0.3].map((x) => expect.closeTo(x, 9)));
    });
  });

  it("yields the same object that was passed in", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(0.2));
      const b = new Future<number>();
      const seen: unknown[] = [];
      setTimeoutOnLoop(() => b.setResult(1));
      for await (const f of asCompleted([a, b])) seen.push(f);
      expect(seen).toEqual([b, a]);
      expect(seen[0]).toBe(b);
      expect(seen[1]).toBe(a);
    });
  });

  it("wraps functions in tasks and promises in futures", async () => {
    await runVirtualCollectingErrors(async () => {
      const results: unknown[] = [];
      for await (const f of asCompleted<string>([() => sleep(0.2, "fn"), Promise.resolve("promise")])) {
        expect(f).toBeInstanceOf(Future);
        results.push(f.result());
      }
      expect(results).toEqual(["promise", "fn"]);
    });
  });

  it("yields failed tasks too: awaiting one throws its error", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const bad = createTask(async () => {
        await sleep(0.1);
        throw new ZeroDivisionError("bad");
      });
      const good = createTask(() => sleep(0.2, "good"));
      const outcomes: unknown[] = [];
      for await (const t of asCompleted([good, bad])) {
        try {
          outcomes.push(await t);
        } catch (e) {
          outcomes.push(e);
        }
      }
      expect(outcomes[0]).toBeInstanceOf(ZeroDivisionError);
      expect(outcomes[1]).toBe("good");
    });
    expect(reported).toEqual([]);
  });

  it("throws TimeoutError after the done ones once the timeout passes; nothing is cancelled", async () => {
    await runVirtualCollectingErrors(async () => {
      const fast = createTask(() => sleep(0.1, "fast"));
      const slow = createTask(() => sleep(10, "slow"));
      const slower = createTask(() => sleep(20, "slower"));
      const got: string[] = [];
      let error: unknown;
      try {
        for await (const t of asCompleted([slow, fast, slower], { timeout: 1 })) got.push(await t);
      } catch (e) {
        error = e;
      }
      expect(got).toEqual(["fast"]);
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as Error).message).toBe("asCompleted() timed out after 1s with 2 of 3 awaitables not done");
      expect(time()).toBe(1);
      expect(slow.cancelled()).toBe(false);
      expect(await slow).toBe("slow");
    });
  });

  it("after a timeout, one TimeoutError per awaitable not done, then the end", async () => {
    await runVirtualCollectingErrors(async () => {
      const done = new Future<number>();
      done.setResult(1);
      const never = new Future<number>();
      const iterator = asCompleted([done, never], { timeout: 0.5 });
      await sleep(1);
      expect((await iterator.next()).value).toBe(done);
      expect(await thrown(iterator.next())).toBeInstanceOf(TimeoutError);
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    });
  });

  it("the timer is dropped when everything completes in time", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(0.1, 1));
      const got: number[] = [];
      for await (const t of asCompleted([a], { timeout: 100 })) got.push(await t);
      expect(got).toEqual([1]);
      await sleep(200);
      expect(time()).toBeCloseTo(200.1, 9);
    });
  });

  it("is also a plain iterable of promises of results, in completion order (Python's for form)", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(0.3, "a"));
      const b = createTask(() => sleep(0.1, "b"));
      const c = createTask(async () => {
        await sleep(0.2);
        throw new ZeroDivisionError("c");
      });
      const results: unknown[] = [];
      for (const next of asCompleted([a, b, c])) {
        try {
          results.push(await next);
        } catch (e) {
          results.push(e);
        }
      }
      expect(results[0]).toBe("b");
      expect(results[1]).toBeInstanceOf(ZeroDivisionError);
      expect(results[2]).toBe("a");
    });
  });

  it("the plain form works when every promise is taken at once", async () => {
    await runVirtualCollectingErrors(async () => {
      const tasks = [3, 1, 2].map((d) => createTask(() => sleep(d, d)));
      const all = await Promise.all([...asCompleted(tasks)]);
      expect(all).toEqual([1, 2, 3]);
    });
  });

  it("duplicates count once; an empty input yields nothing", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(0.1, "a"));
      const seen: unknown[] = [];
      for await (const t of asCompleted([a, a, a])) seen.push(t);
      expect(seen).toEqual([a]);
      for await (const _ of asCompleted([])) throw new Error("nothing to yield");
    });
  });

  it("breaking out stops listening and cancels nothing", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(0.1, "a"));
      const b = createTask(async () => {
        await sleep(0.2);
        throw new ZeroDivisionError("b");
      });
      for await (const t of asCompleted([a, b], { timeout: 5 })) {
        expect(t).toBe(a);
        break;
      }
      expect(b.cancelled()).toBe(false);
      expect(await thrown(b)).toBeInstanceOf(ZeroDivisionError);
      await sleep(10);
    });
    expect(reported).toEqual([]);
  });

  it("a consumer cancelled while it waits takes nothing: the next one gets the task", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = createTask(() => sleep(1, "a"));
      const iterator = asCompleted([a]);
      const consumer = createTask(() => iterator.next());
      await tick();
      consumer.cancel();
      expect(await thrown(consumer)).toBeInstanceOf(CancelledError);
      const next = await iterator.next();
      expect(next.value).toBe(a);
      expect(await iterator.next()).toEqual({ done: true, value: undefined });
    });
  });

  it("throws TypeError synchronously for a bare task, a non-iterable or a bad item, starting nothing", async () => {
    await runVirtualCollectingErrors(async () => {
      const t = createTask(() => sleep(1));
      expect(() => asCompleted(t as never)).toThrow(
        new TypeError(
          "asCompleted() expects an array (or other iterable) of tasks, got a Task: pass [task] rather than task",
        ),
      );
      expect(() => asCompleted(42 as never)).toThrow(TypeError);
      let ran = false;
      expect(() =>
        asCompleted([
          () => {
            ran = true;
          },
          "nope" as never,
        ]),
      ).toThrow(
        new TypeError(
          'Expected asCompleted\'s item 1 to be a Task, a Future, a promise or a function that starts the work, got "nope" (string)',
        ),
      );
      expect(() => asCompleted([t], { timeout: Number.NaN })).toThrow(RangeError);
      await tick();
      expect(ran).toBe(false);
      t.cancel();
    });
  });
});

function setTimeoutOnLoop(fn: () => void): void {
  void createTask(async () => {
    await sleep(0.1);
    fn();
  });
}
