/**
 * `shield`: protect an operation from the cancellation of whoever waits for it (asyncio's
 * `shield`).
 */

import { type Awaitable, toFuture } from "./core/ensure-future.js";
import { CANCELLED, Future, REJECTED } from "./core/future.js";
import { getRunningLoop, type Loop } from "./core/loop.js";

/** The outer future of a shield: it follows the inner one until it is cancelled itself. */
class ShieldFuture<T> extends Future<T> {
  constructor(
    loop: Loop,
    private readonly inner: Future<T>,
  ) {
    super(loop);
    inner._onDone(this.onInnerDone);
  }

  private readonly onInnerDone = (inner: Future<T>): void => {
    if (this.done()) return;
    if (inner._state === CANCELLED) {
      this.cancel(inner._cancelMessage);
    } else if (inner._state === REJECTED) {
      // Passed on to whoever awaits the outer future: the inner error counts as retrieved.
      inner._retrieved = true;
      this._reject(inner._error);
    } else {
      this._resolve(inner._value as T);
    }
  };

  /**
   * Cancels the outer future only. The inner operation keeps running; the outer stops listening
   * to it, so an error it raises later is nobody's: the loop reports it as never retrieved
   * (once, however many shields were cancelled), unless someone else retrieves it.
   */
  override cancel(message?: unknown): boolean {
    if (!super.cancel(message)) return false;
    if (!this.inner.done()) this.inner._offDone(this.onInnerDone);
    return true;
  }

  /** @internal */
  override _waitLabel(): string {
    return this._label ?? `shield(${this.inner._waitLabel()})`;
  }

  override describeSelf(): string {
    return "The future returned by shield()";
  }
}

/**
 * Waits for `aw` without letting a cancellation through to it (asyncio's `shield`). Returns an
 * outer {@link Future} that follows `aw`: its result, its error, its cancellation. Cancelling the
 * outer future, or the task awaiting it, cancels only the outer future: the task gets
 * {@link CancelledError} at once and `aw` goes on running. If `aw` then fails, its error is
 * reported through the loop's exception handler (`run`'s `onError`) unless something else
 * retrieves it.
 *
 * `aw` is a {@link Task}, a {@link Future}, a promise, or a function that starts the work (run as
 * a task). If it is already done, it is returned as it is. Throws `TypeError` for anything else.
 *
 * Keep a reference to the inner task if you want its result after a cancellation: the shield
 * does not give it to you.
 *
 * @example
 * import { createTask, isCancelled, run, shield, sleep, time } from "awaitress";
 * await run(async () => {
 *   const save = createTask(() => sleep(2, "saved")); // must not be interrupted
 *   const request = createTask(() => shield(save));
 *   await sleep(1);
 *   request.cancel();
 *   try { await request } catch (e) { console.log(isCancelled(e), time()) } // true 1
 *   console.log(await save, time()); // "saved" 2
 * }, { clock: "virtual" });
 */
export function shield<T>(aw: Awaitable<T>): Future<Awaited<T>> {
  const loop = getRunningLoop();
  const inner = toFuture(aw, loop, "shield's argument") as Future<Awaited<T>>;
  if (inner.done()) return inner;
  return new ShieldFuture(inner._loop, inner);
}
