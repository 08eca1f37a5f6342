/**
 * `wait` and `asCompleted`: wait for some or all of a collection of tasks and futures without
 * collecting their results or raising their errors (asyncio's `wait` and `as_completed`).
 */
import type { TimerHandle } from "./clock/clock.js";
import { type Awaitable, isAwaitable, toFuture } from "./core/ensure-future.js";
import { Future, PENDING, REJECTED } from "./core/future.js";
import { getRunningLoop, type Loop } from "./core/loop.js";
import { describe, TimeoutError } from "./errors.js";
import { isThenable } from "./internal/thenable.js";
import { checkSeconds } from "./sleep.js";

/**
 * `returnWhen` for {@link wait}: return as soon as any task or future is done (or cancelled).
 * @example
 * const [done, pending] = await wait(tasks, { returnWhen: FIRST_COMPLETED });
 */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/**
 * `returnWhen` for {@link wait}: return when any one fails (a cancelled one does not count), or
 * when all are done.
 * @example
 * const [done, pending] = await wait(tasks, { returnWhen: FIRST_EXCEPTION });
 */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/**
 * `returnWhen` for {@link wait}: return when all are done (the default).
 * @example
 * const [done] = await wait(tasks, { returnWhen: ALL_COMPLETED });
 */
export const ALL_COMPLETED = "ALL_COMPLETED";

/**
 * When {@link wait} returns: {@link FIRST_COMPLETED}, {@link FIRST_EXCEPTION} or {@link ALL_COMPLETED}.
 * @example
 * const when: ReturnWhen = failFast ? FIRST_EXCEPTION : ALL_COMPLETED;
 */
export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

/**
 * Options of {@link wait}.
 * @example
 * const [done, pending] = await wait(tasks, { timeout: 5, returnWhen: FIRST_EXCEPTION });
 */
export interface WaitOptions {
  /**
   * Seconds to wait at most. When it passes, `wait` returns what is done so far; it neither
   * raises nor cancels anything. `undefined` or `null` waits without limit.
   * @default undefined
   */
  timeout?: number | null | undefined;
  /**
   * When to return: {@link FIRST_COMPLETED}, {@link FIRST_EXCEPTION} or {@link ALL_COMPLETED}.
   * @default ALL_COMPLETED
   */
  returnWhen?: ReturnWhen | undefined;
}

/**
 * Options of {@link asCompleted}.
 * @example
 * for await (const t of asCompleted(tasks, { timeout: 10 })) console.log(await t);
 */
export interface AsCompletedOptions {
  /**
   * Seconds after which the iteration throws {@link TimeoutError} for the next awaitable not yet
   * done. Nothing is cancelled. `undefined` or `null` waits without limit.
   * @default undefined
   */
  timeout?: number | null | undefined;
}

/**
 * The value of a task or future.
 * @example
 * type N = FutureValue<Task<number>>; // number
 */
export type FutureValue<F> = F extends Future<infer T> ? T : never;

function checkCollection(aws: unknown, fn: string): Iterable<unknown> {
  if (aws instanceof Future || typeof aws === "function" || isThenable(aws)) {
    const what = aws instanceof Future ? `a ${aws[Symbol.toStringTag]}` : describe(aws);
    throw new TypeError(
      `${fn} expects an array (or other iterable) of tasks, got ${what}: pass [task] rather than task`,
    );
  }
  if (aws === null || typeof aws !== "object" || typeof (aws as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`${fn} expects an array (or other iterable) of tasks, got ${describe(aws)}`);
  }
  return aws as Iterable<unknown>;
}

function checkOptionsObject(options: unknown, fn: string): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`Expected ${fn}'s options to be an object, got ${describe(options)}`);
  }
}

function checkTimeout(timeout: unknown): number | undefined {
  if (timeout === undefined || timeout === null) return undefined;
  return checkSeconds(timeout, "`timeout`");
}

function releaseWaiter(waiter: Future<void>): void {
  if (waiter._state === PENDING) waiter._resolve(undefined);
}

/** The timeout releases on the next pass, so a task finishing at the same instant counts as done. */
function releaseWaiterSoon(waiter: Future<void>): void {
  waiter._loop.callSoon(releaseWaiter, waiter);
}

/**
 * Waits until the given tasks and futures are done, or some of them (`returnWhen`), or until
 * `timeout` seconds pass, and resolves to `[done, pending]`: two sets of the same objects
 * (asyncio's `wait`). Duplicates count once. It never raises the tasks' errors (look at
 * `task.exception()` in `done`) and never cancels anything: not on timeout, and not when the
 * task calling `wait` is cancelled (that task gets {@link CancelledError}; the others run on).
 *
 * - `returnWhen: FIRST_COMPLETED` returns when any is done; `FIRST_EXCEPTION` when any fails
 *   (a cancelled one does not count), or all are done; `ALL_COMPLETED` (default) when all are.
 * - Everything done by the time `wait` resumes is in `done`, not only what woke it.
 *
 * Rejects with `TypeError` if `aws` is not an iterable (a single task or a promise: pass an
 * array) or holds something other than a Task or Future (wrap work in `createTask` first), and
 * with `RangeError` if it is empty or `returnWhen` is unknown.
 *
 * @example
 * import { createTask, FIRST_COMPLETED, run, sleep, wait } from "awaitress";
 * await run(async () => {
 *   const tasks = [3, 1, 2].map((s) => createTask(() => sleep(s, s)));
 *   const [done, pending] = await wait(tasks, { timeout: 5, returnWhen: FIRST_COMPLETED });
 *   for (const t of done) console.log(t.exception() ?? t.result()); // 1
 *   for (const t of pending) t.cancel(); // wait cancels nothing itself
 * }, { clock: "virtual" });
 */
export async function wait<F extends Future<unknown>>(
  aws: Iterable<F>,
  options: WaitOptions = {},
): Promise<[done: Set<F>, pending: Set<F>]> {
  const items = checkCollection(aws, "wait()");
  checkOptionsObject(options, "wait()");
  const timeout = checkTimeout(options.timeout);
  const returnWhen = options.returnWhen ?? ALL_COMPLETED;
  const fs = new Set<F>();
  let badPosition = -1;
  let bad: unknown;
  let i = 0;
  for (const f of items) {
    if (badPosition < 0 && !(f instanceof Future)) {
      badPosition = i;
      bad = f;
    }
    fs.add(f as F);
    i++;
  }
  if (fs.size === 0) {
    throw new RangeError("wait() needs at least one task or future, got an empty collection");
  }
  if (returnWhen !== FIRST_COMPLETED && returnWhen !== FIRST_EXCEPTION && returnWhen !== ALL_COMPLETED) {
    throw new RangeError(
      `Expected \`returnWhen\` to be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got ${describe(returnWhen)}`,
    );
  }
  if (badPosition >= 0) {
    const fix =
      typeof bad === "function"
        ? ": start it with createTask(fn) and pass the task"
        : isThenable(bad)
          ? ": start it with createTask(() => promise) and pass the task"
          : "";
    throw new TypeError(`wait() takes Tasks and Futures, got ${describe(bad)} at position ${badPosition}${fix}`);
  }

  const loop = getRunningLoop();
  const waiter = new Future<void>(loop);
  waiter._label = "wait";
  let counter = fs.size;
  const onDone = (f: Future<unknown>): void => {
    counter--;
    if (counter <= 0 || returnWhen === FIRST_COMPLETED) {
      releaseWaiter(waiter);
    } else if (returnWhen === FIRST_EXCEPTION && f._state === REJECTED) {
      // asyncio looks at the error here (`f.exception()`), which marks it retrieved.
      f._retrieved = true;
      releaseWaiter(waiter);
    }
  };
  for (const f of fs) f._onDone(onDone);
  const timer: TimerHandle | undefined =
    timeout !== undefined && waiter._state === PENDING ? loop.callLater(timeout, releaseWaiterSoon, waiter) : undefined;
  try {
    await waiter;
  } finally {
    if (timer !== undefined) loop.clock.cancel(timer);
    for (const f of fs) f._offDone(onDone);
  }
  const done = new Set<F>();
  const pending = new Set<F>();
  for (const f of fs) {
    if (f._state === PENDING) pending.add(f);
    else done.add(f);
  }
  return [done, pending];
}

/**
 * What {@link asCompleted} returns: iterate it with `for await` to get each task or future as it
 * completes, or with a plain `for` to get one promise of a result per awaitable, resolving in
 * completion order.
 *
 * @example
 * const iterator = asCompleted(tasks);
 * const first = await iterator.next(); // { done: false, value: <the first task to finish> }
 */
export class AsCompletedIterator<F extends Future<unknown>>
  implements AsyncIterableIterator<F, undefined, undefined>, Iterable<Promise<FutureValue<F>>>
{
  /** Futures not done yet. */
  private readonly todo: Set<F>;
  /** Done futures not handed out yet, in completion order, from `head`. */
  private completed: F[] = [];
  private head = 0;
  /**
   * next() calls waiting for a completion, FIFO; resolved with `undefined` on timeout. They
   * resolve to an iterator result, never to the future itself: a promise resolved with a
   * future would adopt the future's value.
   */
  private readonly consumers: Future<IteratorYieldResult<F> | undefined>[] = [];
  /** Awaitables not yet requested by next() (asyncio's `_todo_left`). */
  private left: number;
  private readonly total: number;
  private timer: TimerHandle | undefined = undefined;
  private timedOut = false;
  /** How many were not done when the timeout passed. */
  private notDoneAtTimeout = 0;

  /** @internal Use {@link asCompleted}. */
  constructor(
    private readonly loop: Loop,
    futures: Set<F>,
    private readonly timeout: number | undefined,
  ) {
    this.todo = futures;
    this.total = futures.size;
    this.left = futures.size;
    for (const f of futures) f._onDone(this.onDone);
    if (this.todo.size > 0 && timeout !== undefined) {
      this.timer = loop.callLater(
        timeout,
        AsCompletedIterator.onTimeout,
        this as unknown as AsCompletedIterator<Future<unknown>>,
      );
    }
  }

  /** The next task or future to complete; throws {@link TimeoutError} once the timeout passed. */
  async next(): Promise<IteratorResult<F, undefined>> {
    if (this.left === 0) return { done: true, value: undefined };
    this.left--;
    return this.waitForOne();
  }

  /** Stops listening (a `break` out of `for await` calls it). Nothing is cancelled. */
  async return(): Promise<IteratorResult<F, undefined>> {
    this.stop();
    this.left = 0;
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * Python's plain-`for` form: one promise per awaitable, the first resolving to the result of
   * the first to complete (or rejecting with its error), and so on.
   */
  [Symbol.iterator](): Iterator<Promise<FutureValue<F>>, undefined> {
    return {
      next: (): IteratorResult<Promise<FutureValue<F>>, undefined> => {
        if (this.left === 0) return { done: true, value: undefined };
        this.left--;
        return { done: false, value: this.resultOfNext() };
      },
    };
  }

  private async resultOfNext(): Promise<FutureValue<F>> {
    const next = await this.waitForOne();
    return next.value.result() as FutureValue<F>;
  }

  private async waitForOne(): Promise<IteratorYieldResult<F>> {
    if (this.head < this.completed.length) return { done: false, value: this.takeCompleted() };
    if (this.timedOut) throw this.timeoutError();
    const consumer = new Future<IteratorYieldResult<F> | undefined>(this.loop);
    consumer._label = "asCompleted";
    this.consumers.push(consumer);
    let next: IteratorYieldResult<F> | undefined;
    try {
      next = await consumer;
    } catch (error) {
      // The consuming task was cancelled while it waited: it took nothing, so the awaitable it
      // would have received stays available to a later next().
      const i = this.consumers.indexOf(consumer);
      if (i >= 0) this.consumers.splice(i, 1);
      this.left++;
      throw error;
    }
    if (next === undefined) throw this.timeoutError();
    return next;
  }

  private takeCompleted(): F {
    const f = this.completed[this.head] as F;
    this.head++;
    if (this.head === this.completed.length) {
      this.completed = [];
      this.head = 0;
    }
    return f;
  }

  private readonly onDone = (f: F): void => {
    this.todo.delete(f);
    if (this.todo.size === 0 && this.timer !== undefined) {
      this.loop.clock.cancel(this.timer);
      this.timer = undefined;
    }
    while (this.consumers.length > 0) {
      const consumer = this.consumers.shift() as Future<IteratorYieldResult<F> | undefined>;
      if (consumer._state === PENDING) {
        consumer._resolve({ done: false, value: f });
        return;
      }
    }
    this.completed.push(f);
  };

  private static onTimeout(it: AsCompletedIterator<Future<unknown>>): void {
    it.timer = undefined;
    it.timedOut = true;
    it.notDoneAtTimeout = it.todo.size;
    it.stop();
    // Waiting consumers exist only when nothing completed is queued: each gets the timeout.
    const consumers = it.consumers.splice(0);
    for (const consumer of consumers) {
      if (consumer._state === PENDING) consumer._resolve(undefined);
    }
  }

  private stop(): void {
    if (this.timer !== undefined) {
      this.loop.clock.cancel(this.timer);
      this.timer = undefined;
    }
    for (const f of this.todo) f._offDone(this.onDone);
    this.todo.clear();
  }

  private timeoutError(): TimeoutError {
    return new TimeoutError(
      `asCompleted() timed out after ${this.timeout}s with ${this.notDoneAtTimeout} of ${this.total} awaitables not done`,
    );
  }
}

/**
 * Yields the given tasks and futures in the order they complete (asyncio's `as_completed`,
 * Python 3.13 form): `for await (const t of asCompleted(tasks))` gives back the original objects,
 * done, so `await t` or `t.result()` reads each outcome without waiting. Promises and functions
 * are wrapped first (a function runs as a task, a promise is followed by a future), and those
 * wrappers are what is yielded. Duplicates count once. Nothing is cancelled, ever.
 *
 * With `timeout`, once that many seconds pass the iteration throws {@link TimeoutError} instead
 * of yielding an awaitable not yet done (those already done are still yielded first).
 *
 * The result is also a plain iterable of promises, like Python's `for f in as_completed(...)`:
 * each promise resolves to the next result in completion order.
 *
 * TypeScript types a `for await` variable as the awaited element (it assumes async iterators
 * yield settled values), so there `t` shows as the value type although it is the task: `await t`
 * is right either way. `iterator.next()` is typed exactly.
 *
 * Throws `TypeError` synchronously if `aws` is not an iterable (a single task or promise: pass
 * an array) or holds something that is not awaitable.
 *
 * @example
 * import { asCompleted, createTask, run, sleep } from "awaitress";
 * await run(async () => {
 *   const tasks = [3, 1, 2].map((s) => createTask(() => sleep(s, `slept ${s}s`)));
 *   for await (const t of asCompleted(tasks, { timeout: 10 })) {
 *     console.log(await t); // "slept 1s", then "slept 2s", then "slept 3s"
 *   }
 *   for (const next of asCompleted([() => sleep(2, "b"), () => sleep(1, "a")])) {
 *     console.log(await next); // "a", then "b"
 *   }
 * }, { clock: "virtual" });
 */
export function asCompleted<F extends Future<unknown>>(
  aws: Iterable<F>,
  options?: AsCompletedOptions,
): AsCompletedIterator<F>;
export function asCompleted<T>(
  aws: Iterable<Awaitable<T>>,
  options?: AsCompletedOptions,
): AsCompletedIterator<Future<Awaited<T>>>;
export function asCompleted(
  aws: Iterable<Awaitable<unknown>>,
  options: AsCompletedOptions = {},
): AsCompletedIterator<Future<unknown>> {
  const items = checkCollection(aws, "asCompleted()");
  checkOptionsObject(options, "asCompleted()");
  const timeout = checkTimeout(options.timeout);
  const loop = getRunningLoop();
  const unique = new Set<unknown>();
  let i = 0;
  for (const aw of items) {
    // Checked before anything starts, so a bad item does not leave tasks running.
    if (!isAwaitable(aw)) {
      throw new TypeError(
        `Expected asCompleted's item ${i} to be a Task, a Future, a promise or a function that starts the work, got ${describe(aw)}`,
      );
    }
    unique.add(aw);
    i++;
  }
  const futures = new Set<Future<unknown>>();
  for (const aw of unique) futures.add(toFuture(aw as Awaitable<unknown>, loop, "asCompleted's item"));
  return new AsCompletedIterator(loop, futures, timeout);
}
