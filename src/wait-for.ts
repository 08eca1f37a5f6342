/**
 * `waitFor`: wait for one awaitable with a timeout (asyncio 3.12's `wait_for`, built on
 * {@link timeout}).
 */

import { type Awaitable, isAwaitable, toFuture } from "./core/ensure-future.js";
import { Future } from "./core/future.js";
import { getRunningLoop } from "./core/loop.js";
import { CancelledError, TimeoutError } from "./errors.js";
import { checkSeconds } from "./sleep.js";
import { timeout } from "./timeout.js";

/** asyncio's `_cancel_and_wait`: cancels `future` and waits until it is done (it may refuse). */
async function cancelAndWait(future: Future<unknown>): Promise<void> {
  const waiter = new Future<void>(future._loop);
  waiter._label = `cancellation of ${future._waitLabel()}`;
  const release = (): void => {
    if (!waiter.done()) waiter._resolve(undefined);
  };
  future._onDone(release);
  try {
    future.cancel();
    await waiter;
  } finally {
    future._offDone(release);
  }
}

/**
 * Waits for `aw` and returns its result, or throws {@link TimeoutError} once `seconds` have passed
 * (asyncio 3.12+'s `wait_for`). On timeout the awaited work is cancelled and waited for, so the
 * `TimeoutError` comes after its cleanup; its `cause` is the {@link CancelledError}. `null` waits
 * without a limit.
 *
 * `aw` may be:
 * - a function that starts the work (`() => fetchPage(url)`): it runs in the calling task, as
 *   asyncio awaits a coroutine; with `seconds <= 0` it is never started;
 * - a {@link Task} or {@link Future}: cancelled on timeout, and when the caller is cancelled
 *   (wrap it in `shield()` to keep it running);
 * - any other promise: it cannot be interrupted, so on timeout `waitFor` stops waiting for it and
 *   it keeps running; pass a function and {@link Task.signal} to stop it too.
 *
 * Semantics of asyncio 3.12+: built on {@link timeout}, so work that catches the cancellation and
 * returns a value wins (no `TimeoutError`), and an error raised while the work is being cancelled
 * propagates instead of `TimeoutError`. With `seconds <= 0`: an awaitable already done gives its
 * result; otherwise it is cancelled, waited for, and `TimeoutError` is thrown (unless it still
 * produced a result).
 *
 * Throws `TypeError` if `seconds` is not a number or null or `aw` is not awaitable, `RangeError`
 * if `seconds` is NaN.
 *
 * @example
 * import { createTask, run, sleep, TimeoutError, waitFor } from "awaitress";
 * await run(async () => {
 *   console.log(await waitFor(() => sleep(1, "fast"), 5)); // "fast"
 *   const slow = createTask(() => sleep(60, "slow"));
 *   try {
 *     await waitFor(slow, 5);
 *   } catch (e) {
 *     console.log(e instanceof TimeoutError, slow.cancelled()); // true true
 *   }
 * }, { clock: "virtual" });
 */
export async function waitFor<T>(aw: Awaitable<T>, seconds: number | null): Promise<T> {
  if (seconds !== null) checkSeconds(seconds, "`seconds`");
  if (!isAwaitable(aw)) toFuture(aw, getRunningLoop(), "`aw`"); // throws the TypeError
  if (seconds !== null && seconds <= 0) {
    // asyncio's ensure_future: a function becomes a task that is cancelled before it starts.
    const future = toFuture(aw, getRunningLoop(), "`aw`");
    if (future.done()) return future.result();
    await cancelAndWait(future);
    try {
      return future.result();
    } catch (error) {
      if (error instanceof CancelledError) {
        throw new TimeoutError(
          `waitFor timed out at once: the timeout was ${seconds} seconds and the work was not done`,
          { cause: error },
        );
      }
      throw error;
    }
  }
  if (typeof aw === "function") return timeout(seconds, () => aw());
  // A promise is followed by a future, so waiting for it can stop even though it cannot.
  const awaited = toFuture(aw, getRunningLoop(), "`aw`");
  return timeout(seconds, () => awaited);
}
