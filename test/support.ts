/**
 * Shared test support: the small helpers the conformance suites use to drive the loop on the
 * virtual clock and to look at what something threw. Not a test file (vitest only collects
 * `*.test.ts`).
 */
import { type ErrorContext, run, sleep } from "../src/node.js";
import { runVirtual as runVirtualWithReport } from "../src/testing/index.js";

/**
 * One pass of the loop for the calling task: the spec's "tick" (`await asyncio.sleep(0)`).
 *
 * @example
 * createTask(worker);
 * await tick(); // worker has run to its first await
 */
export const tick = (): Promise<void> => sleep(0);

/**
 * A few passes of the loop, so woken tasks run through their nested awaits (see DESIGN.md on
 * tick counts). Suites whose wake-ups go through more awaits pass a larger count.
 *
 * @example
 * ev.set();
 * await settle(); // every waiter has returned from ev.wait()
 */
export async function settle(passes = 5): Promise<void> {
  for (let i = 0; i < passes; i++) await sleep(0);
}

/**
 * `run()` options for the virtual clock, to spread into options of one's own.
 *
 * @example
 * await run(main, { ...virtualClock, shuffle: 7 });
 */
export const virtualClock = { clock: "virtual" } as const;

/**
 * Runs `main` on the virtual clock with the loop's default error handler; resolves to what
 * `main` returned.
 *
 * @example
 * expect(await runVirtual(async () => 42)).toBe(42);
 */
export function runVirtual<T>(main: () => Promise<T>): Promise<T> {
  return run(main, virtualClock);
}

/**
 * Runs `main` on the virtual clock; resolves to the errors the loop reported (its `onError`
 * contexts) instead of logging them: awaitress/testing's `runVirtual(main).errors`.
 *
 * @example
 * const reported = await runVirtualCollectingErrors(async () => {
 *   createTask(() => Promise.reject(new Error("lost")));
 * });
 * expect(reported).toHaveLength(1);
 */
export async function runVirtualCollectingErrors(main: () => Promise<void>): Promise<readonly ErrorContext[]> {
  return (await runVirtualWithReport(main)).errors;
}

/**
 * What awaiting `aw` threw; given a function, what calling it and awaiting its result threw
 * (a synchronous throw counts). Fails the test if nothing was thrown.
 *
 * @example
 * expect(await thrown(task)).toBeInstanceOf(CancelledError);
 * expect(await thrown(() => timeout(0.01, () => sleep(1)))).toBeInstanceOf(TimeoutError);
 */
export async function thrown(aw: PromiseLike<unknown> | (() => PromiseLike<unknown>)): Promise<unknown> {
  try {
    await (typeof aw === "function" ? aw() : aw);
  } catch (e) {
    return e;
  }
  throw new Error(
    typeof aw === "function" ? "expected an error, but the call returned" : "expected an error, but it resolved",
  );
}

/**
 * What calling `fn` threw, synchronously; fails the test if it returned.
 *
 * @example
 * expect(thrownBy(() => fut.result())).toBeInstanceOf(InvalidStateError);
 */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error, but the call returned");
}

/**
 * How `task` ended: what it returned, or what it threw (the error is returned, not thrown).
 *
 * @example
 * queue.shutdown(true);
 * expect(await outcome(getter)).toBeInstanceOf(QueueShutDown);
 */
export async function outcome(task: PromiseLike<unknown>): Promise<unknown> {
  try {
    return await task;
  } catch (e) {
    return e;
  }
}

/**
 * How each task ended, in order: asyncio's `gather(*tasks, return_exceptions=True)`. Awaits the
 * tasks one after another.
 *
 * @example
 * const [r1, r2] = await outcomes([t1, t2]);
 * expect(r2).toBeInstanceOf(CancelledError);
 */
export async function outcomes(tasks: readonly PromiseLike<unknown>[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const t of tasks) {
    try {
      out.push(await t);
    } catch (e) {
      out.push(e);
    }
  }
  return out;
}

/** Stand-in for Python's ZeroDivisionError in ported upstream tests. */
export class ZeroDivisionError extends Error {}
