/**
 * What the combinators (`gather`, `shield`, `asCompleted`) accept, and how each kind becomes a
 * {@link Future} they can join through `_onDone` (asyncio's `ensure_future`).
 */

import { CancelledError, describe } from "../errors.js";
import { isThenable } from "../internal/thenable.js";
import { Future, PENDING } from "./future.js";
import { getRunningLoop, type Loop } from "./loop.js";
import { Task } from "./task.js";

/**
 * Something a combinator can wait for: a {@link Task} or {@link Future}, a promise (work that is
 * already running), or a function that starts the work (run as a task, like a coroutine).
 *
 * @example
 * const work: Awaitable<number>[] = [createTask(() => sleep(1, 1)), Promise.resolve(2), async () => 3];
 * console.log(await gather(...work)); // [1, 2, 3]
 */
export type Awaitable<T> = Future<T> | PromiseLike<T> | (() => T | PromiseLike<T>);

/**
 * The value an {@link Awaitable} produces.
 * @example
 * type S = AwaitedResult<() => Promise<string>>; // string
 */
export type AwaitedResult<A> =
  A extends Future<infer T>
    ? T
    : A extends PromiseLike<unknown>
      ? Awaited<A>
      : A extends () => infer R
        ? Awaited<R>
        : never;

/** True for what {@link toFuture} accepts. */
export function isAwaitable(value: unknown): boolean {
  return value instanceof Future || typeof value === "function" || isThenable(value);
}

/**
 * A future that follows a foreign promise. Cancelling it stops the waiting, not the promise
 * (nothing can stop a promise); what the promise does afterwards is ignored.
 */
class PromiseFuture<T> extends Future<T> {
  constructor(loop: Loop, promise: PromiseLike<T>) {
    super(loop);
    this._label = "promise";
    // Calling `then` directly costs one reaction on a native promise (Promise.resolve adds a job).
    void promise.then(
      (value) => {
        if (this._state === PENDING) this._resolve(value);
      },
      (error: unknown) => {
        if (this._state !== PENDING) return;
        if (error instanceof CancelledError) {
          // An awaitress operation inside the promise was cancelled: so is this future, with the
          // same error object.
          this._error = error;
          this.cancel(error.reason);
          return;
        }
        this._reject(error);
      },
    );
  }
}

/**
 * @internal The future for `aw`: a Future or Task as it is, a function run as a new task, a promise
 * followed by a new future. Throws TypeError for anything else, naming `where`.
 */
export function toFuture<T>(aw: Awaitable<T>, loop: Loop, where: string): Future<T> {
  if (aw instanceof Future) return aw;
  if (typeof aw === "function") return new Task(aw as () => T | PromiseLike<T>, {}, loop);
  if (isThenable(aw)) return new PromiseFuture(loop, aw);
  throw new TypeError(
    `Expected ${where} to be a Task, a Future, a promise or a function that starts the work, got ${describe(aw)}`,
  );
}

/**
 * The awaitress future for `aw` (asyncio's `ensure_future`): a {@link Future} or {@link Task} as
 * it is, a function run as a new task, a promise followed by a new future. Awaiting a foreign
 * promise through it makes the await an awaitress await point: cancelling the task makes it throw
 * {@link CancelledError} at once (the promise itself goes on; pass `task.signal` to stop it), the
 * trace shows what the task waits on — and in a browser, where there is no AsyncLocalStorage, it
 * is how a task awaits a foreign promise at all (see "In the browser" in the README).
 *
 * Throws `TypeError` for anything else.
 *
 * @example
 * const response = await ensureFuture(fetch(url, { signal: currentTask()!.signal }));
 */
export function ensureFuture<T>(aw: Future<T> | PromiseLike<T> | (() => T | PromiseLike<T>)): Future<Awaited<T>> {
  return toFuture(aw as Awaitable<Awaited<T>>, getRunningLoop(), "ensureFuture's argument");
}
