/**
 * `gather`: run awaitables concurrently and collect their results in argument order
 * (asyncio's `gather` and its `_GatheringFuture`).
 */

import { type Awaitable, type AwaitedResult, isAwaitable, toFuture } from "./core/ensure-future.js";
import { CANCELLED, FULFILLED, Future, PENDING, REJECTED, trampoline } from "./core/future.js";
import { getRunningLoop, type Loop } from "./core/loop.js";
import { CancelledError, describe } from "./errors.js";
import { isThenable } from "./internal/thenable.js";

/**
 * Options of {@link gather}, passed as its last argument: a plain object (not a promise, not a
 * function).
 *
 * @example
 * import { gather, run } from "awaitress";
 * await run(async () => {
 *   console.log(await gather(Promise.reject(new Error("x")), { returnExceptions: true })); // [Error: x]
 * });
 */
export interface GatherOptions {
  /**
   * Put errors (and the {@link CancelledError} of cancelled children) in the result array, in
   * place of the child's value, instead of failing the gather with the first one. Cancelling the
   * gather itself still fails it with `CancelledError`.
   * @default false
   * @example
   * const [a, b] = await gather(taskA, taskB, { returnExceptions: true }); // a: A | Error, b: B | Error
   */
  returnExceptions?: boolean;
}

/**
 * The result tuple of `gather(...aws)`: the value of each awaitable, in order.
 *
 * @example
 * type R = GatherResults<[Task<number>, () => Promise<string>]>; // [number, string]
 */
export type GatherResults<A extends readonly unknown[]> = { -readonly [K in keyof A]: AwaitedResult<A[K]> };

/**
 * The result tuple of `gather(...aws, { returnExceptions: true })`: a value or an error per slot.
 *
 * @example
 * type R = GatherSettledResults<[Task<number>]>; // [number | Error]
 */
export type GatherSettledResults<A extends readonly unknown[]> = {
  -readonly [K in keyof A]: AwaitedResult<A[K]> | Error;
};

/**
 * The future `gather` returns (asyncio's `_GatheringFuture`). Cancelling it cancels every child
 * that is not done yet; it then fails with `CancelledError` once the children have finished.
 */
class GatheringFuture<T> extends Future<T> {
  /** @internal One entry per argument: a duplicate argument appears twice, as the same future. */
  readonly _children: Future<unknown>[] = [];
  private finished = 0;
  private cancelRequested = false;
  private cancelReason: unknown = undefined;

  constructor(
    loop: Loop,
    private readonly total: number,
    private readonly returnExceptions: boolean,
  ) {
    super(loop);
  }

  /**
   * Cancels every child not done yet and returns whether any accepted (asyncio's rule: `false`
   * when every child is already done, even if the gather has not delivered its result yet).
   */
  override cancel(message?: unknown): boolean {
    if (this._state !== PENDING) return false;
    // Set first: a plain Future child completes (and calls _onChildDone) inside its cancel().
    this.cancelRequested = true;
    this.cancelReason = message;
    let accepted = false;
    for (const child of this._children) {
      if (child._state !== PENDING) continue;
      // A pending child accepts. Its cancel() runs on the trampoline, so gather(gather(...))
      // 100,000 deep cancels in a flat loop.
      accepted = true;
      trampoline(cancelChild, { child, message }, this._loop);
    }
    if (!accepted) this.cancelRequested = false;
    return accepted;
  }

  /** @internal Joins one child; registered with `_onDone` (synchronous, no promise per child). */
  readonly _onChildDone = (child: Future<unknown>): void => {
    this.finished++;
    if (this._state !== PENDING) {
      // The gather already failed: the error of a later child counts as seen (asyncio marks it).
      if (child._state === REJECTED) child._retrieved = true;
      return;
    }
    if (!this.returnExceptions) {
      if (child._state === CANCELLED) {
        this.failCancelled(child._cancelledError());
        return;
      }
      if (child._state === REJECTED) {
        child._retrieved = true;
        this._reject(child._error);
        return;
      }
    }
    if (this.finished === this.total) this.complete(child);
  };

  private complete(last: Future<unknown>): void {
    const children = this._children;
    const results: unknown[] = [];
    for (let i = 0; i < children.length; i++) {
      const child = children[i] as Future<unknown>;
      if (child._state === FULFILLED) {
        results.push(child._value);
      } else if (child._state === REJECTED) {
        child._retrieved = true;
        results.push(child._error);
      } else {
        results.push(child._cancelledError());
      }
    }
    if (this.cancelRequested) {
      // Cancelled with returnExceptions: the cancellation is still raised, not returned.
      this.failCancelled(last._state === CANCELLED ? last._cancelledError() : new CancelledError(this.cancelReason));
      return;
    }
    this._resolve(results as T);
  }

  /** Fails with a CancelledError, like asyncio (the gather is not `cancelled()` itself). */
  private failCancelled(error: CancelledError): void {
    // Cancellation is not an error to report if nobody awaits the gather.
    this._retrieved = true;
    this._reject(error);
  }

  /** @internal */
  override _waitLabel(): string {
    return this._label ?? `gather (${this.total} awaitable${this.total === 1 ? "" : "s"})`;
  }

  override describeSelf(): string {
    return "The future returned by gather()";
  }
}

function isOptions(value: unknown): value is GatherOptions {
  return typeof value === "object" && value !== null && !(value instanceof Future) && !isThenable(value);
}

/**
 * Runs the awaitables concurrently and resolves to their results in argument order (asyncio's
 * `gather`). Each argument is a {@link Task}, a {@link Future}, a promise, or a function that
 * starts the work (run as a task, like a coroutine). An argument given twice (the same object)
 * runs once and fills both slots. `gather()` with no arguments resolves to `[]`.
 *
 * - The first error (or cancelled child) fails the gather at once; the other children go on
 *   running, and their later errors count as retrieved. A cancelled child fails it with
 *   {@link CancelledError}.
 * - With `{ returnExceptions: true }` as the last argument, errors and the `CancelledError` of
 *   cancelled children fill their slots instead.
 * - Cancelling the returned future, or the task awaiting it, cancels every child. `cancel()`
 *   returns `false` when every child is already done. The gather then fails with
 *   `CancelledError`, even with `returnExceptions`. A promise cannot be stopped: cancelling
 *   only stops the waiting for it (pass `task.signal` to the API that made it).
 *
 * Throws `TypeError` synchronously, before starting anything, if an argument is not awaitable
 * or `returnExceptions` is not a boolean. JavaScript caps the arguments of a call (spreading
 * more than about 120,000 throws `RangeError: Maximum call stack size exceeded` on Node): join
 * larger collections with `await wait(tasks)` and read `task.result()`, or gather in batches.
 *
 * @example
 * import { createTask, gather, run, sleep } from "awaitress";
 * await run(async () => {
 *   const user = createTask(() => sleep(0.2, { name: "Ada" }));
 *   const [u, posts] = await gather(user, () => sleep(0.1, ["hello"])); // typed [{ name: string }, string[]]
 *   console.log(u.name, posts); // "Ada" ["hello"]
 *   const [bad, ok] = await gather(
 *     async () => { throw new Error("no") },
 *     () => sleep(0.1, "ok"),
 *     { returnExceptions: true },
 *   );
 *   console.log(bad instanceof Error, ok); // true "ok"
 * }, { clock: "virtual" });
 */
export function gather<A extends readonly Awaitable<unknown>[]>(...aws: A): Future<GatherResults<A>>;
export function gather<A extends readonly Awaitable<unknown>[]>(
  ...args: [...aws: A, options: GatherOptions & { returnExceptions: true }]
): Future<GatherSettledResults<A>>;
export function gather<A extends readonly Awaitable<unknown>[]>(
  ...args: [...aws: A, options: GatherOptions & { returnExceptions?: false | undefined }]
): Future<GatherResults<A>>;
export function gather<A extends readonly Awaitable<unknown>[]>(
  ...args: [...aws: A, options: GatherOptions]
): Future<GatherSettledResults<A>>;
export function gather(...args: unknown[]): Future<unknown[]> {
  let n = args.length;
  let returnExceptions = false;
  if (n > 0 && isOptions(args[n - 1])) {
    const options = args[n - 1] as GatherOptions;
    n--;
    if (options.returnExceptions !== undefined && typeof options.returnExceptions !== "boolean") {
      throw new TypeError(`Expected \`returnExceptions\` to be a boolean, got ${describe(options.returnExceptions)}`);
    }
    returnExceptions = options.returnExceptions === true;
  }
  for (let i = 0; i < n; i++) {
    if (!isAwaitable(args[i])) {
      const hint = isOptions(args[i]) ? " (an options object goes last)" : "";
      throw new TypeError(
        `Expected gather's argument ${i} to be a Task, a Future, a promise or a function that starts the work, got ${describe(args[i])}${hint}`,
      );
    }
  }
  const loop = getRunningLoop();
  const outer = new GatheringFuture<unknown[]>(loop, n, returnExceptions);
  if (n === 0) {
    outer._resolve([]);
    return outer;
  }
  const children = outer._children;
  // Futures need no identity map: a duplicate gets two listeners and fills two slots. Functions
  // and promises do (a function must run once), so the map exists only when one is passed.
  let started: Map<unknown, Future<unknown>> | undefined;
  for (let i = 0; i < n; i++) {
    const arg = args[i];
    let child: Future<unknown>;
    if (arg instanceof Future) {
      child = arg;
    } else {
      if (started === undefined) started = new Map();
      const known = started.get(arg);
      if (known === undefined) {
        child = toFuture(arg as Awaitable<unknown>, loop, `gather's argument ${i}`);
        started.set(arg, child);
      } else {
        child = known;
      }
    }
    children.push(child);
  }
  // Registered after every child exists, so a child already done sees the full list.
  for (let i = 0; i < n; i++) (children[i] as Future<unknown>)._onDone(outer._onChildDone);
  return outer;
}

function cancelChild(request: { readonly child: Future<unknown>; readonly message: unknown }): void {
  request.child.cancel(request.message);
}
