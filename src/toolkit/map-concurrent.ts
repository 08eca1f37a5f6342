/**
 * `mapConcurrent`: p-map's shape on awaitress tasks — a function over many items, at most
 * `concurrency` at a time, results in input order, items read lazily.
 */
import { getRunningLoop } from "../core/loop.js";
import { currentTask, type Task } from "../core/task.js";
import { ExceptionGroup, isCancelled } from "../errors.js";
import { Semaphore } from "../sync/semaphore.js";
import { TaskGroup } from "../task-group.js";
import { checkCount, checkFunction, checkOptions, checkSignal } from "./checks.js";
import type { ProgressListener } from "./progress.js";

/** Options of {@link mapConcurrent}. */
export interface MapConcurrentOptions {
  /**
   * The most calls of `fn` running at once, and so the most items read ahead of the results
   * (a positive integer, or `Infinity`).
   *
   * @default Infinity
   */
  readonly concurrency?: number;
  /**
   * `true`: the first error cancels the calls still running, stops reading items, and is thrown.
   * `false`: every item is mapped; if any failed, an `ExceptionGroup` of all their errors (in
   * input order) is thrown at the end.
   *
   * @default true
   */
  readonly stopOnError?: boolean;
  /** Cancels the calls running and stops reading; `mapConcurrent` rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Called after each call ends (and once at the end); `total` is known for arrays. */
  readonly onProgress?: ProgressListener;
}

/** The mapping function: `item`, its index in the input, and a signal aborted when its call must stop. */
export type Mapper<T, R> = (item: T, index: number, signal: AbortSignal) => R | PromiseLike<R>;

type AnyIterator<T> = Iterator<T> | AsyncIterator<T>;

function iteratorOf<T>(items: Iterable<T> | AsyncIterable<T>): { iterator: AnyIterator<T>; isAsync: boolean } {
  if (items !== null && typeof items === "object" && Symbol.asyncIterator in items) {
    return { iterator: (items as AsyncIterable<T>)[Symbol.asyncIterator](), isAsync: true };
  }
  if (items !== null && items !== undefined && typeof (items as Iterable<T>)[Symbol.iterator] === "function") {
    return { iterator: (items as Iterable<T>)[Symbol.iterator](), isAsync: false };
  }
  throw new TypeError("mapConcurrent expects an array, an iterable or an async iterable of items first");
}

/**
 * Maps `fn` over `items` with at most `concurrency` calls at once and resolves to the results in
 * input order (p-map's contract). Items come from an array, an iterable or an async iterable and
 * are read lazily: the next item is read only when a call may start, so at most `concurrency`
 * items are ever read ahead of the results (backpressure on an endless generator). Each call runs
 * as a task; `fn` gets `(item, index, signal)`.
 *
 * The first error cancels the other calls, stops reading, and is thrown as it is (not wrapped);
 * with `stopOnError: false` every item is mapped and the errors come together as an
 * {@link ExceptionGroup}. Aborting `signal`, or cancelling the task that awaits
 * `mapConcurrent`, cancels the calls too. Either way the iterator is closed (`return()`) when
 * reading stops early, and no call outlives `mapConcurrent`.
 *
 * Errors: `TypeError` for items that are not iterable, a `fn` that is not a function or bad
 * options; `RangeError` for a `concurrency` that is not a positive integer or `Infinity`.
 *
 * @example
 * import { mapConcurrent, run, sleep, time } from "awaitress";
 * await run(async () => {
 *   const sizes = await mapConcurrent([3, 1, 2], async (n) => { await sleep(n); return n * 10 }, { concurrency: 2 });
 *   console.log(sizes, time()); // [30, 10, 20] 3
 * }, { clock: "virtual" });
 */
export async function mapConcurrent<T, R>(
  items: Iterable<T> | AsyncIterable<T>,
  fn: Mapper<T, R>,
  options?: MapConcurrentOptions,
): Promise<Awaited<R>[]> {
  const { iterator, isAsync } = iteratorOf(items);
  checkFunction(fn, "fn", "async (item, index, signal) => work(item, signal)");
  const o = checkOptions<MapConcurrentOptions>(options, "mapConcurrent()");
  const concurrency =
    o.concurrency === undefined ? Number.POSITIVE_INFINITY : checkCount(o.concurrency, "concurrency", true);
  const stopOnError = o.stopOnError === undefined ? true : o.stopOnError === true;
  const signal = checkSignal(o.signal, "signal");
  const onProgress =
    o.onProgress === undefined ? undefined : checkFunction<ProgressListener>(o.onProgress, "onProgress", "bar.update");
  signal?.throwIfAborted();

  const loop = getRunningLoop();
  const startedAt = loop.time();
  const total = Array.isArray(items) ? items.length : undefined;
  const results: Awaited<R>[] = [];
  const errors: { index: number; error: unknown }[] = [];
  const slots = new Semaphore(Number.isFinite(concurrency) ? concurrency : Number.MAX_SAFE_INTEGER);
  let exhausted = false;
  let done = 0;
  let inFlight = 0;
  let onAbort: (() => void) | undefined;

  const report = (finished: boolean): void => {
    if (onProgress === undefined) return;
    const elapsed = loop.time() - startedAt;
    const ended = done + errors.length;
    onProgress({
      done,
      failed: errors.length,
      inFlight,
      queued: 0,
      retried: 0,
      total,
      rate: elapsed > 0 ? ended / elapsed : 0,
      elapsed,
      finished,
    });
  };

  const call = async (item: T, index: number): Promise<void> => {
    const task = currentTask() as Task;
    try {
      results[index] = await fn(item, index, task.signal);
      done++;
    } catch (error) {
      if (isCancelled(error) && task.cancelling() > 0) throw error;
      if (stopOnError) throw error;
      errors.push({ index, error });
    } finally {
      inFlight--;
      slots.release();
      report(false);
    }
  };

  const group = new TaskGroup();
  try {
    await group.run(async (tg) => {
      if (signal !== undefined) {
        onAbort = () => tg.cancel();
        signal.addEventListener("abort", onAbort, { once: true });
      }
      for (let index = 0; ; index++) {
        await slots.acquire();
        const next = isAsync ? await (iterator as AsyncIterator<T>).next() : (iterator as Iterator<T>).next();
        if (next.done === true) {
          exhausted = true;
          return;
        }
        inFlight++;
        const item = next.value;
        tg.createTask(() => call(item, index), { name: `mapConcurrent #${index}` });
      }
    });
  } catch (error) {
    if (stopOnError && error instanceof ExceptionGroup && !signal?.aborted) throw error.exceptions[0];
    throw error;
  } finally {
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    if (!exhausted) await iterator.return?.();
    report(true);
  }
  if (signal?.aborted) throw signal.reason;
  if (errors.length > 0) {
    errors.sort((a, b) => a.index - b.index);
    const n = errors.length;
    throw new ExceptionGroup(
      `mapConcurrent: ${n} item${n === 1 ? "" : "s"} failed`,
      errors.map((e) => e.error),
    );
  }
  return results;
}
