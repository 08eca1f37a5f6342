import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CancelledError, createTask, Future, gather, isCancelled, sleep, type Task, time } from "../src/node.js";
import { runVirtualCollectingErrors, thrown, tick, ZeroDivisionError } from "./support.js";

function futures<T>(n: number): Future<T>[] {
  return Array.from({ length: n }, () => new Future<T>());
}

describe("gather (spec §5)", () => {
  it.each([false, true])("GA-01 results in argument order, done callback once (returnExceptions %s)", async (re) => {
    const reported = await runVirtualCollectingErrors(async () => {
      const [a, b, c] = futures<number>(3) as [Future<number>, Future<number>, Future<number>];
      const fut = gather(a, b, c, { returnExceptions: re });
      let calls = 0;
      fut.addDoneCallback(() => calls++);
      b.setResult(1);
      a.setResult(2);
      await tick();
      expect(fut.done()).toBe(false);
      c.setResult(3);
      await tick();
      await tick();
      expect(calls).toBe(1);
      expect(fut.result()).toEqual([2, 1, 3]);
    });
    expect(reported).toEqual([]);
  });

  it("GA-01 functions awaiting the futures give the same ordered result", async () => {
    await runVirtualCollectingErrors(async () => {
      const [a, b, c] = futures<number>(3) as [Future<number>, Future<number>, Future<number>];
      const fut = gather(
        async () => await a,
        async () => await b,
        async () => await c,
      );
      await tick();
      b.setResult(1);
      a.setResult(2);
      await tick();
      expect(fut.done()).toBe(false);
      c.setResult(3);
      expect(await fut).toEqual([2, 1, 3]);
    });
  });

  it("GA-01 gather() with no arguments resolves to []", async () => {
    await runVirtualCollectingErrors(async () => {
      const fut = gather();
      expect(fut.done()).toBe(true);
      expect(await fut).toEqual([]);
      expect(fut.cancel()).toBe(false);
    });
  });

  it("GA-02 the first error fails the gather at once; later child events change nothing", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const [a, b, c, d, e] = futures<number>(5) as Future<number>[] as [
        Future<number>,
        Future<number>,
        Future<number>,
        Future<number>,
        Future<number>,
      ];
      const fut = gather(a, b, c, d, e);
      let calls = 0;
      fut.addDoneCallback(() => calls++);
      a.setResult(1);
      const exc = new ZeroDivisionError("b failed");
      b.setException(exc);
      expect(fut.done()).toBe(true);
      await tick();
      expect(calls).toBe(1);
      expect(fut.exception()).toBe(exc);
      // The gather did not cancel its other children.
      for (const child of [c, d, e]) expect(child.done()).toBe(false);
      c.setResult(3);
      d.cancel();
      e.setException(new ZeroDivisionError("e failed later"));
      await tick();
      expect(calls).toBe(1);
      expect(fut.exception()).toBe(exc);
      expect(fut.cancelled()).toBe(false);
    });
    // e's later error counts as retrieved (asyncio marks it), so nothing is reported.
    expect(reported).toEqual([]);
  });

  it("GA-02 children that are tasks keep running after the gather failed", async () => {
    await runVirtualCollectingErrors(async () => {
      let finished = false;
      const slow = createTask(async () => {
        await sleep(1);
        finished = true;
        return 1;
      });
      const fut = gather(slow, async () => {
        throw new ZeroDivisionError("fast failure");
      });
      expect(await thrown(fut)).toBeInstanceOf(ZeroDivisionError);
      expect(time()).toBe(0);
      expect(await slow).toBe(1);
      expect(finished).toBe(true);
    });
  });

  it("GA-03 returnExceptions collects errors in place", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const [a, b, c, d] = futures<number>(4) as [Future<number>, Future<number>, Future<number>, Future<number>];
      const fut = gather(a, b, c, d, { returnExceptions: true });
      let calls = 0;
      fut.addDoneCallback(() => calls++);
      const exc = new ZeroDivisionError("c");
      const exc2 = new RangeError("d");
      b.setResult(1);
      c.setException(exc);
      a.setResult(3);
      await tick();
      expect(fut.done()).toBe(false);
      d.setException(exc2);
      await tick();
      await tick();
      expect(fut.result()).toEqual([3, 1, exc, exc2]);
      expect(fut.result()[2]).toBe(exc);
      expect(calls).toBe(1);
    });
    // The errors are values of the result: retrieved, not reported.
    expect(reported).toEqual([]);
  });

  it("GA-04 a cancelled child fails the gather with CancelledError; the gather is not cancelled()", async () => {
    await runVirtualCollectingErrors(async () => {
      const [a, b, c, d, e] = futures<number>(5) as [
        Future<number>,
        Future<number>,
        Future<number>,
        Future<number>,
        Future<number>,
      ];
      const fut = gather(a, b, c, d, e);
      let calls = 0;
      fut.addDoneCallback(() => calls++);
      a.setResult(1);
      b.cancel("b cancelled");
      await tick();
      expect(fut.done()).toBe(true);
      expect(fut.cancelled()).toBe(false);
      const error = fut.exception();
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as CancelledError).reason).toBe("b cancelled");
      c.setResult(3);
      d.cancel();
      e.setException(new ZeroDivisionError());
      await tick();
      expect(calls).toBe(1);
      expect(fut.exception()).toBe(error);
    });
  });

  it("GA-04 with returnExceptions, cancelled children give CancelledError instances in their slots", async () => {
    await runVirtualCollectingErrors(async () => {
      const [a, b, c, d, e, f] = futures<number>(6) as [
        Future<number>,
        Future<number>,
        Future<number>,
        Future<number>,
        Future<number>,
        Future<number>,
      ];
      const fut = gather(a, b, c, d, e, f, { returnExceptions: true });
      const zde = new ZeroDivisionError();
      const rte = new Error("runtime");
      a.setResult(1);
      b.setException(zde);
      c.cancel();
      await tick();
      expect(fut.done()).toBe(false);
      d.setResult(3);
      e.cancel("e");
      f.setException(rte);
      const result = await fut;
      expect(result).toHaveLength(6);
      expect(result[0]).toBe(1);
      expect(result[1]).toBe(zde);
      expect(result[2]).toBeInstanceOf(CancelledError);
      expect(result[3]).toBe(3);
      expect(result[4]).toBeInstanceOf(CancelledError);
      expect((result[4] as CancelledError).reason).toBe("e");
      expect(result[5]).toBe(rte);
    });
  });

  it("GA-05 the same function passed several times runs once", async () => {
    await runVirtualCollectingErrors(async () => {
      let runs = 0;
      const abc = async () => {
        runs++;
        await sleep(0.1);
        return "abc";
      };
      const def = async () => "def";
      expect(await gather(abc, abc, def, abc)).toEqual(["abc", "abc", "def", "abc"]);
      expect(runs).toBe(1);
    });
  });

  it("GA-05 the same promise, task or future passed twice fills both slots", async () => {
    await runVirtualCollectingErrors(async () => {
      const promise = Promise.resolve("p");
      const task = createTask(() => sleep(0.1, "t"));
      const future = new Future<string>();
      const fut = gather(promise, task, future, promise, task, future);
      future.setResult("f");
      expect(await fut).toEqual(["p", "t", "f", "p", "t", "f"]);
    });
  });

  it("GA-05 a duplicate future that fails with returnExceptions still completes the gather once", async () => {
    await runVirtualCollectingErrors(async () => {
      const f = new Future<number>();
      const fut = gather(f, f, { returnExceptions: true });
      let calls = 0;
      fut.addDoneCallback(() => calls++);
      const exc = new ZeroDivisionError();
      f.setException(exc);
      expect(await fut).toEqual([exc, exc]);
      await tick();
      expect(calls).toBe(1);
    });
  });

  it("GA-06 cancelling the task that awaits a gather cancels every child", async () => {
    await runVirtualCollectingErrors(async () => {
      let proof = 0;
      const waiter = new Future<void>();
      const inner = async () => {
        await waiter;
        proof += 1;
      };
      const child1 = createTask(inner);
      const child2 = createTask(inner);
      let gatherer: Future<unknown> | undefined;
      const outer = createTask(async () => {
        gatherer = gather(child1, child2);
        await gatherer;
        proof += 100;
      });
      await tick();
      expect(outer.cancel()).toBe(true);
      expect(await thrown(outer)).toBeInstanceOf(CancelledError);
      expect(outer.cancelled()).toBe(true);
      expect(gatherer?.cancel()).toBe(false);
      expect(waiter.cancelled()).toBe(true);
      expect(child1.cancelled()).toBe(true);
      expect(child2.cancelled()).toBe(true);
      expect(proof).toBe(0);
    });
  });

  it("GA-06 cancelling the gather future itself cancels the children and fails it with CancelledError", async () => {
    await runVirtualCollectingErrors(async () => {
      const child1 = createTask(() => sleep(10));
      const child2 = new Future<number>();
      const g = gather(child1, child2, async () => await sleep(10));
      await tick();
      expect(g.cancel("stop")).toBe(true);
      const error = await thrown(g);
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as CancelledError).reason).toBe("stop");
      expect(g.cancelled()).toBe(false);
      await tick();
      expect(child1.cancelled()).toBe(true);
      expect(child2.cancelled()).toBe(true);
      expect(time()).toBe(0);
    });
  });

  it("GA-07 the first child error propagates; the later one counts as retrieved (no report)", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const a = new Future<void>();
      const b = new Future<void>();
      const inner = async (f: Future<void>) => {
        await f;
        throw new Error(`inner ${f === a ? "a" : "b"}`);
      };
      let children: Task[] = [];
      const outer = createTask(async () => {
        const ta = createTask(() => inner(a));
        const tb = createTask(() => inner(b));
        children = [ta, tb];
        await gather(ta, tb);
      });
      await tick();
      a.setResult();
      expect(((await thrown(outer)) as Error).message).toBe("inner a");
      b.setResult();
      // Let tb fail without anyone awaiting it (awaiting would retrieve its error).
      await sleep(1);
      expect(children[1]?.done()).toBe(true);
      expect(children[1]?.cancelled()).toBe(false);
    });
    expect(reported).toEqual([]);
  });

  it("GA-07 an unretrieved gather failure is reported once, not once per child", async () => {
    const reported = await runVirtualCollectingErrors(async () => {
      const a = new Future<void>();
      const g = gather(
        a,
        createTask(() => sleep(1)),
      );
      a.setException(new ZeroDivisionError("lost"));
      expect(g.done()).toBe(true);
      await sleep(2);
    });
    expect(reported).toHaveLength(1);
    expect(reported[0]?.error).toBeInstanceOf(ZeroDivisionError);
  });

  // asyncio's scenario cancels from a done callback of `fut`, after the child task finished but
  // before the gather heard of it. Here the gather hears synchronously, and a task is done one
  // microtask after its body returns, so the cancel is made from the child's own done callback.
  it("GA-08 cancel() returns false once every child is done; the result is delivered", async () => {
    await runVirtualCollectingErrors(async () => {
      const fut = new Future<number>();
      const child = createTask(async () => await fut);
      const g = gather(child);
      await tick();
      let cancelResult: boolean | undefined;
      child.addDoneCallback(() => {
        cancelResult = g.cancel();
      });
      fut.setResult(42);
      expect(await g).toEqual([42]);
      await tick();
      expect(cancelResult).toBe(false);
      expect(g.cancelled()).toBe(false);
      expect(g.result()).toEqual([42]);
    });
  });

  it("GA-08 cancel() returns false when all children are futures that are already done", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = new Future<number>();
      a.setResult(1);
      const b = new Future<number>();
      b.cancel();
      const g = gather(a, b, { returnExceptions: true });
      expect(g.cancel()).toBe(false);
      expect((await g)[0]).toBe(1);
    });
  });

  it.each([
    ["no message", undefined],
    ["a string", "my message"],
    ["a number", 5],
  ])("GA-09 cancellation propagates through gather with returnExceptions (%s)", async (_label, message) => {
    await runVirtualCollectingErrors(async () => {
      const qwe = createTask(async () => {
        while (time() < 1) {
          await gather(() => sleep(0.05), { returnExceptions: true });
        }
        return "finished";
      });
      await sleep(0.2);
      qwe.cancel(message);
      const error = await thrown(qwe);
      expect(error).toBeInstanceOf(CancelledError);
      expect((error as CancelledError).reason).toBe(message);
      expect((error as CancelledError).cause).toBeUndefined();
      expect(qwe.cancelled()).toBe(true);
      expect(time()).toBeCloseTo(0.2, 9);
    });
  });

  it("GA-09 cancelling the gather future directly with returnExceptions still fails it", async () => {
    await runVirtualCollectingErrors(async () => {
      const a = new Future<number>();
      const b = new Future<number>();
      const g = gather(a, b, { returnExceptions: true });
      expect(g.cancel("why")).toBe(true);
      const error = await thrown(g);
      expect(isCancelled(error)).toBe(true);
      expect((error as CancelledError).reason).toBe("why");
    });
  });
});

describe("gather: argument handling", () => {
  it("accepts tasks, futures, promises and functions, and keeps their order", async () => {
    await runVirtualCollectingErrors(async () => {
      const task = createTask(() => sleep(0.3, "task"));
      const future = new Future<string>();
      const promise = new Promise<string>((resolve) => setTimeout(resolve, 1, "promise"));
      const g = gather(
        task,
        future,
        promise,
        () => sleep(0.1, "function"),
        () => "sync",
      );
      future.setResult("future");
      expect(await g).toEqual(["task", "future", "promise", "function", "sync"]);
    });
  });

  it("a function argument runs as a task, on the next pass", async () => {
    await runVirtualCollectingErrors(async () => {
      let ran = false;
      const g = gather(() => {
        ran = true;
        return 1;
      });
      expect(ran).toBe(false);
      await tick();
      expect(ran).toBe(true);
      expect(await g).toEqual([1]);
    });
  });

  it("a rejected promise fails the gather with its error", async () => {
    await runVirtualCollectingErrors(async () => {
      const error = new ZeroDivisionError("promise");
      expect(await thrown(gather(Promise.reject(error)))).toBe(error);
    });
  });

  it("a promise that rejects with CancelledError counts as a cancelled child", async () => {
    await runVirtualCollectingErrors(async () => {
      const cancelled = new CancelledError("inner");
      const result = await gather(Promise.reject(cancelled), Promise.resolve(1), { returnExceptions: true });
      expect(result[0]).toBe(cancelled);
      expect(result[1]).toBe(1);
    });
  });

  it("cancelling a gather of a promise stops waiting for it at once", async () => {
    await runVirtualCollectingErrors(async () => {
      const never = new Promise<number>(() => {});
      const g = gather(never);
      expect(g.cancel()).toBe(true);
      expect(await thrown(g)).toBeInstanceOf(CancelledError);
    });
  });

  it("throws TypeError for an argument that is not awaitable, before starting anything", async () => {
    await runVirtualCollectingErrors(async () => {
      let ran = false;
      const start = () => {
        ran = true;
      };
      expect(() => gather(start, 42 as never)).toThrow(
        new TypeError(
          "Expected gather's argument 1 to be a Task, a Future, a promise or a function that starts the work, got `42` (number)",
        ),
      );
      expect(() => gather({ returnExceptions: true } as never, start)).toThrow(/options object goes last/);
      await tick();
      expect(ran).toBe(false);
    });
  });

  it("throws TypeError when returnExceptions is not a boolean", async () => {
    await runVirtualCollectingErrors(async () => {
      expect(() => gather(Promise.resolve(1), { returnExceptions: "yes" as unknown as boolean })).toThrow(
        new TypeError('Expected `returnExceptions` to be a boolean, got "yes" (string)'),
      );
    });
  });

  it("works outside run() on the default loop", async () => {
    expect(await gather(Promise.resolve(1), async () => 2)).toEqual([1, 2]);
  });

  it("joins many tasks", async () => {
    await runVirtualCollectingErrors(async () => {
      const tasks = Array.from({ length: 10_000 }, (_, i) => createTask(async () => i));
      const results = await gather(...tasks);
      expect(results).toHaveLength(10_000);
      expect(results[9_999]).toBe(9_999);
    });
  });

  it("a task awaiting a gather shows it as what it waits on", async () => {
    await runVirtualCollectingErrors(async () => {
      const g = gather(new Future<number>(), new Future<number>());
      expect(g._waitLabel()).toBe("gather (2 awaitables)");
      g.cancel();
      await thrown(g);
    });
  });
});

describe("gather: property", () => {
  type Outcome = { kind: "ok"; value: number } | { kind: "error" } | { kind: "cancel" };
  const outcome = fc.oneof(
    fc.record({ kind: fc.constant("ok" as const), value: fc.integer() }),
    fc.record({ kind: fc.constant("error" as const) }),
    fc.record({ kind: fc.constant("cancel" as const) }),
  );
  const scenario = fc.array(outcome, { minLength: 1, maxLength: 8 }).chain((outcomes) =>
    fc.record({
      outcomes: fc.constant(outcomes),
      order: fc.shuffledSubarray(
        outcomes.map((_, i) => i),
        { minLength: outcomes.length, maxLength: outcomes.length },
      ),
      returnExceptions: fc.boolean(),
    }),
  );

  it("completes exactly when asyncio's rule says, with the value it says, and reports nothing", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ outcomes, order, returnExceptions }) => {
        const reported = await runVirtualCollectingErrors(async () => {
          const children = outcomes.map(() => new Future<number>());
          const errors = outcomes.map((_, i) => new Error(`child ${i}`));
          const g = gather(...children, { returnExceptions });
          let calls = 0;
          g.addDoneCallback(() => calls++);
          // The model: without returnExceptions, the first error or cancellation decides.
          let decidedAt = order.length - 1;
          if (!returnExceptions) {
            const first = order.findIndex((i) => (outcomes[i] as Outcome).kind !== "ok");
            if (first >= 0) decidedAt = first;
          }
          order.forEach((i, step) => {
            const o = outcomes[i] as Outcome;
            const child = children[i] as Future<number>;
            if (o.kind === "ok") child.setResult(o.value);
            else if (o.kind === "error") child.setException(errors[i]);
            else child.cancel(`cancel ${i}`);
            expect(g.done()).toBe(step >= decidedAt);
          });
          await tick();
          expect(calls).toBe(1);
          const decider = outcomes[order[decidedAt] as number] as Outcome;
          if (!returnExceptions && decider.kind === "error") {
            expect(g.exception()).toBe(errors[order[decidedAt] as number]);
          } else if (!returnExceptions && decider.kind === "cancel") {
            expect((g.exception() as CancelledError).reason).toBe(`cancel ${order[decidedAt]}`);
          } else {
            const result = g.result();
            outcomes.forEach((o, i) => {
              if (o.kind === "ok") expect(result[i]).toBe(o.value);
              else if (o.kind === "error") expect(result[i]).toBe(errors[i]);
              else expect((result[i] as CancelledError).reason).toBe(`cancel ${i}`);
            });
          }
        });
        expect(reported).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
